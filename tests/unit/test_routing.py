"""monitor.alerts.routing: route filters, holding decisions, quiet-hour windows across midnight and DST, rate-window
arithmetic, cron checking and digest folding order. Pure: every function gets `now` from the test."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.alerts.routing import (
    ChannelRules,
    DigestEntry,
    Disposition,
    QuietHours,
    RateLimit,
    admits,
    digest_overdue,
    digest_stories,
    dispose,
    parse_clock_time,
    parse_cron,
    parse_zone,
    route_for,
    send_at,
)

BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = QuietHours(time(22, 0), time(7, 0), BERLIN)
DAILY = parse_cron("0 8 * * *")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_watch_overrides_replace_channel_defaults_and_topics_on_both_sides_must_each_hold() -> None:
    """A watch's min_severity/mode replace the channel's; topics given on both the channel and the watch
    are two conditions: an alert about ceasefire and escalation passes channel [ceasefire] with watch
    [escalation], one about only one of them does not."""
    channel = ChannelRules("chat", min_severity="medium", topics=frozenset({"ceasefire"}))
    plain = route_for(channel)
    assert (plain.min_severity, plain.mode, plain.topics) == ("medium", "immediate", (channel.topics,))
    both = route_for(channel, min_severity="high", topics=["escalation"], mode="digest")
    assert (both.min_severity, both.mode) == ("high", "digest")
    assert admits(both, severity="high", topics=["ceasefire", "escalation"])
    assert not admits(both, severity="high", topics=["escalation"])
    assert not admits(both, severity="high", topics=["ceasefire"])
    assert admits(
        route_for(ChannelRules("any"), topics=["escalation"]), severity="low", topics=["escalation"]
    )


@pytest.mark.parametrize(
    ("min_severity", "topics", "severity", "alert_topics", "admitted"),
    [
        ("low", None, "low", [], True),
        ("high", None, "medium", ["escalation"], False),
        ("high", None, "high", ["escalation"], True),
        ("high", None, "critical", ["escalation"], True),
        ("low", {"ceasefire"}, "critical", ["escalation"], False),
        ("low", {"ceasefire"}, "low", ["escalation", "ceasefire"], True),
        ("low", None, None, [], True),  # no severity recorded: the default minimum still takes it
        ("medium", None, None, [], False),  # ... but it ranks below low, as policy and render rank it
        ("high", None, "bogus", [], False),
    ],
)
def test_admits_by_minimum_severity_and_topic(
    min_severity: str, topics: set[str] | None, severity: str | None, alert_topics: list[str], admitted: bool
) -> None:
    """An alert passes a route when severe enough and, if the route names topics, about one of them."""
    route = route_for(
        ChannelRules("c", min_severity=min_severity, topics=frozenset(topics) if topics else None)
    )
    assert admits(route, severity=severity, topics=alert_topics) is admitted


@pytest.mark.parametrize(
    ("now", "ends"),
    [
        (utc(2026, 1, 15, 20, 59), None),  # 21:59 Berlin (winter, UTC+1)
        (utc(2026, 1, 15, 21, 0), utc(2026, 1, 16, 6, 0)),  # 22:00 starts it, ends 07:00 next day
        (utc(2026, 1, 15, 23, 30), utc(2026, 1, 16, 6, 0)),  # after local midnight
        (utc(2026, 1, 16, 5, 59), utc(2026, 1, 16, 6, 0)),
        (utc(2026, 1, 16, 6, 0), None),  # 07:00 is awake again
        (utc(2026, 7, 15, 20, 30), utc(2026, 7, 16, 5, 0)),  # summer, UTC+2: 22:30 → 07:00 = 05:00 UTC
    ],
)
def test_quiet_hours_span_midnight_in_the_channel_time_zone(now: datetime, ends: datetime | None) -> None:
    """22:00-07:00 Berlin is quiet from 22:00 inclusive to 07:00 exclusive local time, winter and summer."""
    assert NIGHT.until(now) == ends


def test_quiet_hours_end_correctly_on_dst_change_nights() -> None:
    """On the spring-forward night the period is an hour shorter in UTC, in autumn an hour longer, and an
    end time the clocks skip ends the period at the jump."""
    spring = utc(2026, 3, 28, 22, 0)  # 23:00 CET, the clocks go 02:00 → 03:00 on 29 March
    assert NIGHT.until(spring) == utc(2026, 3, 29, 5, 0)  # 07:00 CEST
    autumn = utc(2026, 10, 24, 21, 0)  # 23:00 CEST, the clocks go 03:00 → 02:00 on 25 October
    assert NIGHT.until(autumn) == utc(2026, 10, 25, 6, 0)  # 07:00 CET
    skipped = QuietHours(time(1, 0), time(2, 30), BERLIN)  # 02:30 does not exist on 29 March
    assert skipped.until(utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 1, 0)  # 03:00 CEST, the jump
    repeated = QuietHours(time(1, 0), time(2, 30), BERLIN)  # 02:30 happens twice on 25 October
    assert repeated.until(utc(2026, 10, 24, 23, 30)) == utc(2026, 10, 25, 0, 30)  # its first occurrence
    daytime = QuietHours(time(12, 0), time(14, 0), ZoneInfo("America/New_York"))
    assert daytime.until(utc(2026, 6, 1, 16, 0)) == utc(2026, 6, 1, 18, 0)
    assert daytime.until(utc(2026, 6, 1, 18, 0)) is None


def test_rate_window_has_room_until_max_then_opens_when_the_oldest_counted_message_leaves() -> None:
    """With 3 per hour, a fourth message waits until the oldest of the last three is an hour old; messages
    older than the window do not count."""
    limit = RateLimit(3, timedelta(hours=1))
    now = utc(2026, 1, 1, 12, 0)
    sent = [now - timedelta(minutes=m) for m in (50, 20, 5)]
    assert limit.room_at(sent[1:], now) is None
    assert limit.room_at(sent, now) == now + timedelta(minutes=10)
    assert limit.room_at([now - timedelta(minutes=90), *sent[1:]], now) is None
    assert limit.room_at([now - timedelta(minutes=m) for m in (59, 58, 57, 30, 1)], now) == now + timedelta(
        minutes=3
    )


def test_dispose_holds_for_digest_rate_and_quiet_hours_but_never_critical() -> None:
    """Digest routes hold for the digest; over the limit an alert waits for the digest, or without one
    until the window opens (not before quiet hours end); in quiet hours until they end; critical never waits."""
    night = utc(2026, 1, 15, 23, 0)  # quiet in Berlin
    day = utc(2026, 1, 15, 12, 0)
    limited = RateLimit(1, timedelta(hours=1))
    full = [day - timedelta(minutes=10)]
    plain = ChannelRules("c")
    quiet = ChannelRules("c", quiet=NIGHT)
    rated = ChannelRules("c", rate=limited)
    rated_digest = ChannelRules("c", rate=limited, digest=DAILY)
    everything = ChannelRules("c", rate=limited, quiet=NIGHT, digest=DAILY, mode="digest")

    def decide(channel: ChannelRules, severity: str, now: datetime, recent: list[datetime]) -> Disposition:
        return dispose(route_for(channel), channel, severity=severity, now=now, recent=recent)

    assert decide(plain, "low", night, []) == Disposition(False)
    assert decide(quiet, "high", day, []) == Disposition(False)
    assert decide(quiet, "high", night, []) == Disposition(True, utc(2026, 1, 16, 6, 0), "quiet")
    assert decide(rated, "high", day, full) == Disposition(True, day + timedelta(minutes=50), "rate")
    assert decide(rated, "high", day, []) == Disposition(False)
    assert decide(rated_digest, "high", day, full) == Disposition(True, None, "rate")
    assert decide(everything, "low", day, []) == Disposition(True, None, "digest")
    late = [night - timedelta(minutes=30)]
    assert decide(ChannelRules("c", rate=limited, quiet=NIGHT), "high", night, late) == Disposition(
        True, utc(2026, 1, 16, 6, 0), "rate"
    )
    for channel in (quiet, rated, rated_digest, everything):
        assert decide(channel, "critical", night, full + late) == Disposition(False)


def test_a_digest_folded_in_quiet_hours_goes_out_when_they_end() -> None:
    """send_at is now outside quiet hours and the end of the quiet period inside them."""
    channel = ChannelRules("c", quiet=NIGHT, digest=DAILY)
    assert send_at(channel, utc(2026, 1, 15, 12, 0)) == utc(2026, 1, 15, 12, 0)
    assert send_at(channel, utc(2026, 1, 16, 5, 0)) == utc(2026, 1, 16, 6, 0)


def test_a_digest_missed_while_nothing_ran_is_overdue() -> None:
    """Overdue when the first fire time after the oldest waiting row has passed; not before; never without one."""
    now = utc(2026, 1, 16, 9, 0)
    assert digest_overdue(utc(2026, 1, 16, 8, 0), now)
    assert not digest_overdue(utc(2026, 1, 17, 8, 0), now)
    assert not digest_overdue(None, now)


def test_cron_expressions_expand_to_cron_meaning() -> None:
    """Ranges, lists, steps, names and shortcuts expand to explicit values; day of week 0 and 7 are Sunday."""
    assert parse_cron("0 8 * * *").__dict__ == {
        "expression": "0 8 * * *", "minute": "0", "hour": "8", "day": "*", "month": "*", "day_of_week": "*",
    }  # fmt: skip
    weekdays = parse_cron("30 7 * * mon-fri")
    assert (weekdays.minute, weekdays.hour, weekdays.day_of_week) == ("30", "7", "mon,tue,wed,thu,fri")
    assert parse_cron("0 9 * * 0").day_of_week == parse_cron("0 9 * * 7").day_of_week == "sun"
    assert parse_cron("0 9 * * */2").day_of_week == "sun,tue,thu,sat"  # cron counts from Sunday
    assert parse_cron("*/20 22-23,0-1 * jan-mar *").hour == "0,1,22,23"
    assert parse_cron("*/20 22-23,0-1 * jan-mar *").month == "1,2,3"
    assert parse_cron("0 0 1-31 * 0-6").day == "*"  # every value is no restriction
    assert parse_cron(" @Weekly ").day_of_week == "sun"
    assert parse_cron("0 0 29 2 *").day == "29"  # leap years
    assert parse_cron("0 0 30,31 feb,mar *").day == "30,31"  # March has them


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 8 * *", "it has 4 field(s), cron needs 5"),
        ("60 8 * * *", "minute field '60': 60 is out of range; use 0 to 59"),
        ("0 8 * * funday", "day of week field 'funday': 'funday' is not a number from 0 to 7 or a name"),
        ("0 8 5-1 * *", "range '5-1' runs backwards"),
        ("0 8 * * */0", "step '0' must be a whole number of at least 1"),
        ("0 8 1 * mon", "restrict either the day of month or the day of week, not both"),
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


def test_times_and_zones_are_checked_with_hints() -> None:
    """Times are HH:MM strings (an unquoted YAML 22:00 is explained), zones are IANA names with a hint."""
    assert parse_clock_time("7:05") == time(7, 5)
    with pytest.raises(ValueError, match=re.escape('quote it, e.g. "22:00"')):
        parse_clock_time(1320)
    with pytest.raises(ValueError, match=r"write HH:MM"):
        parse_clock_time("24:00")
    assert parse_zone("Asia/Yerevan") == ZoneInfo("Asia/Yerevan")
    with pytest.raises(ValueError, match="did you mean 'Asia/Yerevan'"):
        parse_zone("Asia/Yerevn")
    with pytest.raises(ValueError, match="not an IANA time zone"):
        parse_zone("../../etc/passwd")


def test_digest_stories_fold_a_first_alert_and_its_updates_into_one_story() -> None:
    """Rows about the same (watch, story) become one entry: the latest row, the highest severity, and
    `first` when the channel never heard of the story before; different watches stay apart."""
    entries = [
        DigestEntry(1, "karabakh", 10, 0, "medium"),
        DigestEntry(2, "sahel", 20, 3, "low"),
        DigestEntry(3, "karabakh", 10, 1, "critical"),
        DigestEntry(4, "karabakh", 10, 2, "high"),
        DigestEntry(5, "sahel", 10, 0, "high"),
    ]
    stories = digest_stories(entries)
    assert [(s.entry.id, s.severity, s.first, s.ids) for s in stories] == [
        (4, "critical", True, (1, 3, 4)),
        (2, "low", False, (2,)),
        (5, "high", True, (5,)),
    ]


def test_digest_stories_rank_an_unknown_severity_below_low() -> None:
    """A story's rows with a known severity decide it over rows without one (ranked below low, in the one
    severity order of monitor.match.rules); with none known it shows as medium, like a single alert."""
    entries = [
        DigestEntry(1, "w", 10, 0, "low"),
        DigestEntry(2, "w", 10, 1, None),
        DigestEntry(3, "w", 20, 1, None),
    ]
    assert [(s.ids, s.severity) for s in digest_stories(entries)] == [((1, 2), "low"), ((3,), "medium")]
