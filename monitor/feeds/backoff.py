"""How long a failing feed rests before the next poll."""

from __future__ import annotations

from datetime import timedelta


def feed_backoff(
    interval: timedelta, streak: int, *, cap: timedelta, permanent: bool, retry_after: float | None
) -> timedelta:
    """Double the wait with each failure in a row (four times longer for permanent errors), never
    beyond `cap`, and never sooner than the server's Retry-After (itself capped: it is untrusted input)."""
    delay = min(interval * (2 ** min(streak - 1, 20)) * (4 if permanent else 1), cap)
    if retry_after:
        delay = max(delay, timedelta(seconds=min(retry_after, cap.total_seconds())))
    return delay
