"""The store on real databases: feed state, at-most-once items, stories, and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerts.threading import message_id
from monitor.db.engine import make_engine, migrate
from monitor.db.records import Claim, DeliveryStatus, NewItem
from monitor.db.store import Store
from monitor.match import MatchResult

NOW = datetime(2020, 9, 27, 12, 0, tzinfo=UTC)


def new_item(key: str) -> NewItem:
    return NewItem(
        key=key,
        guid=key,
        link=f"https://example.org/{key}",
        title=f"title {key}",
        summary="",
        published_at=NOW - timedelta(hours=1),
        match=MatchResult(topics=["escalation"], watches=[], entities=[]),
    )


def store_alerting(
    store: Store, key: str, channels: tuple[str, ...] = ("email",), feed: str = "wire"
) -> int | None:
    """Store one item as the founder of its own story and queue a first alert on `channels`."""
    with store.item_unit(NOW) as unit:
        item_id = unit.add_item(feed, new_item(key))
        if item_id is None:
            return None
        unit.join_story(
            item_id, item_id, outlet=feed, copy_of=None, title=f"title {key}", topics=["escalation"]
        )
        if channels:
            unit.queue(
                watch="w",
                story_id=item_id,
                item_id=item_id,
                channels=channels,
                seq=0,
                kind="first",
                reasons=[],
            )
    return item_id


@pytest.fixture
def store(database_url: str) -> Store:
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # a second start-up finds the schema current and changes nothing
    store = Store(engine)
    store.sync_feeds([("wire", "https://example.org/rss"), ("other", "https://example.net/rss")])
    return store


def test_items_are_stored_once_per_feed_and_key(store: Store) -> None:
    """Re-adding a known key is skipped, so an item is matched and alerted at most once."""
    assert store_alerting(store, "a") is not None
    assert store_alerting(store, "b", channels=()) is not None
    assert store_alerting(store, "a") is None
    assert store.known_keys("wire", ["a", "b", "c"]) == {"a", "b"}
    assert store.known_links("wire", ["https://example.org/a", "https://example.org/z"]) == {
        "https://example.org/a"
    }
    assert store.delivery_counts() == {"pending": 1}


def test_two_writers_racing_on_one_item_produce_one_alert(database_url: str, store: Store) -> None:
    """A second instance (its own engine) storing the same item loses the race without a duplicate alert."""
    other = Store(make_engine(database_url))
    assert store_alerting(store, "x") is not None
    assert store_alerting(other, "x") is None
    assert store.delivery_counts() == {"pending": 1}
    other.engine.dispose()


def test_story_counts_independent_sources_not_reprints(store: Store) -> None:
    """Members from two outlets count two sources; a reprint and a second item of one outlet do not."""
    story = store_alerting(store, "s1", channels=())
    assert story is not None
    with store.item_unit(NOW) as unit:
        second = unit.add_item("other", new_item("s2"))
        assert second is not None
        view = unit.join_story(second, story, outlet="other", copy_of=None, title="t", topics=["ceasefire"])
    assert (view.items, view.sources, view.topics, view.created) == (2, 2, ["escalation", "ceasefire"], False)
    with store.item_unit(NOW) as unit:
        third = unit.add_item("wire", new_item("s3"))
        assert third is not None
        view = unit.join_story(third, story, outlet="wire", copy_of=second, title="t", topics=[])
    assert (view.items, view.sources) == (3, 2)
    [summary] = store.recent_stories(NOW - timedelta(days=1))
    assert [(m.outlet, m.copy) for m in summary.members] == [
        ("wire", False),
        ("other", False),
        ("wire", True),
    ]
    window = store.window_items(NOW - timedelta(days=1))
    assert [w.story_id for w in window] == [story, story, story]
    # every member carries when the story's founding item was published (core_span counts from it)
    assert [w.story_started for w in window] == [NOW - timedelta(hours=1)] * 3


def test_a_reprint_polled_before_the_wire_it_copies_does_not_make_the_wire_a_second_source(
    store: Store,
) -> None:
    """Feeds are polled in no fixed order: when the reprint arrives first, the wire report (published
    earlier) is still the original, and a later wire report adds no source."""
    store.sync_feeds([("metro", "https://metro.example/rss")])
    late = NewItem("r", "r", "https://metro.example/r", "t", "", NOW - timedelta(minutes=10), None)
    with store.item_unit(NOW) as unit:
        reprint = unit.add_item("metro", late)
        assert reprint is not None
        unit.join_story(reprint, reprint, outlet="metro", copy_of=None, title="t", topics=[])
    with store.item_unit(NOW) as unit:
        wire = unit.add_item("wire", new_item("w1"))  # published 50 minutes before the reprint
        assert wire is not None
        view = unit.join_story(wire, reprint, outlet="wire", copy_of=reprint, title="t", topics=[])
    assert (view.sources, view.reprint) == (1, False)  # the item arriving second is the original
    with store.item_unit(NOW) as unit:
        follow_up = unit.add_item("wire", new_item("w2"))
        assert follow_up is not None
        view = unit.join_story(follow_up, reprint, outlet="wire", copy_of=None, title="t", topics=[])
    assert (view.items, view.sources, view.reprint) == (3, 1, False)
    assert [(m.outlet, m.copy) for m in store.story_sources(reprint)] == [
        ("metro", True),
        ("wire", False),
        ("wire", False),
    ]


def test_outbox_rows_come_back_in_decision_order_until_marked(store: Store) -> None:
    """Pending rows are returned oldest first with their item; each claimed send counts as one attempt;
    sent and given-up rows leave the queue, a retry waits until its time."""
    store_alerting(store, "a", channels=("email", "chat"))
    store_alerting(store, "b")
    pending = store.pending_deliveries(NOW)
    assert [(p.title, p.channel) for p in pending] == [
        ("title a", "email"),
        ("title a", "chat"),
        ("title b", "email"),
    ]
    assert pending[0].published_at == NOW - timedelta(hours=1)
    assert pending[0].message_id == message_id(pending[0].story_id, "w", "email", 0)
    for row in pending:
        assert store.claim(row.id, NOW, timedelta(minutes=1)) == Claim(attempts=1, interrupted=0)
    store.mark_sent(pending[0].id, NOW)
    store.mark_dead(pending[1].id, error="535 auth", now=NOW)
    store.mark_retry(pending[2].id, error="timeout", retry_at=NOW + timedelta(minutes=1))
    assert store.pending_deliveries(NOW) == []
    assert [p.id for p in store.pending_deliveries(NOW + timedelta(minutes=1))] == [pending[2].id]
    assert store.delivery_counts() == {"sent": 1, "dead": 1, "pending": 1}
    [dead] = store.dead_unnotified()
    assert (dead.id, dead.channel, dead.reason, dead.attempts) == (pending[1].id, "chat", "535 auth", 1)
    store.mark_operator_notified(dead.id, NOW)
    assert store.dead_unnotified() == []


def test_a_row_waiting_for_its_retry_holds_back_later_rows_of_its_channel_only(store: Store) -> None:
    """Later emails never overtake an earlier one that is waiting to be retried; other channels go on."""
    for key in ("a", "b", "c"):
        store_alerting(store, key, channels=("email", "chat"))
    first_email = store.pending_deliveries(NOW)[0]
    store.mark_retry(first_email.id, error="connection refused", retry_at=NOW + timedelta(minutes=5))
    due = store.pending_deliveries(NOW)
    assert [(p.title, p.channel) for p in due] == [
        ("title a", "chat"),
        ("title b", "chat"),
        ("title c", "chat"),
    ]
    later = store.pending_deliveries(NOW + timedelta(minutes=5))
    assert [p.title for p in later if p.channel == "email"] == ["title a", "title b", "title c"]


def test_outbox_listing_and_retry_of_a_dead_row(store: Store) -> None:
    """`outbox` lists rows by status; a dead row retried is pending again, due now, attempts reset; a sent
    row is never re-queued."""
    store_alerting(store, "a", channels=("email", "chat"))
    email, chat = store.pending_deliveries(NOW)
    assert store.claim(email.id, NOW, timedelta(minutes=1)) is not None
    assert store.claim(chat.id, NOW, timedelta(minutes=1)) is not None
    store.mark_dead(email.id, error="535 auth", now=NOW)
    store.mark_sent(chat.id, NOW)
    assert [(e.id, e.status, e.attempts, e.last_error) for e in store.outbox([DeliveryStatus.DEAD])] == [
        (email.id, "dead", 1, "535 auth")
    ]
    assert [e.status for e in store.outbox(None)] == ["sent", "dead"]
    assert store.retry_delivery(email.id, NOW) == "dead"
    [entry] = store.outbox([DeliveryStatus.PENDING])
    assert (entry.id, entry.attempts, entry.next_attempt_at) == (email.id, 0, NOW)
    assert store.retry_delivery(chat.id, NOW) == "sent"
    assert store.retry_delivery(999, NOW) is None
    assert store.delivery_counts() == {"sent": 1, "pending": 1}


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
