"""The outbox: due rows in decision order, claims for one send, their outcome (sent, retry, dead),
recovery of claims a stopped process left, dead letters for the operator, the listing and retry of
`news-monitor outbox`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from monitor.core import instance
from monitor.core.clock import as_utc
from monitor.db.base import StoreBase
from monitor.db.records import Claim, DeadLetter, DeliveryStatus, OutboxEntry, PendingDelivery
from monitor.db.tables import Delivery, FeedState, ItemRow
from monitor.match.results import MatchResult


class OutboxQueries(StoreBase):
    def pending_deliveries(self, now: datetime, per_channel: int = 100) -> list[PendingDelivery]:
        """Due rows, oldest first. Per channel only the leading due rows: a row waiting for its retry (or
        claimed by a sender) holds back the later rows of its channel, so they never overtake it. A row
        not yet queued (`queued_at` ahead: released into quiet hours, due when they end) holds back
        nothing, so a critical alert decided meanwhile goes out at once."""
        due: list[PendingDelivery] = []
        with self._session() as session:
            channels = session.exec(
                select(Delivery.channel).where(Delivery.status == DeliveryStatus.PENDING).distinct()
            ).all()
            for channel in sorted(channels):
                rows = session.exec(
                    with_items()
                    .where(Delivery.status == DeliveryStatus.PENDING, Delivery.channel == channel)
                    .order_by(col(Delivery.id))
                    .limit(per_channel)
                ).all()
                for d, i, f in rows:
                    next_at = as_utc(d.next_attempt_at)
                    if next_at is not None and next_at > now:
                        queued_at = as_utc(d.queued_at)
                        if queued_at is not None and queued_at > now:
                            continue  # waits for the channel's quiet hours to end, not for a retry
                        break
                    due.append(pending_delivery(d, i, f))
        return sorted(due, key=lambda p: p.id)

    def claim(
        self,
        delivery_id: int,
        now: datetime,
        lease: timedelta,
        *,
        owner: str | None = None,
        max_attempts: int | None = None,
    ) -> Claim | None:
        """Take a due row for one send: only one instance wins it (None for the others), and the send
        counts as an attempt now, so one that crashes the process still counts. `owner` (the process) is
        recorded so a restart on its host can give the row back at once (`recover_claims`); otherwise it
        comes back when the lease ends (at-least-once, a duplicate only for the message in flight). A
        claim left by a process that stopped counts as an interrupted send. A row with `max_attempts`
        sends already started is claimed without a new attempt and returned `exhausted`. `owner`
        defaults to this process; no `max_attempts`, no limit."""
        owner = owner or instance.current().token
        with self._session() as session:
            row = session.exec(
                select(Delivery).where(col(Delivery.id) == delivery_id).with_for_update()
            ).one_or_none()
            due_at = as_utc(row.next_attempt_at) if row is not None else None
            if row is None or row.status != DeliveryStatus.PENDING or (due_at is not None and due_at > now):
                session.rollback()
                return None
            exhausted = max_attempts is not None and row.attempts >= max_attempts
            interrupted = row.interrupted + (1 if row.claimed_by is not None else 0)
            attempts = row.attempts + (0 if exhausted else 1)
            session.execute(
                update(Delivery)
                .where(col(Delivery.id) == delivery_id)
                .values(
                    next_attempt_at=now + lease, claimed_by=owner, attempts=attempts, interrupted=interrupted
                )
            )
            session.commit()
            return Claim(attempts, interrupted, exhausted, row.last_error)

    def recover_claims(self, now: datetime, gone: Callable[[str], bool]) -> int:
        """Make due now the rows claimed by processes that `gone` says no longer run (a restart after a
        crash), so their channels do not wait for the lease; returns how many. Each is released only if
        still held by that process, so a row another instance claimed meanwhile is left alone."""
        with self._session() as session:
            owners = session.exec(
                select(Delivery.claimed_by)
                .where(
                    Delivery.status == DeliveryStatus.PENDING,
                    col(Delivery.claimed_by).is_not(None),
                    col(Delivery.next_attempt_at) > now,
                )
                .distinct()
            ).all()
            dead = [owner for owner in owners if owner is not None and gone(owner)]
            if not dead:
                return 0
            released = session.execute(
                update(Delivery)
                .where(
                    Delivery.status == DeliveryStatus.PENDING,
                    col(Delivery.claimed_by).in_(dead),
                    col(Delivery.next_attempt_at) > now,
                )
                .values(next_attempt_at=now)  # claimed_by stays: the next claim counts the interruption
            )
            session.commit()
            return int(released.rowcount)

    def mark_sent(self, delivery_id: int, now: datetime) -> None:
        self._update_delivery(delivery_id, status=DeliveryStatus.SENT, sent_at=now, last_error=None)

    def mark_retry(self, delivery_id: int, *, error: str, retry_at: datetime) -> None:
        """Record a failed send (counted when it was claimed); the row stays pending until `retry_at`."""
        self._update_delivery(
            delivery_id, status=DeliveryStatus.PENDING, last_error=error, next_attempt_at=retry_at
        )

    def mark_dead(self, delivery_id: int, *, error: str, now: datetime) -> None:
        """Give the row up (dead-letter it) with the reason."""
        self._update_delivery(
            delivery_id, status=DeliveryStatus.DEAD, last_error=error, dead_at=now, next_attempt_at=None
        )

    def _update_delivery(self, delivery_id: int, **values: Any) -> None:
        """Set `values` and end the row's claim: its send is over, whatever the outcome."""
        with self._session() as session:
            row = session.get_one(Delivery, delivery_id)
            row.claimed_by = None
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            session.commit()

    def dead_unnotified(self, limit: int = 100) -> list[DeadLetter]:
        """Dead-lettered rows the operator has not been told about, oldest first."""
        with self._session() as session:
            rows = session.exec(
                select(Delivery, ItemRow)
                .outerjoin(ItemRow, col(ItemRow.id) == col(Delivery.item_id))
                .where(
                    col(Delivery.status).in_(DeliveryStatus.DEAD.stored_as),
                    col(Delivery.operator_notified_at).is_(None),
                )
                .order_by(col(Delivery.id))
                .limit(limit)
            ).all()
            titles = {d.id: i.title if i else _digest_label(session, d.id) for d, i in rows}
        return [
            DeadLetter(d.id or 0, d.watch, d.channel, titles[d.id], d.attempts, d.last_error or "unknown")
            for d, _i in rows
        ]

    def mark_operator_notified(self, delivery_id: int, now: datetime) -> bool:
        """Claim the one operator notice about this dead row before sending it: True only for the caller
        that records it first (the digest job and the tick run on separate threads, instances share the
        database), so the notice is attempted once, never repeated."""
        with self._session() as session:
            claimed = session.execute(
                update(Delivery)
                .where(col(Delivery.id) == delivery_id, col(Delivery.operator_notified_at).is_(None))
                .values(operator_notified_at=now)
            )
            session.commit()
            return claimed.rowcount == 1

    def outbox(self, statuses: Iterable[DeliveryStatus] | None = None, limit: int = 50) -> list[OutboxEntry]:
        """Outbox rows with these statuses (all when None), newest first."""
        query = select(Delivery, ItemRow).outerjoin(ItemRow, col(ItemRow.id) == col(Delivery.item_id))
        if statuses is not None:
            query = query.where(
                col(Delivery.status).in_([s for status in statuses for s in status.stored_as])
            )
        with self._session() as session:
            rows = session.exec(query.order_by(col(Delivery.id).desc()).limit(limit)).all()
            titles = {d.id: i.title if i else _digest_label(session, d.id) for d, i in rows}
        return [_entry(d, titles[d.id]) for d, _i in rows]

    def retry_delivery(self, delivery_id: int, now: datetime) -> DeliveryStatus | None:
        """Put a dead (or waiting) row back in the queue, due now, attempts reset. Returns the status it
        had, or None when there is no such row; a sent row is left alone (resending would duplicate)."""
        with self._session() as session:
            row = session.get(Delivery, delivery_id)
            if row is None:
                return None
            previous = DeliveryStatus.read(row.status)
            # a folded row went (or goes) out in its digest
            if previous not in (DeliveryStatus.SENT, DeliveryStatus.FOLDED):
                row.status, row.attempts, row.interrupted = DeliveryStatus.PENDING, 0, 0
                row.next_attempt_at = now
                row.claimed_by = None
                row.queued_at = row.queued_at or now
                row.dead_at = row.operator_notified_at = None
                session.add(row)
                session.commit()
            return previous

    def delivery_counts(self) -> dict[str, int]:
        """How many rows hold each stored status."""
        with self._session() as session:
            rows = session.exec(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        return dict(rows)


def with_items() -> Any:
    """Deliveries with their item and its feed (outer joins: a digest row has no item of its own)."""
    return (
        select(Delivery, ItemRow, FeedState)
        .outerjoin(ItemRow, col(ItemRow.id) == col(Delivery.item_id))
        .outerjoin(FeedState, col(FeedState.name) == col(ItemRow.feed))
    )


def pending_delivery(d: Delivery, i: ItemRow | None, f: FeedState | None) -> PendingDelivery:
    """The record of a row of `with_items()`."""
    return PendingDelivery(
        id=d.id or 0,
        watch=d.watch,
        channel=d.channel,
        attempts=d.attempts,
        feed=i.feed if i else "",
        feed_title=f.title if f else None,
        title=i.title if i else "digest",
        summary=i.summary if i else "",
        link=i.link if i else None,
        published_at=as_utc(i.published_at) if i else None,
        match=MatchResult.from_json((i.match if i else None) or {}),
        story_id=d.story_id or 0,
        seq=d.seq,
        kind=d.kind,
        reasons=list(d.reasons or []),
        message_id=d.message_id,
        created_at=as_utc(d.created_at),
        period_start_at=as_utc(d.period_start_at),
        period_end_at=as_utc(d.period_end_at),
        phase=d.phase,
    )


def _entry(d: Delivery, title: str) -> OutboxEntry:
    status = DeliveryStatus.read(d.status)
    waiting = status in (DeliveryStatus.PENDING, DeliveryStatus.HELD)
    return OutboxEntry(
        id=d.id or 0,
        created_at=as_utc(d.created_at),
        channel=d.channel,
        watch=d.watch,
        kind=d.kind,
        status=status,
        attempts=d.attempts,
        next_attempt_at=as_utc(d.next_attempt_at) if waiting else None,
        last_error=d.last_error,
        title=title,
        held_for=d.held_for,
        digest_id=d.digest_id,
        claimed_by=d.claimed_by if status is DeliveryStatus.PENDING else None,
        interrupted=d.interrupted,
    )


def _digest_label(session: Session, digest_id: int | None) -> str:
    """A digest row's title in listings: how many alerts were folded into it."""
    members = int(
        session.exec(select(func.count()).select_from(Delivery).where(Delivery.digest_id == digest_id)).one()
    )
    return f"digest of {members} alert{'s' if members != 1 else ''}"
