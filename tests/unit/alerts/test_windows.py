"""monitor.alerts.windows: quiet-hour windows across midnight and DST, rate-window arithmetic, and the
checks of clock times and zone names. Pure: every method gets `now` from the test."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.alerts.windows import QuietHours, RateLimit, parse_clock_time, parse_zone

BERLIN = ZoneInfo("Europe/Berlin")
NIGHT = QuietHours(time(22, 0), time(7, 0), BERLIN)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


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
