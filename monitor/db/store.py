"""Every query the program makes. Callers get plain values back, never a live session."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.clock import as_utc
from monitor.db.tables import Delivery, FeedState, ItemRow


@dataclass(frozen=True)
class NewItem:
    """An item to store with its match result and the outbox rows its alert decision produced."""

    key: str
    guid: str | None
    link: str | None
    title: str
    summary: str
    published_at: datetime | None
    match: dict[str, Any] | None
    deliveries: tuple[tuple[str, str], ...]  # (watch, channel)


@dataclass(frozen=True)
class PendingDelivery:
    id: int
    watch: str
    channel: str
    attempts: int
    feed: str
    feed_title: str | None
    title: str
    summary: str
    link: str | None
    published_at: datetime | None
    match: dict[str, Any]


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # --- feeds -----------------------------------------------------------------------------------

    def sync_feeds(self, feeds: Iterable[tuple[str, str]]) -> None:
        """Create state rows for configured feeds (name, url); a changed URL resets its validators."""
        with self._session() as session:
            for name, url in feeds:
                state = session.get(FeedState, name)
                if state is None:
                    session.add(FeedState(name=name, url=url))
                elif state.url != url:
                    state.url, state.etag, state.last_modified, state.body_hash = url, None, None, None
                    state.error_streak, state.next_due_at = 0, None
                    session.add(state)
            session.commit()

    def feed_state(self, name: str) -> FeedState:
        with self._session() as session:
            state = session.get(FeedState, name)
            if state is None:
                raise KeyError(name)
            return state

    def due_feeds(self, names: Iterable[str], now: datetime) -> list[str]:
        wanted = list(names)
        with self._session() as session:
            rows = session.exec(
                select(FeedState.name).where(
                    col(FeedState.name).in_(wanted),
                    or_(col(FeedState.next_due_at).is_(None), col(FeedState.next_due_at) <= now),
                )
            ).all()
        return [name for name in wanted if name in set(rows)]

    def record_success(
        self,
        name: str,
        *,
        now: datetime,
        next_due_at: datetime,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
        title: str | None,
    ) -> None:
        with self._session() as session:
            state = session.get_one(FeedState, name)
            state.etag, state.last_modified = etag, last_modified
            state.body_hash = body_hash or state.body_hash
            state.title = title or state.title
            state.last_polled_at = state.last_success_at = now
            state.next_due_at = next_due_at
            state.error_streak, state.last_error = 0, None
            session.add(state)
            session.commit()

    def record_failure(self, name: str, *, now: datetime, error: str) -> int:
        """Count one more failure in a row; returns the new streak so the caller can back off."""
        with self._session() as session:
            state = session.get_one(FeedState, name)
            state.error_streak += 1
            state.last_error = error
            state.last_polled_at = now
            session.add(state)
            session.commit()
            return state.error_streak

    def set_next_due(self, name: str, next_due_at: datetime) -> None:
        with self._session() as session:
            state = session.get_one(FeedState, name)
            state.next_due_at = next_due_at
            session.add(state)
            session.commit()

    # --- items -----------------------------------------------------------------------------------

    def known_keys(self, feed: str, keys: Iterable[str]) -> set[str]:
        wanted = list(keys)
        known: set[str] = set()
        with self._session() as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                known.update(
                    session.exec(
                        select(ItemRow.key).where(ItemRow.feed == feed, col(ItemRow.key).in_(chunk))
                    ).all()
                )
        return known

    def add_items(self, feed: str, items: Iterable[NewItem], now: datetime) -> int:
        """Store items and their outbox rows in one transaction; an item another writer stored first is
        skipped (its alerts are that writer's). Returns how many were new."""
        added = 0
        with self._session() as session:
            for new in items:
                try:
                    with session.begin_nested():
                        row = ItemRow(
                            feed=feed,
                            key=new.key,
                            guid=new.guid,
                            link=new.link,
                            title=new.title,
                            summary=new.summary,
                            published_at=new.published_at,
                            first_seen_at=now,
                            match=new.match,
                        )
                        session.add(row)
                        session.flush()
                        assert row.id is not None
                        for watch, channel in new.deliveries:
                            session.add(
                                Delivery(
                                    item_id=row.id,
                                    watch=watch,
                                    channel=channel,
                                    created_at=now,
                                    next_attempt_at=now,
                                )
                            )
                        session.flush()
                    added += 1
                except IntegrityError:
                    continue
            session.commit()
        return added

    # --- outbox ----------------------------------------------------------------------------------

    def pending_deliveries(self, now: datetime, limit: int = 100) -> list[PendingDelivery]:
        with self._session() as session:
            rows = session.exec(
                select(Delivery, ItemRow, FeedState)
                .join(ItemRow, col(ItemRow.id) == col(Delivery.item_id))
                .join(FeedState, col(FeedState.name) == col(ItemRow.feed))
                .where(Delivery.status == "pending", col(Delivery.next_attempt_at) <= now)
                .order_by(col(Delivery.id))
                .limit(limit)
            ).all()
            return [
                PendingDelivery(
                    id=d.id or 0,
                    watch=d.watch,
                    channel=d.channel,
                    attempts=d.attempts,
                    feed=i.feed,
                    feed_title=f.title,
                    title=i.title,
                    summary=i.summary,
                    link=i.link,
                    published_at=as_utc(i.published_at),
                    match=i.match or {},
                )
                for d, i, f in rows
            ]

    def mark_sent(self, delivery_id: int, now: datetime) -> None:
        self._update_delivery(delivery_id, status="sent", sent_at=now, last_error=None)

    def mark_failed(self, delivery_id: int, *, error: str, retry_at: datetime | None) -> None:
        """`retry_at=None` gives up on the row (status failed); otherwise it stays pending until then."""
        status = "failed" if retry_at is None else "pending"
        self._update_delivery(delivery_id, status=status, last_error=error, next_attempt_at=retry_at)

    def _update_delivery(self, delivery_id: int, **values: Any) -> None:
        with self._session() as session:
            row = session.get_one(Delivery, delivery_id)
            row.attempts += 1
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            session.commit()

    def delivery_counts(self) -> dict[str, int]:
        with self._session() as session:
            rows = session.exec(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        return dict(rows)
