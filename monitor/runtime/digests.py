"""When the channels' digests fire, for the daemon: one APScheduler trigger per digest job, and the
`next_digest` the pipeline asks whether a digest was missed. Both read the same schedules (cronsim
computes the times), so the job and the overdue check agree on every fire time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger

from monitor.alerts.schedule import Schedule
from monitor.config import Config

_TICK = timedelta(microseconds=1)


def digest_schedules(config: Config) -> dict[str, Schedule]:
    """The digest schedule of each channel that has one, in the channel's time zone."""
    return {name: rules.digest for name, rules in config.channels.items() if rules.digest is not None}


class ScheduleTrigger(BaseTrigger):
    """Fires at each of the schedule's times, as APScheduler's own cron trigger does: the first one at
    or after `now`, then the first one after the previous fire (a missed one is still returned, and the
    scheduler coalesces it)."""

    __slots__ = ("schedule",)

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        moment = now - _TICK if previous_fire_time is None else min(previous_fire_time, now - _TICK)
        return self.schedule.next_after(moment)

    def __str__(self) -> str:
        return f"cron[{self.schedule.expression!r} in {self.schedule.zone}]"


def next_digest(schedules: dict[str, Schedule]) -> Callable[[str, datetime], datetime | None]:
    """For the pipeline: the channel's first digest time strictly after a moment (UTC), or None (no
    schedule, or one that never fires again). A schedule without a fire time after a moment has none
    after any later one either; that is remembered, because finding it out searches 50 years ahead and
    the pipeline asks at every tick."""
    exhausted: dict[str, datetime] = {}  # channel -> a moment after which its schedule never fires

    def after(channel: str, moment: datetime) -> datetime | None:
        schedule = schedules.get(channel)
        if schedule is None or (channel in exhausted and moment >= exhausted[channel]):
            return None
        fire = schedule.next_after(moment)
        if fire is None:
            exhausted[channel] = min(moment, exhausted.get(channel, moment))
            return None
        return fire.astimezone(UTC)

    return after
