"""Held rows and digests: which channels hold rows and until when, folding them into one digest row (or
releasing a lone row as itself), and the members of a digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from monitor.alerts.threading import digest_message_id
from monitor.core.clock import as_utc
from monitor.db.base import StoreBase
from monitor.db.outbox import pending_delivery, with_items
from monitor.db.records import DeliveryStatus, Fold, HeldSummary, PendingDelivery
from monitor.db.tables import Delivery


class DigestQueries(StoreBase):
    def held(self) -> list[HeldSummary]:
        """Every channel with held rows: the oldest waiting for a digest, the earliest release time and
        the end of its last scheduled digest."""
        with self._session() as session:
            rows = session.exec(
                select(
                    Delivery.channel,
                    func.min(Delivery.created_at).filter(col(Delivery.next_attempt_at).is_(None)),
                    func.min(Delivery.next_attempt_at),
                )
                .where(Delivery.status == DeliveryStatus.HELD)
                .group_by(Delivery.channel)
            ).all()
            if not rows:  # the usual tick: nothing held, no second query
                return []
            last = dict(
                session.exec(
                    select(Delivery.channel, func.max(Delivery.period_end_at))
                    .where(
                        Delivery.kind == "digest",
                        Delivery.held_for == "digest",
                        col(Delivery.channel).in_([r[0] for r in rows]),
                    )
                    .group_by(Delivery.channel)
                ).all()
            )
        return [
            HeldSummary(c, as_utc(oldest), as_utc(release), as_utc(last.get(c)))
            for c, oldest, release in sorted(rows)
        ]

    def fold(self, channel: str, *, now: datetime, send_at: datetime, scheduled: bool) -> Fold:
        """In one transaction, turn a channel's held rows into one digest row due at `send_at` (member
        rows become `folded`). `scheduled` (the digest's cron time) takes every held row; otherwise only
        rows with a release time, and one such row alone is released as itself. Returns what was done;
        nothing when another instance folded the same rows first."""
        with self._session() as session:
            query = select(Delivery).where(
                Delivery.channel == channel, Delivery.status == DeliveryStatus.HELD
            )
            if not scheduled:
                query = query.where(col(Delivery.next_attempt_at).is_not(None))
            rows = session.exec(query.order_by(col(Delivery.id)).with_for_update()).all()
            if not rows:
                return Fold(None, None, 0)
            ids = [r.id for r in rows]
            if len(rows) == 1 and not scheduled:
                done = session.execute(
                    update(Delivery)
                    .where(col(Delivery.id) == ids[0], col(Delivery.status) == DeliveryStatus.HELD)
                    .values(status=DeliveryStatus.PENDING, next_attempt_at=send_at, queued_at=send_at)
                )
                if done.rowcount != 1:
                    session.rollback()
                    return Fold(None, None, 0)
                session.commit()
                return Fold(None, ids[0], 1)
            previous_end = session.exec(
                select(func.max(Delivery.period_end_at)).where(
                    Delivery.channel == channel, Delivery.kind == "digest"
                )
            ).one()
            start = as_utc(previous_end) or min(as_utc(r.created_at) or now for r in rows)
            digest = Delivery(
                watch="",
                channel=channel,
                kind="digest",
                held_for="digest" if scheduled else None,  # made by the schedule (see `held`)
                reasons=[],
                message_id=digest_message_id(channel, now),
                created_at=now,
                next_attempt_at=send_at,
                queued_at=send_at,
                period_start_at=min(start, now),
                period_end_at=now,
            )
            try:
                session.add(digest)
                session.flush()
                done = session.execute(
                    update(Delivery)
                    .where(col(Delivery.id).in_(ids), col(Delivery.status) == DeliveryStatus.HELD)
                    .values(status=DeliveryStatus.FOLDED, digest_id=digest.id)
                )
                if done.rowcount != len(ids):
                    session.rollback()  # another instance folded some of them: its digest has them
                    return Fold(None, None, 0)
                session.commit()
            except IntegrityError:
                session.rollback()  # the same channel folded at the same instant elsewhere
                return Fold(None, None, 0)
            return Fold(digest.id, None, len(ids))

    def digest_members(self, digest_id: int) -> list[PendingDelivery]:
        """The rows folded into a digest, in decision order, with their items."""
        with self._session() as session:
            rows = session.exec(
                with_items().where(Delivery.digest_id == digest_id).order_by(col(Delivery.id))
            ).all()
        return [pending_delivery(d, i, f) for d, i, f in rows]
