"""Digest schedules: five-field crontab expressions, checked with messages that name the wrong field and
the fix, and their fire times in the channel's time zone (computed by cronsim, which follows Debian cron).

Meaning
    `minute hour day-of-month month day-of-week`, with lists, ranges, steps and names (`jan`, `mon`), or
    one of the shortcuts in `ALIASES`. Day of week 0 and 7 are Sunday.
Refused at load, so that a schedule means what it looks like and alerts are never held forever
    - a restricted day of month together with a restricted day of week: cron would fire on either one
      (every such date and every such weekday), which is rarely what is meant. A field listing every
      value (`1-31`, `0-6`) is no restriction.
    - a date that never occurs (`0 8 30 2 *`: there is no 30 February).
    - cron extensions outside the five plain fields (seconds, `L`, `W`, `#`), which other crons lack.
Daylight saving time (Debian cron's rule, as cronsim applies it)
    A job at a fixed hour and minute whose time the spring change skips runs when the clocks jump; one
    whose time the autumn change repeats runs once, at the first occurrence. A job whose minute or hour
    field starts with `*` follows real time: `0 * * * *` fires every real hour, 23 or 25 times that day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

__all__ = ["ALIASES", "Schedule", "parse_cron"]

ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_UTC = ZoneInfo("UTC")  # the config's default zone, so a schedule compares equal to a channel's default
_ANY_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)  # cronsim checks an expression when given a start
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # most days each month can have
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (name, lowest, highest, names for lowest.. in order)
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


@dataclass(frozen=True)
class Schedule:
    """A checked crontab schedule in a time zone (UTC until `in_zone` names the channel's).

    `expression` is the text as written (for messages and logs); `fields` the five fields cronsim reads:
    a shortcut expanded and an unrestricted day field written `*`, so that cronsim's either-day rule
    never applies."""

    expression: str
    fields: str
    zone: ZoneInfo = _UTC

    def in_zone(self, zone: ZoneInfo) -> Schedule:
        return replace(self, zone=zone)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after `moment` (aware), in the schedule's zone; None when there is
        none within cronsim's horizon of 50 years (a checked schedule always has one)."""
        # cronsim steps a fixed-time job in local wall-clock time, so from a moment in the second pass
        # of an hour the autumn change repeats it may answer the first pass, which is not after it.
        # Compared in UTC: datetimes sharing a tzinfo compare by wall clock, blind to that repeat.
        after = moment.astimezone(UTC)
        for fire in CronSim(self.fields, moment.astimezone(self.zone)):
            if fire.astimezone(UTC) > after:
                return fire
        return None


def parse_cron(expression: object) -> Schedule:
    """Check a five-field crontab expression; raise ValueError saying which field is wrong and why."""
    text = " ".join(str(expression).split())
    spec = ALIASES.get(text.lower(), text)
    if spec.startswith("@"):
        raise ValueError(f"{text!r} is not a cron schedule; the shortcuts are {', '.join(sorted(ALIASES))}")
    parts = spec.split(" ")
    if len(parts) != 5:
        raise ValueError(
            f"{text!r} is not a cron schedule: it has {len(parts)} field(s), cron needs 5 "
            '(minute hour day-of-month month day-of-week), e.g. "0 8 * * *" for 08:00 every day'
        )
    values: list[set[int]] = []
    for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True):
        try:
            values.append(_field(part.lower(), low, high, names))
        except ValueError as error:
            raise ValueError(f"{text!r}: {name} field {part!r}: {error}") from None
    _, _, days, months, weekdays = values
    day_restricted = days != set(range(1, 32))
    weekday_restricted = {d % 7 for d in weekdays} != set(range(7))
    if day_restricted and weekday_restricted:
        raise ValueError(
            f"{text!r}: restrict either the day of month or the day of week, not both (cron would then "
            "fire on either one: every such date and every such weekday)"
        )
    if not any(d <= _MONTH_DAYS[m - 1] for d in days for m in months):
        raise ValueError(
            f"{text!r} never fires: day {' or '.join(str(d) for d in sorted(days))} never occurs in "
            f"{' or '.join(_MONTH_NAMES[m - 1] for m in sorted(months))}; use a day from 1 to "
            f"{max(_MONTH_DAYS[m - 1] for m in months)}"
        )
    if not day_restricted:
        parts[2] = "*"
    if not weekday_restricted:
        parts[4] = "*"
    fields = " ".join(parts)
    try:
        CronSim(fields, _ANY_MOMENT)
    except CronSimError as error:  # every check above passed: a form this module reads and cronsim not
        raise ValueError(f"{text!r} is not a cron schedule: {error}") from None
    return Schedule(text, fields)


def _field(part: str, low: int, high: int, names: tuple[str, ...]) -> set[int]:
    """The values a field fires on (`*` is every value from `low` to `high`)."""
    found: set[int] = set()
    for item in part.split(","):
        body, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not _is_number(step_text) or int(step_text) == 0:
                raise ValueError(f"step {step_text!r} must be a whole number of at least 1")
            step = int(step_text)
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = _value(first, low, high, names), _value(last, low, high, names)
            if start > end:
                raise ValueError(f"range {body!r} runs backwards; write the smaller value first")
        elif step_text:
            raise ValueError(f"{item!r}: a step needs a range; write */{step} or a-b/{step}")
        else:
            start = end = _value(body, low, high, names)
        found.update(range(start, end + 1, step))
    return found


def _value(token: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if token in names:
        return names.index(token) + low
    if not _is_number(token):
        allowed = f" or a name ({', '.join(names[:3])}, ...)" if names else ""
        raise ValueError(f"{token!r} is not a number from {low} to {high}{allowed}")
    number = int(token)
    if not low <= number <= high:
        raise ValueError(f"{number} is out of range; use {low} to {high}")
    return number


def _is_number(token: str) -> bool:
    return token.isascii() and token.isdigit()
