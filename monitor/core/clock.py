"""Injectable time source, so that scheduling and backoff are testable without sleeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class SetClock:
    """A clock that stands where it was last set: `replay` sets it to each item's publication time."""

    at: datetime

    def now(self) -> datetime:
        return self.at


def as_utc(value: datetime | None) -> datetime | None:
    """Databases such as SQLite hand back naive datetimes; everything here is UTC."""
    if value is None or value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
