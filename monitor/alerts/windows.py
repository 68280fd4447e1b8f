"""Time windows a channel holds alerts in: quiet hours (local wall-clock hours in a time zone) and rate
limits (a sliding window of message times), and the checks of the clock times and zone names the config
writes them with.

Pure: no clock of its own; every method takes `now`.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache

from monitor.core.hints import closest

__all__ = ["QuietHours", "RateLimit", "parse_clock_time", "parse_zone"]


def parse_clock_time(value: object) -> time:
    """`"22:00"` → 22:00. YAML reads an unquoted 22:00 as the number 1320, so numbers are refused with
    that explanation rather than guessed at."""
    if isinstance(value, time):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            f'{value!r} is not a time of day; quote it, e.g. "22:00" (without quotes YAML reads 22:00 as '
            "the number 1320)"
        )
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(value))
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f'{value!r} is not a time of day; write HH:MM from "00:00" to "23:59"')
    return time(int(match[1]), int(match[2]))


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_zone(value: object) -> zoneinfo.ZoneInfo:
    """An IANA time zone (`Europe/Berlin`, `UTC`), with a did-you-mean for a misspelt one."""
    if isinstance(value, zoneinfo.ZoneInfo):
        return value
    name = str(value).strip()
    try:
        if name and not name.startswith(("/", ".")) and ".." not in name:
            return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass  # not a zone: the error below says so, with the nearest name
    names = {n.lower(): n for n in _zone_names()}
    close = closest(name.lower(), names)
    hint = f"; did you mean '{names[close]}'?" if close else ""
    raise ValueError(
        f"{name!r} is not an IANA time zone{hint} (write it like Europe/Berlin, America/New_York or UTC)"
    )


@dataclass(frozen=True)
class QuietHours:
    """Local wall-clock hours [start, end) in `zone`; may span midnight (22:00-07:00)."""

    start: time
    end: time
    zone: zoneinfo.ZoneInfo

    def until(self, now: datetime) -> datetime | None:
        """When the quiet period around `now` ends (UTC), or None when `now` is not in quiet hours.
        DST-correct: the end is the first instant whose local time reaches `end` on that local date."""
        local = now.astimezone(self.zone)
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            quiet = self.start <= clock < self.end
            end_date = local.date()
        else:
            quiet = clock >= self.start or clock < self.end
            end_date = local.date() + timedelta(days=1 if clock >= self.start else 0)
        if not quiet:
            return None
        return _first_instant_at(datetime.combine(end_date, self.end), self.zone)


def _first_instant_at(wall: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """The first UTC instant at which the local clock shows `wall` or later: for a time that occurs
    twice (autumn) the first occurrence, for one skipped (spring) the moment the clocks jump."""
    early = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    late = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if early <= late:  # normal or repeated: fold=0 is the first occurrence
        return early
    # skipped: fold=1 (offset after the jump) lands before the gap, fold=0 after it; find the jump
    low, high = late, early
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0) if high.microsecond else high


@dataclass(frozen=True)
class RateLimit:
    """At most `max` messages per sliding window of `per`."""

    max: int
    per: timedelta

    def room_at(self, recent: Iterable[datetime], now: datetime) -> datetime | None:
        """None when one more message fits now, else when it will: `recent` are the times of messages
        queued for the channel (a message counts for `per` after it was queued)."""
        inside = sorted(t for t in recent if t > now - self.per)
        if len(inside) < self.max:
            return None
        return inside[len(inside) - self.max] + self.per
