"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.feed_server import feed_server
from tests.integration.routing_world import World


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    """A routing world on a fresh database (SQLite file or PostgreSQL) with its own feed server."""
    with feed_server() as feeds:
        yield World(tmp_path, feeds, database_url)
