"""Held alerts back into the queue when their time has come: quiet hours or a rate window ended (one alone
as itself, several as one digest), a channel's scheduled digest, a digest missed while nothing ran."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.alerts.digest import digest_overdue
from monitor.alerts.routing import send_at as routing_send_at
from monitor.pipeline.deps import Deps


@dataclass
class ReleaseSummary:
    released: int = 0  # held rows that went back to the queue as themselves
    digests: int = 0  # digest rows made
    folded: int = 0  # held rows folded into them


def release_held(deps: Deps) -> ReleaseSummary:
    """Put held rows whose time has come back in the queue: those whose quiet hours or rate window
    ended (one alone as itself, several as one digest), a digest the scheduler missed while nothing ran
    (daemon down, `run --once` from cron), and rows waiting for a digest schedule the config no longer
    has, or one that will never fire again (so they are not held forever). Each fold is one transaction."""
    summary = ReleaseSummary()
    now = deps.clock.now()
    for held in deps.store.held():
        if held.first_release_at is not None and held.first_release_at <= now:
            _fold(deps, held.channel, scheduled=False, summary=summary)
        oldest = held.oldest_for_digest_at
        if oldest is None:
            continue
        schedule = deps.config.channel_rules(held.channel).digest
        if schedule is None:
            _fold(deps, held.channel, scheduled=True, summary=summary)
            continue
        if deps.next_digest is None:
            continue  # no scheduler to ask: the digest job folds them
        # after the last scheduled digest too: a row decided before it but committed after it missed
        # nothing, it waits for the next one (rather than making a second digest at once)
        fire = deps.next_digest(held.channel, max(oldest, held.last_digest_at or oldest))
        if fire is None:
            deps.log.warning(
                "digest.never_fires", channel=held.channel, schedule=schedule.expression, action="sent now"
            )
            _fold(deps, held.channel, scheduled=True, summary=summary)
        elif digest_overdue(fire, now):
            _fold(deps, held.channel, scheduled=True, summary=summary)
    return summary


def fold_digest(deps: Deps, channel: str) -> ReleaseSummary:
    """The channel's scheduled digest: every held row of the channel folded into one digest row, which
    the deliverer then sends like any other (a digest with nothing in it is not sent)."""
    summary = ReleaseSummary()
    _fold(deps, channel, scheduled=True, summary=summary)
    return summary


def _fold(deps: Deps, channel: str, *, scheduled: bool, summary: ReleaseSummary) -> None:
    now = deps.clock.now()
    due = routing_send_at(deps.config.channel_rules(channel), now)
    fold = deps.store.fold(channel, now=now, send_at=due, scheduled=scheduled)
    if fold.released_id is not None:
        summary.released += 1
        deps.log.info("alert.released", channel=channel, delivery=fold.released_id, due_at=due.isoformat())
    elif fold.digest_id is not None:
        summary.digests += 1
        summary.folded += fold.rows
        deps.log.info(
            "digest.folded",
            channel=channel,
            delivery=fold.digest_id,
            alerts=fold.rows,
            scheduled=scheduled,
            due_at=due.isoformat(),
        )
