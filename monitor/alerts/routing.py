"""Which channel hears about an alert, and when: route filters, digests, quiet hours and rate limits.

Pure: no I/O, no clock of its own (every function takes `now`), no scheduler. The pipeline asks `dispose`
for each (alert, channel) inside the transaction that decided the alert and writes the answer as an
outbox row: sent at once (`pending`), or `held` until a release time or the channel's next digest.

Routes
    A channel sets defaults (`min_severity`, `topics`, `mode`); a watch's `notify` entry may override
    them for that watch. An alert reaches the channel when its severity is at least `min_severity` and,
    when topics are given, the story has one of them; topics given on both the channel and the watch
    are two conditions, each of which must hold (not their intersection).
Holding (never for `critical`, which always goes out at once and only counts toward the rate limit)
    - `mode: digest`: held for the channel's next scheduled digest.
    - over the rate limit (`max` messages per `per`): held for the next digest when the channel has a
      digest schedule, else until the window has room again.
    - quiet hours: held until they end.
    Held rows whose release time has come go out together: one of them alone as itself, several as one
    digest. A digest due during quiet hours waits for their end.
Cron
    Digest schedules are five-field crontab expressions (or @hourly, @daily, @weekly, @monthly,
    @yearly), checked here and expanded to explicit value lists so the scheduler applies cron's own
    meaning (day of week 0 and 7 are Sunday) in the channel's time zone.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cache

from monitor.match.rules import SEVERITY_ORDER, level_rank

__all__ = [
    "ChannelRules",
    "CronFields",
    "DigestEntry",
    "DigestStory",
    "Disposition",
    "QuietHours",
    "RateLimit",
    "Route",
    "admits",
    "digest_overdue",
    "digest_stories",
    "dispose",
    "parse_clock_time",
    "parse_cron",
    "parse_zone",
    "route_for",
    "send_at",
]

CRITICAL = "critical"
IMMEDIATE, DIGEST = "immediate", "digest"


# --- parsing (used by the settings loader, errors become file:line messages) -----------------------


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
        pass
    names = {n.lower(): n for n in _zone_names()}
    close = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=0.6)
    hint = f"; did you mean '{names[close[0]]}'?" if close else ""
    raise ValueError(
        f"{name!r} is not an IANA time zone{hint} (write it like Europe/Berlin, America/New_York or UTC)"
    )


_CRON_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # most days each month can have
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (name, lowest, highest, names for lowest.. in order)
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


@dataclass(frozen=True)
class CronFields:
    """A crontab expression expanded to explicit values (`*` when unrestricted), in the form APScheduler's
    CronTrigger takes; `day_of_week` uses names, so 0 and 7 both mean Sunday as in cron."""

    expression: str
    minute: str
    hour: str
    day: str
    month: str
    day_of_week: str


def parse_cron(expression: object) -> CronFields:
    """Check a five-field crontab expression; raise ValueError saying which field is wrong and why."""
    text = " ".join(str(expression).split())
    spec = _CRON_ALIASES.get(text.lower(), text)
    if spec.startswith("@"):
        raise ValueError(
            f"{text!r} is not a cron schedule; the shortcuts are {', '.join(sorted(_CRON_ALIASES))}"
        )
    parts = spec.split(" ")
    if len(parts) != 5:
        raise ValueError(
            f"{text!r} is not a cron schedule: it has {len(parts)} field(s), cron needs 5 "
            '(minute hour day-of-month month day-of-week), e.g. "0 8 * * *" for 08:00 every day'
        )
    values: list[set[int] | None] = []
    for part, (name, low, high, names) in zip(parts, _CRON_FIELDS, strict=True):
        try:
            values.append(_cron_field(part.lower(), low, high, names))
        except ValueError as error:
            raise ValueError(f"{text!r}: {name} field {part!r}: {error}") from None
    minute, hour, day, month, dow = values
    if dow is not None and 7 in dow:
        dow = (dow - {7}) | {0}
    minute, hour, day, month = (
        _unrestricted(v, low, high)
        for v, (_, low, high, _n) in zip(values[:4], _CRON_FIELDS[:4], strict=True)
    )
    dow = _unrestricted(dow, 0, 6)
    if day is not None and dow is not None:
        raise ValueError(
            f"{text!r}: restrict either the day of month or the day of week, not both (cron would take "
            "either one, the scheduler only both)"
        )
    if day is not None and not any(d <= _MONTH_DAYS[m - 1] for d in day for m in month or range(1, 13)):
        days = " or ".join(str(d) for d in sorted(day))
        months = " or ".join(_MONTH_NAMES[m - 1] for m in sorted(month or range(1, 13)))
        longest = max(_MONTH_DAYS[m - 1] for m in month or range(1, 13))
        raise ValueError(
            f"{text!r} never fires: day {days} never occurs in {months}; use a day from 1 to {longest}"
        )

    def out(found: set[int] | None) -> str:
        return "*" if found is None else ",".join(str(v) for v in sorted(found))

    day_names = "*" if dow is None else ",".join(_DAYS[d] for d in sorted(dow))
    return CronFields(text, out(minute), out(hour), out(day), out(month), day_names)


def _unrestricted(found: set[int] | None, low: int, high: int) -> set[int] | None:
    """Every value listed is the same as `*` (so `0-6` days do not count as a restriction)."""
    return None if found is None or found >= set(range(low, high + 1)) else found


def _cron_value(token: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if token in names:
        return names.index(token) + low
    if not token.isdigit():
        allowed = f" or a name ({', '.join(names[:3])}, ...)" if names else ""
        raise ValueError(f"{token!r} is not a number from {low} to {high}{allowed}")
    number = int(token)
    if not low <= number <= high:
        raise ValueError(f"{number} is out of range; use {low} to {high}")
    return number


def _cron_field(part: str, low: int, high: int, names: tuple[str, ...]) -> set[int] | None:
    """The set of values, or None for an unrestricted `*`."""
    if part == "*":
        return None
    found: set[int] = set()
    for item in part.split(","):
        body, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"step {step_text!r} must be a whole number of at least 1")
            step = int(step_text)
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = _cron_value(first, low, high, names), _cron_value(last, low, high, names)
            if start > end:
                raise ValueError(f"range {body!r} runs backwards; write the smaller value first")
        elif step_text:
            raise ValueError(f"{item!r}: a step needs a range; write */{step} or a-b/{step}")
        else:
            start = end = _cron_value(body, low, high, names)
        found.update(range(start, end + 1, step))
    return found


# --- channel rules and routes --------------------------------------------------------------------


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


@dataclass(frozen=True)
class ChannelRules:
    """A channel's routing defaults and limits (from `channels.NAME` in the main config)."""

    name: str
    min_severity: str = "low"
    topics: frozenset[str] | None = None  # None: any topic
    mode: str = IMMEDIATE
    digest: CronFields | None = None
    timezone: zoneinfo.ZoneInfo = field(default_factory=lambda: zoneinfo.ZoneInfo("UTC"))
    quiet: QuietHours | None = None
    rate: RateLimit | None = None


