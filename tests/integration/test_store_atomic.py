"""One item's rows are all-or-nothing on every backend, so a crash mid-decision loses no alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.db.engine import make_engine, migrate
from monitor.db.records import Claim, NewItem
from monitor.db.store import Store


def test_an_item_unit_that_fails_after_storing_the_item_leaves_nothing(database_url: str) -> None:
    """An exception after add_item (as if the story step crashed) rolls the item back, so the next poll
    still sees it as new and decides its alerts again."""
    engine = make_engine(database_url)
    migrate(engine)
    store = Store(engine)
    store.sync_feeds([("wire", "https://example.org/rss")])
    now = datetime(2020, 9, 27, tzinfo=UTC)
    with pytest.raises(RuntimeError), store.item_unit(now) as unit:
        assert unit.add_item("wire", NewItem("k1", "g1", None, "title", "", None, None)) is not None
        raise RuntimeError("crash between storing the item and deciding its story")
    assert store.known_keys("wire", ["k1"]) == set()
    engine.dispose()


def test_forgetting_the_body_makes_the_next_poll_process_the_feed_again(database_url: str) -> None:
    """After a poll that deferred items, the stored validators and body hash are cleared, so the next
    poll neither gets a 304 nor skips the unchanged body."""
    engine = make_engine(database_url)
    migrate(engine)
    store = Store(engine)
    store.sync_feeds([("wire", "https://example.org/rss")])
    now = datetime(2020, 9, 27, tzinfo=UTC)
    store.record_success(
        "wire", now=now, next_due_at=now, etag='"v1"', last_modified="x", body_hash="h1", title="W"
    )
    store.record_success(
        "wire", now=now, next_due_at=now, etag='"v2"', last_modified=None, body_hash=None, title=None
    )
    assert (store.feed_state("wire").body_hash, store.feed_state("wire").title) == ("h1", "W")
    store.record_success(
        "wire",
        now=now,
        next_due_at=now,
        etag=None,
        last_modified=None,
        body_hash=None,
        title=None,
        forget_body=True,
    )
    state = store.feed_state("wire")
    assert (state.etag, state.last_modified, state.body_hash) == (None, None, None)
    engine.dispose()


def test_only_one_instance_claims_a_due_delivery_and_a_dead_sender_gives_it_back(database_url: str) -> None:
    """Two instances (two engines) race for one due outbox row: one wins; after the lease it is due again,
    so a sender killed mid-send delays the alert but never loses it, and its send counts as interrupted."""
    engine = make_engine(database_url)
    migrate(engine)
    store = Store(engine)
    store.sync_feeds([("wire", "https://example.org/rss")])
    now = datetime(2020, 9, 27, tzinfo=UTC)
    with store.item_unit(now) as unit:
        item_id = unit.add_item("wire", NewItem("k1", "g1", None, "title", "", now, None))
        assert item_id is not None
        unit.join_story(item_id, item_id, outlet="wire", copy_of=None, title="title", topics=[])
        unit.queue(
            watch="w", story_id=item_id, item_id=item_id, channels=["email"], seq=0, kind="first", reasons=[]
        )
    (row,) = store.pending_deliveries(now)
    other = Store(make_engine(database_url))
    lease = timedelta(minutes=5)
    assert [store.claim(row.id, now, lease, owner="a"), other.claim(row.id, now, lease, owner="b")] == [
        Claim(attempts=1, interrupted=0),
        None,
    ]
    assert store.pending_deliveries(now) == []
    assert [p.id for p in store.pending_deliveries(now + lease)] == [row.id]
    # the first sender never marked it: its send counts as an attempt, cut short
    assert other.claim(row.id, now + lease, lease, owner="b") == Claim(attempts=2, interrupted=1)
    other.engine.dispose()
    engine.dispose()
