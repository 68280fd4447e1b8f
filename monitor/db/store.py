"""`Store`: every query the program makes, behind one object.

The queries live in one module per concern (feeds, items, stories, outbox, digests, phases), each a class over
the shared engine (`monitor.db.base`); `Store` combines them, so a caller holds one object and calls
`store.claim(...)` or `store.fold(...)` without knowing which module answers. Callers get plain records
(`monitor.db.records`) back, never a live session. Writes of one item and everything decided about it
go through `Store.item_unit` (`monitor.db.unit`).
"""

from __future__ import annotations

from monitor.db.digests import DigestQueries
from monitor.db.feeds import FeedQueries
from monitor.db.items import ItemQueries
from monitor.db.outbox import OutboxQueries
from monitor.db.phases import PhaseQueries
from monitor.db.stories import StoryQueries


class Store(FeedQueries, ItemQueries, StoryQueries, OutboxQueries, DigestQueries, PhaseQueries):
    """The database of one deployment (SQLite file or PostgreSQL), shared by every instance using it."""