@dataclass(frozen=True)
class Route:
    """What one watch sends to one channel: the channel's defaults with the watch's overrides."""

    channel: str
    min_severity: str
    topics: tuple[frozenset[str], ...]  # the alert needs a topic of each set (channel's, watch's); () any
    mode: str


def route_for(
    channel: ChannelRules,
    *,
    min_severity: str | None = None,
    topics: Iterable[str] | None = None,
    mode: str | None = None,
) -> Route:
    """Overrides replace the channel default; topics given on both sides are both kept, each to be met
    (an alert about ceasefire and escalation passes channel [ceasefire] with watch [escalation])."""
    sets = (channel.topics, frozenset(topics) if topics is not None else None)
    return Route(
        channel=channel.name,
        min_severity=min_severity or channel.min_severity,
        topics=tuple(s for s in sets if s is not None),
        mode=mode or channel.mode,
    )


def admits(route: Route, *, severity: str | None, topics: Iterable[str]) -> bool:
    """True when the alert is severe enough for the route and has a topic of each set the route names.
    The lowest minimum (the default, "everything") also takes an alert whose severity is unknown."""
    if level_rank(route.min_severity) > 0 and level_rank(severity) < level_rank(route.min_severity):
        return False
    have = frozenset(topics)
    return all(not wanted.isdisjoint(have) for wanted in route.topics)


