"""monitor.alerts.schedule: crontab expressions checked with messages that name the field and the fix, and
their fire times in the channel's time zone, across DST changes. Pure: every call gets its moment."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.alerts.schedule import ALIASES, parse_cron


def fires(expression: str, zone: str, after: datetime, count: int) -> list[str]:
    """The next `count` fire times after `after`, each from the one before (local, with UTC offset)."""
    schedule = parse_cron(expression).in_zone(ZoneInfo(zone))
    out = []
    for _ in range(count):
        fire = schedule.next_after(after)
        assert fire is not None and fire.tzinfo == ZoneInfo(zone)
        out.append(fire.isoformat(timespec="minutes"))
        after = fire
    return out


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


THURSDAY = utc(2026, 1, 15, 6, 40)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 8 * * *", THURSDAY, ["2026-01-15T08:00", "2026-01-16T08:00"]),
        ("30 7 * * mon-fri", utc(2026, 1, 16, 8), ["2026-01-19T07:30", "2026-01-20T07:30", "2026-01-21T07:30",
                                                   "2026-01-22T07:30", "2026-01-23T07:30", "2026-01-26T07:30"]),
        # day of week 0 and 7 are Sunday; steps count from Sunday
        ("0 9 * * 0", THURSDAY, ["2026-01-18T09:00", "2026-01-25T09:00"]),
        ("0 9 * * 7", THURSDAY, ["2026-01-18T09:00", "2026-01-25T09:00"]),
        ("0 9 * * */2", utc(2026, 1, 15, 10), ["2026-01-17T09:00", "2026-01-18T09:00", "2026-01-20T09:00",
                                               "2026-01-22T09:00", "2026-01-24T09:00"]),
        ("*/20 22-23,0-1 * jan-mar *", utc(2026, 1, 15, 1, 30), ["2026-01-15T01:40", "2026-01-15T22:00"]),
        ("*/20 22-23,0-1 * jan-mar *", utc(2026, 3, 31, 23, 30), ["2026-03-31T23:40", "2027-01-01T00:00"]),
        # a day field listing every value is no restriction: the other day field alone decides
        ("0 0 1-31 * 0-6", THURSDAY, ["2026-01-16T00:00", "2026-01-17T00:00", "2026-01-18T00:00"]),
        ("0 0 1-31 * mon", THURSDAY, ["2026-01-19T00:00", "2026-01-26T00:00"]),
        ("0 0 1 * 0-6", THURSDAY, ["2026-02-01T00:00", "2026-03-01T00:00"]),
        (" @Weekly ", THURSDAY, ["2026-01-18T00:00", "2026-01-25T00:00"]),
        ("0 0 29 2 *", THURSDAY, ["2028-02-29T00:00", "2032-02-29T00:00"]),  # leap years
        ("0 0 30,31 feb,mar *", THURSDAY, ["2026-03-30T00:00", "2026-03-31T00:00", "2027-03-30T00:00"]),
        # strictly after: not at the moment itself, but a second before it
        ("0 8 * * *", utc(2026, 1, 15, 8), ["2026-01-16T08:00"]),
        ("0 8 * * *", datetime(2026, 1, 15, 7, 59, 59, 500000, tzinfo=UTC), ["2026-01-15T08:00"]),
    ],
)  # fmt: skip
def test_ranges_lists_steps_and_names_fire_with_cron_meaning(
    expression: str, after: datetime, expected: list[str]
) -> None:
    """Each schedule fires exactly at the times cron gives it (in UTC here)."""
    assert fires(expression, "UTC", after, len(expected)) == [f"{e}+00:00" for e in expected]


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("@hourly", ["2026-01-15T07:00", "2026-01-15T08:00"]),
        ("@daily", ["2026-01-16T00:00", "2026-01-17T00:00"]),
        ("@midnight", ["2026-01-16T00:00", "2026-01-17T00:00"]),
        ("@weekly", ["2026-01-18T00:00", "2026-01-25T00:00"]),
        ("@monthly", ["2026-02-01T00:00", "2026-03-01T00:00"]),
        ("@yearly", ["2027-01-01T00:00", "2028-01-01T00:00"]),
        ("@annually", ["2027-01-01T00:00", "2028-01-01T00:00"]),
    ],
)
def test_every_shortcut_fires_like_its_five_fields(alias: str, expected: list[str]) -> None:
    """The shortcuts README promises (@daily, @hourly ...) all work, in any letter case."""
    assert alias in ALIASES
    assert fires(alias.upper(), "UTC", THURSDAY, 2) == [f"{e}+00:00" for e in expected]


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        # Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET
        ("0 8 * * *", "Europe/Berlin", utc(2026, 3, 28, 12), ["2026-03-29T08:00+02:00", "2026-03-30T08:00+02:00"]),
        # a fixed time the spring change skips runs when the clocks jump
        ("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12), ["2026-03-29T03:00+02:00", "2026-03-30T02:30+02:00"]),
        # ... one the autumn change repeats runs once, at its first occurrence, even when asked from the second
        ("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 12), ["2026-10-25T02:30+02:00", "2026-10-26T02:30+01:00"]),
        ("30 2 * * *", "Europe/Berlin", utc(2026, 10, 25, 1, 15), ["2026-10-26T02:30+01:00"]),
        # a job whose minute or hour starts with * follows real time: every real hour, none in the skipped one
        ("0 * * * *", "Europe/Berlin", utc(2026, 10, 24, 23, 30), ["2026-10-25T02:00+02:00", "2026-10-25T02:00+01:00",
                                                                  "2026-10-25T03:00+01:00"]),
        ("0 * * * *", "Europe/Berlin", utc(2026, 3, 29, 0, 30), ["2026-03-29T03:00+02:00", "2026-03-29T04:00+02:00"]),
        ("*/30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12), ["2026-03-30T02:00+02:00", "2026-03-30T02:30+02:00"]),
        # midnight after the spring change is not skipped (the day after, the first of the next month)
        ("@daily", "Europe/Berlin", utc(2026, 3, 28, 23, 30), ["2026-03-30T00:00+02:00", "2026-03-31T00:00+02:00"]),
        ("@monthly", "Europe/Berlin", utc(2026, 3, 1, 12), ["2026-04-01T00:00+02:00", "2026-05-01T00:00+02:00"]),
        ("0 2 * * *", "America/New_York", utc(2026, 3, 7, 12), ["2026-03-08T03:00-04:00", "2026-03-09T02:00-04:00"]),
    ],
)  # fmt: skip
def test_fire_times_follow_the_channel_zone_across_dst_changes(
    expression: str, zone: str, after: datetime, expected: list[str]
) -> None:
    """Fire times are the zone's wall-clock times, with Debian cron's rule on DST change nights."""
    assert fires(expression, zone, after, len(expected)) == expected


def test_a_schedule_keeps_its_expression_as_written_and_is_utc_until_given_a_zone() -> None:
    """The expression (for messages and logs) is the text with its spacing folded; the zone is UTC until
    the channel's is given."""
    assert parse_cron("  0  8 * *   mon-fri ").expression == "0 8 * * mon-fri"
    assert parse_cron(" @Weekly ").expression == "@Weekly"
    assert parse_cron("0 8 * * *").zone == ZoneInfo("UTC")
    assert parse_cron("0 8 * * *").in_zone(ZoneInfo("Asia/Yerevan")).zone == ZoneInfo("Asia/Yerevan")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 8 * *", "it has 4 field(s), cron needs 5"),
        ("0 0 8 * * *", "it has 6 field(s), cron needs 5"),  # no seconds field
        ("60 8 * * *", "minute field '60': 60 is out of range; use 0 to 59"),
        ("0 8 * * funday", "day of week field 'funday': 'funday' is not a number from 0 to 7 or a name"),
        ("0 8 L * *", "day of month field 'L': 'l' is not a number from 1 to 31"),  # no cron extensions
        ("0 8 * * mon#2", "day of week field 'mon#2': 'mon#2' is not a number from 0 to 7 or a name"),
        ("0 8 5-1 * *", "range '5-1' runs backwards"),
        ("0 8 * * */0", "step '0' must be a whole number of at least 1"),
        ("0 5/2 * * *", "hour field '5/2': '5/2': a step needs a range; write */2 or a-b/2"),
        ("0 8 1 * mon", "restrict either the day of month or the day of week, not both"),
        ("0 8 */2 * 1-5", "restrict either the day of month or the day of week, not both"),
        ("@sometimes", "the shortcuts are @annually, @daily"),
        ("0 0 30 2 *", "never fires: day 30 never occurs in February; use a day from 1 to 29"),
        ("0 0 31 4,jun *", "never fires: day 31 never occurs in April or June; use a day from 1 to 30"),
    ],
)
def test_bad_cron_expressions_say_which_field_is_wrong(expression: str, message: str) -> None:
    """Each mistake names the field, the value and the fix."""
    with pytest.raises(ValueError) as raised:
        parse_cron(expression)
    assert message in str(raised.value)
