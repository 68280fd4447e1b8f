"""Outbox retry policy: when a failed delivery is tried again, and when it is given up (dead-lettered).

Pure functions, no I/O: the pipeline asks `after_failure` what to do with a row whose send just failed,
and `exhausted_reason` why a row whose sends are used up is given up. A send counts as an attempt when it
starts (the row is claimed), so sends cut short because the process stopped count too: a message that
crashes the process every time it is sent is dead-lettered after `max_attempts`, not retried forever.
Retries back off exponentially with full jitter (a random wait between zero and the capped exponential),
so that many rows failing at once against one server do not come back at the same instant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """How long a failing delivery is retried (`delivery` in the main config)."""

    max_attempts: int = 12  # sends tried before the row is dead-lettered
    max_age: timedelta = timedelta(hours=24)  # a row older than this is dead-lettered instead of retried
    base: timedelta = timedelta(seconds=30)  # wait ceiling after the first failure
    cap: timedelta = timedelta(hours=1)  # wait ceiling never grows beyond this


@dataclass(frozen=True)
class Verdict:
    """What to do with a row after a failed send: retry at `retry_at`, or dead-letter it (`retry_at` None)
    for the reason `why`."""

    retry_at: datetime | None
    why: str

    @property
    def dead(self) -> bool:
        return self.retry_at is None


def retry_delay(attempts: int, *, base: timedelta, cap: timedelta, rng: random.Random) -> timedelta:
    """Full jitter: uniform in [0, min(cap, base * 2^(attempts-1))]; `attempts` counts failures so far."""
    ceiling = min(cap, base * (2 ** min(max(attempts, 1) - 1, 32)))
    return timedelta(seconds=rng.uniform(0, ceiling.total_seconds()))


def after_failure(
    *,
    attempts: int,
    created_at: datetime,
    now: datetime,
    retryable: bool,
    policy: RetryPolicy,
    rng: random.Random,
    interrupted: int = 0,
) -> Verdict:
    """Dead-letter a permanent failure at once; retry a retryable one until `max_attempts` sends have
    been tried or the row is older than `max_age`. `attempts` includes the send that just failed;
    `interrupted` says how many of them the process never finished."""
    if not retryable:
        return Verdict(None, "permanent failure")
    if attempts >= policy.max_attempts:
        cut = f" (the daemon stopped during {interrupted} of them)" if interrupted else ""
        return Verdict(None, f"gave up after {attempts} attempts{cut}")
    if now - created_at >= policy.max_age:
        return Verdict(None, f"still failing after {_human(policy.max_age)}")
    delay = retry_delay(attempts, base=policy.base, cap=policy.cap, rng=rng)
    return Verdict(now + delay, f"retry {attempts + 1} of {policy.max_attempts}")


def exhausted_reason(*, attempts: int, interrupted: int, last_error: str | None) -> str:
    """Why a row with no sends left is given up: mostly because the process stopped during its sends
    (a message that crashes it), with the last failure of the others, if any."""
    if interrupted:
        why = f"the daemon stopped during the send {_times(interrupted)}"
        if interrupted < attempts:
            why += f" (of {attempts} attempts)"
    else:
        why = f"gave up after {attempts} attempts"
    return f"{why}; last error: {last_error}" if last_error else why


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _human(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
