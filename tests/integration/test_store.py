"""The store on real databases: migrations, at-most-once items, and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.db.engine import make_engine, migrate
from monitor.db.store import NewItem, Store

NOW = datetime(2020, 9, 27, 12, 0, tzinfo=UTC)


def new_item(key: str, deliveries: tuple[tuple[str, str], ...] = ()) -> NewItem:
    return NewItem(
        key=key,
        guid=key,
        link=f"https://example.org/{key}",
        title=f"title {key}",
        summary="",
        published_at=NOW - timedelta(hours=1),
        match={"topics": ["escalation"]},
        deliveries=deliveries,
    )


@pytest.fixture
def store(database_url: str) -> Store:
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # a second start-up finds the schema current and changes nothing
    store = Store(engine)
    store.sync_feeds([("wire", "https://example.org/rss")])
    return store


def test_items_are_stored_once_per_feed_and_key(store: Store) -> None:
    """Re-adding a known key is skipped, so an item is matched and alerted at most once."""
    assert store.add_items("wire", [new_item("a", (("w", "email"),)), new_item("b")], NOW) == 2
    assert store.add_items("wire", [new_item("a", (("w", "email"),)), new_item("c")], NOW) == 1
    assert store.known_keys("wire", ["a", "b", "c", "d"]) == {"a", "b", "c"}
    assert store.delivery_counts() == {"pending": 1}


def test_two_writers_racing_on_one_item_produce_one_alert(database_url: str, store: Store) -> None:
    """A second instance (its own engine) storing the same item loses the race without a duplicate alert."""
    other = Store(make_engine(database_url))
    assert store.add_items("wire", [new_item("x", (("w", "email"),))], NOW) == 1
    assert other.add_items("wire", [new_item("x", (("w", "email"),))], NOW) == 0
    assert store.delivery_counts() == {"pending": 1}
    other.engine.dispose()


def test_outbox_rows_come_back_in_decision_order_until_marked(store: Store) -> None:
    """Pending rows are returned oldest first with their item; sent and given-up rows leave the queue, a
    retry waits until its time."""
    store.add_items(
        "wire", [new_item("a", (("w", "email"), ("w", "chat"))), new_item("b", (("w", "email"),))], NOW
    )
    pending = store.pending_deliveries(NOW)
    assert [(p.title, p.channel) for p in pending] == [
        ("title a", "email"),
        ("title a", "chat"),
        ("title b", "email"),
    ]
    assert pending[0].published_at == NOW - timedelta(hours=1)
    store.mark_sent(pending[0].id, NOW)
    store.mark_failed(pending[1].id, error="535 auth", retry_at=None)
    store.mark_failed(pending[2].id, error="timeout", retry_at=NOW + timedelta(minutes=1))
    assert store.pending_deliveries(NOW) == []
    assert [p.id for p in store.pending_deliveries(NOW + timedelta(minutes=1))] == [pending[2].id]
    assert store.delivery_counts() == {"sent": 1, "failed": 1, "pending": 1}


def test_feed_state_keeps_validators_streak_and_schedule(store: Store) -> None:
    """Failures count up and success resets them; due feeds are those whose time has come."""
    assert store.due_feeds(["wire"], NOW) == ["wire"]
    assert store.record_failure("wire", now=NOW, error="timeout") == 1
    assert store.record_failure("wire", now=NOW, error="timeout") == 2
    store.set_next_due("wire", NOW + timedelta(minutes=10))
    assert store.due_feeds(["wire"], NOW) == []
    store.record_success(
        "wire", now=NOW, next_due_at=NOW, etag='"v1"', last_modified=None, body_hash="h", title="Wire"
    )
    state = store.feed_state("wire")
    assert (state.error_streak, state.etag, state.title) == (0, '"v1"', "Wire")
    store.sync_feeds([("wire", "https://example.org/other")])
    assert store.feed_state("wire").etag is None
