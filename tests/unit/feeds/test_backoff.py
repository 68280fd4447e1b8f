"""feed_backoff: how long a failing feed rests."""

from __future__ import annotations

from datetime import timedelta

from monitor.feeds.backoff import feed_backoff

FIVE_MIN = timedelta(minutes=5)
CAP = timedelta(hours=6)


def test_backoff_doubles_per_failure_and_stops_at_the_cap() -> None:
    """Transient failures wait 5, 10, 20 ... minutes, never more than the cap."""
    waits = [feed_backoff(FIVE_MIN, n, cap=CAP, permanent=False, retry_after=None) for n in (1, 2, 3, 10, 40)]
    assert waits == [FIVE_MIN, 2 * FIVE_MIN, 4 * FIVE_MIN, CAP, CAP]


def test_permanent_failures_back_off_harder_and_retry_after_is_honoured() -> None:
    """A 404 waits four times longer; a Retry-After longer than the backoff wins."""
    assert feed_backoff(FIVE_MIN, 1, cap=CAP, permanent=True, retry_after=None) == 4 * FIVE_MIN
    assert feed_backoff(FIVE_MIN, 1, cap=CAP, permanent=False, retry_after=3600) == timedelta(hours=1)
    assert feed_backoff(FIVE_MIN, 1, cap=CAP, permanent=False, retry_after=10) == FIVE_MIN
    assert feed_backoff(FIVE_MIN, 1, cap=CAP, permanent=False, retry_after=999_999_999_999) == CAP
