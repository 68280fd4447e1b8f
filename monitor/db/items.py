"""Items: which of a feed's items are already known, and the transaction that stores a new one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from monitor.core.errors import ConcurrentUpdate
from monitor.db.base import StoreBase
from monitor.db.tables import ItemRow
from monitor.db.unit import ItemUnit

CHUNK = 500  # keys per IN (...) list, well under every database's parameter limit


class ItemQueries(StoreBase):
    def known_keys(self, feed: str, keys: Iterable[str]) -> set[str]:
        """Those of `keys` this feed already has."""
        wanted = list(keys)
        known: set[str] = set()
        with self._session() as session:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                known.update(
                    session.exec(
                        select(ItemRow.key).where(ItemRow.feed == feed, col(ItemRow.key).in_(chunk))
                    ).all()
                )
        return known

    def known_links(self, feed: str, links: Iterable[str]) -> set[str]:
        """Canonical links this feed already has: an item re-published under a new guid is the same item."""
        wanted = [link for link in links if link]
        known: set[str] = set()
        with self._session() as session:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start : start + CHUNK]
                known.update(
                    link
                    for link in session.exec(
                        select(ItemRow.link).where(ItemRow.feed == feed, col(ItemRow.link).in_(chunk))
                    ).all()
                    if link
                )
        return known

    @contextmanager
    def item_unit(self, now: datetime) -> Iterator[ItemUnit]:
        """A transaction for one item and everything decided about it; committed when the block ends.
        Raises ConcurrentUpdate (nothing stored) when another instance changed the same story meanwhile."""
        with self._session() as session:
            try:
                yield ItemUnit(session, now)
                session.commit()
            except IntegrityError as exc:
                session.rollback()
                raise ConcurrentUpdate(
                    "another instance updated the same story; the item is retried"
                ) from exc
