"""The one fake clock of the test suite: time stands still until a test moves it, so no test sleeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2026, 1, 15, 6, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """Satisfies `monitor.core.clock.Clock`; `at` may be set directly or moved with `advance`."""

    at: datetime = DEFAULT_START

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> datetime:
        self.at += delta
        return self.at
