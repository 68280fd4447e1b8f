"""What every query module shares: the engine, and one short-lived session per call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlmodel import Session


class StoreBase:
    """The base of the query classes `Store` combines. Each call opens its own session and returns plain
    records, so callers (and worker threads) never share a live session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session
