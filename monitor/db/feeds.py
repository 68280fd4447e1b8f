"""Feed state: HTTP validators, the poll schedule and error streaks, kept across restarts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select

from monitor.core.clock import as_utc
from monitor.db.base import StoreBase
from monitor.db.records import FeedRecord
from monitor.db.tables import FeedState


class FeedQueries(StoreBase):
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

    def feed_state(self, name: str) -> FeedRecord:
        """The feed's state; KeyError when it has none (not synced)."""
        with self._session() as session:
            state = session.get(FeedState, name)
            if state is None:
                raise KeyError(name)
        return FeedRecord(
            name=state.name,
            url=state.url,
            title=state.title,
            etag=state.etag,
            last_modified=state.last_modified,
            body_hash=state.body_hash,
            next_due_at=as_utc(state.next_due_at),
            last_polled_at=as_utc(state.last_polled_at),
            last_success_at=as_utc(state.last_success_at),
            error_streak=state.error_streak,
            last_error=state.last_error,
        )

    def due_feeds(self, names: Iterable[str], now: datetime) -> list[str]:
        """Those of `names` due for a poll at `now`, in the order given."""
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
        forget_body: bool = False,
    ) -> None:
        """`body_hash=None` keeps the stored hash; `forget_body` clears it (the body must be processed again)."""
        with self._session() as session:
            state = session.get_one(FeedState, name)
            state.etag, state.last_modified = etag, last_modified
            state.body_hash = None if forget_body else body_hash or state.body_hash
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
