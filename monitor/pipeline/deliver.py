"""Delivery of the due outbox rows: one worker per channel, each channel's rows in decision order, retry
or dead-letter on failure, then one notice to the operator per new dead letter."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import structlog

from monitor.alerts.retry import after_failure, exhausted_reason
from monitor.db.records import Claim, PendingDelivery
from monitor.delivery.channel import DeliveryOutcome
from monitor.pipeline.deps import Deps
from monitor.pipeline.messages import build_alert, digest_of
from monitor.render.digest import render_digest
from monitor.render.fitting import render
from monitor.render.notices import render_dead_letter
from monitor.render.templates import Templates, templates_for

MAX_CHANNEL_WORKERS = 16  # channels delivered at the same time


@dataclass
class DeliverySummary:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    deferred: int = 0  # rows left for the next round behind a retryable failure of their channel
    operator_notices: int = 0
    channels_down: set[str] = field(default_factory=set)

    def merge(self, other: DeliverySummary) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead
        self.deferred += other.deferred
        self.channels_down |= other.channels_down


def deliver_pending(deps: Deps) -> DeliverySummary:
    """Send the due outbox rows with one worker per channel, so that a failing or hanging channel delays
    no other; each channel's rows go in decision order. Then tell the operator about new dead letters."""
    queues: dict[str, list[PendingDelivery]] = {}
    for row in deps.store.pending_deliveries(deps.clock.now()):
        queues.setdefault(row.channel, []).append(row)
    summary = DeliverySummary()
    if queues:
        workers = min(len(queues), MAX_CHANNEL_WORKERS)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver") as pool:
            for result in pool.map(lambda queue: _deliver_channel(deps, *queue), queues.items()):
                summary.merge(result)
    summary.operator_notices = notify_operator(deps)
    if summary.sent or summary.retrying or summary.dead or summary.operator_notices:
        deps.log.info(
            "delivery.completed",
            sent=summary.sent,
            retrying=summary.retrying,
            dead=summary.dead,
            deferred=summary.deferred,
            operator_notices=summary.operator_notices,
        )
    return summary


def _deliver_channel(deps: Deps, name: str, rows: list[PendingDelivery]) -> DeliverySummary:
    """One channel's due rows in order; after a retryable failure the rest wait for the next round, so a
    later alert never overtakes an earlier one. Runs on a worker thread: the store opens a session per call."""
    summary = DeliverySummary()
    channel = deps.channels.get(name)
    watches = {w.name: w for w in deps.config.rules.watches}
    for index, row in enumerate(rows):
        log = deps.log.bind(delivery=row.id, channel=name, watch=row.watch)
        if channel is None:
            reason = f"channel '{name}' is no longer configured"
            deps.store.mark_dead(row.id, error=reason, now=deps.clock.now())
            summary.dead += 1
            log.warning("delivery.dead_lettered", reason=reason, attempts=row.attempts, why="no channel")
            continue
        claim = deps.store.claim(
            row.id,
            deps.clock.now(),
            deps.config.settings.delivery.claim_lease,
            owner=deps.owner,
            max_attempts=deps.config.retry_policy.max_attempts,
        )
        if claim is None:
            summary.deferred += len(rows) - index  # another instance is sending this channel's rows
            break
        if claim.exhausted:  # its sends were used up without a verdict: the process stopped during them
            reason = exhausted_reason(
                attempts=claim.attempts, interrupted=claim.interrupted, last_error=claim.last_error
            )
            deps.store.mark_dead(row.id, error=reason, now=deps.clock.now())
            summary.dead += 1
            log.warning("delivery.dead_lettered", reason=reason, attempts=claim.attempts, why="no sends left")
            continue
        if row.kind == "digest":
            digest = digest_of(deps, row)
            message = render_digest(digest, templates=channel_templates(deps, name), limit=channel.limits)
            message = replace(message, message_id=row.message_id)
        else:
            watch = watches.get(row.watch)
            sources = deps.store.story_sources(row.story_id)
            alert = build_alert(row, watch.label if watch else None, sources, deps.config.rules.topics)
            message = render(alert, templates=channel_templates(deps, name), limit=channel.limits)
        if message.problem:
            log.warning("template.failed", problem=message.problem)
        outcome = channel.send(message)
        if outcome.ok:
            deps.store.mark_sent(row.id, deps.clock.now())
            summary.sent += 1
            log.info("delivery.sent", title=row.title, attempts=claim.attempts)
            continue
        if not _record_failed_send(deps, row, claim, outcome, log):
            summary.dead += 1
            continue
        summary.retrying += 1
        summary.deferred += len(rows) - index - 1
        summary.channels_down.add(name)
        break
    return summary


def _record_failed_send(
    deps: Deps,
    row: PendingDelivery,
    claim: Claim,
    outcome: DeliveryOutcome,
    log: structlog.stdlib.BoundLogger,
) -> bool:
    """Schedule the retry or dead-letter the row; True when it will be retried. The attempt was counted
    when the row was claimed."""
    now = deps.clock.now()
    attempts = claim.attempts
    reason = outcome.reason or "unknown"
    verdict = after_failure(
        attempts=attempts,
        interrupted=claim.interrupted,
        created_at=row.created_at or now,
        now=now,
        retryable=outcome.retryable,
        policy=deps.config.retry_policy,
        rng=deps.rng,
    )
    if verdict.retry_at is None:
        deps.store.mark_dead(row.id, error=reason, now=now)
        log.warning("delivery.dead_lettered", reason=reason, attempts=attempts, why=verdict.why)
        return False
    deps.store.mark_retry(row.id, error=reason, retry_at=verdict.retry_at)
    log.warning(
        "delivery.failed",
        reason=reason,
        attempts=attempts,
        retry_in_s=round((verdict.retry_at - now).total_seconds()),
    )
    return True


def notify_operator(deps: Deps) -> int:
    """One notice per dead-lettered row to the operator channel, if configured. Each notice is claimed
    in the database before it is sent, so it is attempted once even when the digest job and the tick (or
    two instances) overlap; a failing operator channel ends the round: no loop, no storm."""
    name = deps.config.settings.delivery.operator_channel
    channel = deps.channels.get(name) if name else None
    if channel is None:
        return 0
    told = 0
    for dead in deps.store.dead_unnotified():
        if not deps.store.mark_operator_notified(dead.id, deps.clock.now()):
            continue  # another round is telling the operator about this one
        notice = render_dead_letter(
            delivery_id=dead.id,
            watch=dead.watch,
            channel=dead.channel,
            headline=dead.title,
            reason=dead.reason,
            attempts=dead.attempts,
        )
        outcome = channel.send(notice)
        if not outcome.ok:
            deps.log.error("operator.notify_failed", delivery=dead.id, channel=name, reason=outcome.reason)
            break
        told += 1
        deps.log.info("operator.notified", delivery=dead.id, channel=name, dead_channel=dead.channel)
    return told


def channel_templates(deps: Deps, name: str) -> Templates:
    """The channel's templates: built-in ones with the config's overrides (re-read when a file changes)."""
    channel = deps.config.settings.channels.get(name)
    base = deps.config.path.resolve().parent
    return templates_for(channel.templates.paths(base) if channel and channel.templates else None)
