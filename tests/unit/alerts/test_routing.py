"""monitor.alerts.routing: route filters (channel defaults, watch overrides, topics on both sides) and the
decision to send now or hold (digest, rate limit, quiet hours; never critical). Pure: every function gets
`now` from the test."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.alerts.routing import ChannelRules, Disposition, admits, dispose, route_for, send_at
from monitor.alerts.schedule import parse_cron
from monitor.alerts.windows import QuietHours, RateLimit

NIGHT = QuietHours(time(22, 0), time(7, 0), ZoneInfo("Europe/Berlin"))
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
