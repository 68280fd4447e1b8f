"""Which channel hears about an alert, and when: route filters and the decision to send now or hold.

Pure: no I/O, no clock of its own (every function takes `now`), no scheduler. The pipeline asks `dispose`
for each (alert, channel) inside the transaction that decided the alert and writes the answer as an
outbox row: sent at once (`pending`), or `held` until a release time or the channel's next digest.

Routes
    A channel sets defaults (`min_severity`, `topics`, `mode`); a watch's `notify` entry may override
    them for that watch. An alert reaches the channel when its severity is at least `min_severity` and,
    when topics are given, the story has one of them; topics given on both the channel and the watch
    are two conditions, each of which must hold (not their intersection).
Holding (never for `critical`, which always goes out at once and only counts toward the rate limit)
    - `mode: digest`: held for the channel's next scheduled digest (`monitor.alerts.schedule`).
    - over the rate limit (`max` messages per `per`): held for the next digest when the channel has a
      digest schedule, else until the window has room again.
    - quiet hours: held until they end (`monitor.alerts.windows`).
    Held rows whose release time has come go out together: one of them alone as itself, several as one
    digest (`monitor.alerts.digest`). A digest due during quiet hours waits for their end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from monitor.alerts.schedule import Schedule
from monitor.alerts.windows import QuietHours, RateLimit
from monitor.core.severity import CRITICAL, level_rank

__all__ = [
    "ChannelRules",
    "Disposition",
    "Route",
    "admits",
    "dispose",
    "route_for",
    "send_at",
]

IMMEDIATE, DIGEST = "immediate", "digest"


@dataclass(frozen=True)
class ChannelRules:
    """A channel's routing defaults and limits (from `channels.NAME` in the main config)."""

    name: str
    min_severity: str = "low"
    topics: frozenset[str] | None = None  # None: any topic
    mode: str = IMMEDIATE
    digest: Schedule | None = None
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