@dataclass(frozen=True)
class Disposition:
    """Send now (`hold` False), or hold until `release_at` (None: until the channel's next digest)."""

    hold: bool
    release_at: datetime | None = None
    reason: str = ""  # "", "digest", "rate" or "quiet"


SEND_NOW = Disposition(hold=False)


def dispose(
    route: Route, channel: ChannelRules, *, severity: str | None, now: datetime, recent: Iterable[datetime]
) -> Disposition:
    """How an admitted alert goes to the channel; `recent` are the times of messages queued for it
    within the rate window (ignored without a rate limit)."""
    if severity == CRITICAL:
        return SEND_NOW
    if route.mode == DIGEST:
        return Disposition(hold=True, reason="digest")
    quiet_end = channel.quiet.until(now) if channel.quiet else None
    room_at = channel.rate.room_at(recent, now) if channel.rate else None
    if room_at is not None:
        if channel.digest is not None:
            return Disposition(hold=True, reason="rate")
        return Disposition(hold=True, release_at=max(room_at, quiet_end or room_at), reason="rate")
    if quiet_end is not None:
        return Disposition(hold=True, release_at=quiet_end, reason="quiet")
    return SEND_NOW


def send_at(channel: ChannelRules, now: datetime) -> datetime:
    """When a digest (or a released alert) folded at `now` may go out: now, or when quiet hours end."""
    quiet_end = channel.quiet.until(now) if channel.quiet else None
    return quiet_end or now


def digest_overdue(next_fire_at: datetime | None, now: datetime) -> bool:
    """A scheduled digest missed while nothing ran (daemon down, `run --once` from cron): the first fire
    time after the oldest row waiting for it (computed by the scheduler) has already passed."""
    return next_fire_at is not None and next_fire_at <= now


# --- digest content ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestEntry:
    """One folded outbox row, as far as ordering a digest needs it."""

    id: int
    watch: str
    story_id: int
    seq: int
    severity: str | None


@dataclass(frozen=True)
class DigestStory:
    """One story of one watch in a digest: its latest row, the highest severity of its rows, and
    whether the channel is hearing of the story for the first time (its first alert was folded too)."""

    entry: DigestEntry
    severity: str
    first: bool
    ids: tuple[int, ...]


def digest_stories(entries: Sequence[DigestEntry]) -> list[DigestStory]:
    """One entry per (watch, story), in decision order: a first alert and its updates folded into the
    same digest are one story there. (The renderer groups them by watch, most severe first.)"""
    stories: dict[tuple[str, int], list[DigestEntry]] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        stories.setdefault((entry.watch, entry.story_id), []).append(entry)
    out = []
    for rows in stories.values():
        top = max(rows, key=lambda e: level_rank(e.severity))  # a known severity beats an unknown one
        out.append(
            DigestStory(
                entry=max(rows, key=lambda e: (e.seq, e.id)),
                # none known (updates for more sources carry no hit): shown as medium, like a single alert
                severity=top.severity if top.severity in SEVERITY_ORDER else "medium",  # type: ignore[misc]
                first=any(e.seq == 0 for e in rows),
                ids=tuple(e.id for e in rows),
            )
        )
    return out
