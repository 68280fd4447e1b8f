"""Outbox retry policy: full-jitter backoff under a cap, and when a failed delivery is dead-lettered."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerts.retry import RetryPolicy, after_failure, exhausted_reason, retry_delay

NOW = datetime(2020, 9, 27, 12, 0, tzinfo=UTC)
BASE, CAP = timedelta(seconds=30), timedelta(hours=1)
POLICY = RetryPolicy(max_attempts=5, max_age=timedelta(hours=24), base=BASE, cap=CAP)


@pytest.mark.parametrize(
    ("attempts", "ceiling"),
    [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (50, 3600)],
)
def test_delay_stays_within_the_doubling_ceiling_and_the_cap(attempts: int, ceiling: float) -> None:
    """Every jittered wait lies in [0, min(cap, base * 2^(attempts-1))], and the draws spread over it."""
    rng = random.Random(7)
    delays = [retry_delay(attempts, base=BASE, cap=CAP, rng=rng).total_seconds() for _ in range(500)]
    assert all(0 <= d <= ceiling for d in delays)
    assert min(delays) < ceiling * 0.1 and max(delays) > ceiling * 0.9


def test_delay_is_reproducible_with_a_seeded_random() -> None:
    """The same seed gives the same waits, so backoff is testable without sleeping."""
    first = [retry_delay(n, base=BASE, cap=CAP, rng=random.Random(42)) for n in range(1, 6)]
    again = [retry_delay(n, base=BASE, cap=CAP, rng=random.Random(42)) for n in range(1, 6)]
    assert first == again


def test_zero_base_retries_at_once() -> None:
    """retry_base 0s (tests, impatient operators) gives no wait at all."""
    assert retry_delay(3, base=timedelta(0), cap=CAP, rng=random.Random(1)) == timedelta(0)


def verdict(
    attempts: int, *, retryable: bool = True, age: timedelta = timedelta(minutes=5), interrupted: int = 0
):  # type: ignore[no-untyped-def]
    return after_failure(
        attempts=attempts,
        interrupted=interrupted,
        created_at=NOW - age,
        now=NOW,
        retryable=retryable,
        policy=POLICY,
        rng=random.Random(3),
    )


def test_permanent_failure_is_dead_lettered_after_one_attempt() -> None:
    """A permanent failure (535, 404) is given up at once: no retry storm."""
    decided = verdict(1, retryable=False)
    assert decided.dead and decided.why == "permanent failure"


def test_retryable_failure_retries_until_max_attempts() -> None:
    """Retryable failures get a future retry time until the attempt limit, then are dead-lettered."""
    for attempts in range(1, POLICY.max_attempts):
        decided = verdict(attempts)
        assert not decided.dead and decided.retry_at is not None
        assert NOW <= decided.retry_at <= NOW + min(CAP, BASE * 2 ** (attempts - 1))
    last = verdict(POLICY.max_attempts)
    assert last.dead and last.why == "gave up after 5 attempts"


def test_retryable_failure_older_than_max_age_is_dead_lettered() -> None:
    """A row older than max_age is dead-lettered instead of retried, whatever its attempt count."""
    decided = verdict(1, age=timedelta(hours=24))
    assert decided.dead and decided.why == "still failing after 1d"
    assert not verdict(1, age=timedelta(hours=23, minutes=59)).dead


def test_the_last_failed_attempt_says_how_many_sends_the_daemon_never_finished() -> None:
    """When some of the attempts were cut short by the process stopping, the give-up reason says so."""
    decided = verdict(POLICY.max_attempts, interrupted=2)
    assert decided.dead and decided.why == "gave up after 5 attempts (the daemon stopped during 2 of them)"
    assert not verdict(POLICY.max_attempts - 1, interrupted=3).dead  # stopped sends count, no more


@pytest.mark.parametrize(
    ("attempts", "interrupted", "last_error", "reason"),
    [
        (5, 5, None, "the daemon stopped during the send 5 times"),
        (1, 1, None, "the daemon stopped during the send once"),
        (5, 2, "timeout", "the daemon stopped during the send 2 times (of 5 attempts); last error: timeout"),
        (5, 0, "HTTP error=503", "gave up after 5 attempts; last error: HTTP error=503"),
    ],
)
def test_a_row_with_no_sends_left_is_given_up_with_the_reason(
    attempts: int, interrupted: int, last_error: str | None, reason: str
) -> None:
    """A row whose sends are used up without a verdict (a message that crashes the daemon, or a lowered
    max_attempts) is dead-lettered saying how often the daemon stopped during its send."""
    assert exhausted_reason(attempts=attempts, interrupted=interrupted, last_error=last_error) == reason
