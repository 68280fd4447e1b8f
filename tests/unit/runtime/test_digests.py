"""monitor.runtime.digests: the digest jobs' APScheduler trigger and the pipeline's `next_digest`, both from
the channels' schedules in their own zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.alerts.schedule import parse_cron
from monitor.config import load_config
from monitor.runtime.digests import ScheduleTrigger, digest_schedules, next_digest

BERLIN = ZoneInfo("Europe/Berlin")
DAILY_8 = parse_cron("0 8 * * *").in_zone(BERLIN)
FIRE = datetime(2026, 1, 15, 8, 0, tzinfo=BERLIN)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_the_trigger_fires_at_or_after_now_then_after_each_previous_fire() -> None:
    """Like APScheduler's cron trigger: the first fire is the schedule's first time at or after now; each
    next one the first after the previous fire, even when now is later (a missed fire is still returned
    for the scheduler to coalesce)."""
    trigger = ScheduleTrigger(DAILY_8)
    assert trigger.get_next_fire_time(None, FIRE - timedelta(seconds=1)) == FIRE
    assert trigger.get_next_fire_time(None, FIRE) == FIRE
    assert trigger.get_next_fire_time(None, FIRE + timedelta(microseconds=1)) == FIRE + timedelta(days=1)
    assert trigger.get_next_fire_time(FIRE, FIRE + timedelta(minutes=1)) == FIRE + timedelta(days=1)
    missed = trigger.get_next_fire_time(FIRE, FIRE + timedelta(days=3))
    assert missed == FIRE + timedelta(days=1) and missed.utcoffset() == timedelta(hours=1)
    assert str(trigger) == "cron['0 8 * * *' in Europe/Berlin]"


def test_each_digest_channel_gets_its_schedule_in_its_own_zone(tmp_path: Path) -> None:
    """Channels with a digest get their schedule in the channel's zone (UTC by default); others none.
    `next_digest` answers in UTC, strictly after the moment, and None for a channel without a digest."""
    main = tmp_path / "monitor.yaml"
    (tmp_path / "rules.yaml").write_text(
        "watches: [{name: w, query: Zetaland, notify: [b]}]\n", encoding="utf-8"
    )
    main.write_text(
        "channels:\n"
        "  b: {url: 'json://127.0.0.1:9/b', digest: '0 8 * * *', timezone: Europe/Berlin}\n"
        "  u: {url: 'json://127.0.0.1:9/u', digest: '@daily'}\n"
        "  p: {url: 'json://127.0.0.1:9/p'}\n"
        "rules: [rules.yaml]\n",
        encoding="utf-8",
    )
    schedules = digest_schedules(load_config(main))
    assert schedules == {"b": DAILY_8, "u": parse_cron("@daily")}
    after = next_digest(schedules)
    assert after("b", utc(2026, 1, 15, 6, 40)) == utc(2026, 1, 15, 7, 0)
    assert after("b", utc(2026, 1, 15, 7, 0)) == utc(2026, 1, 16, 7, 0)
    assert after("b", utc(2026, 1, 15, 7, 0)).tzinfo == UTC  # type: ignore[union-attr]
    assert after("p", utc(2026, 1, 15, 7, 0)) is None
