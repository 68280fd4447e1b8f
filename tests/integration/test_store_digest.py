"""The store's held rows and folds on real databases (SQLite file, PostgreSQL): two instances folding the
same channel at once make one digest; a release fold sends a lone row as itself; rate windows count
what was queued, not what is held."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from monitor.alerts.routing import Disposition
from monitor.db.engine import make_engine, migrate
from monitor.db.records import DeliveryStatus, Fold, NewItem
from monitor.db.store import Store

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def make_store(database_url: str) -> Store:
    engine = make_engine(database_url)
    migrate(engine)
    store = Store(engine)
    store.sync_feeds([("wire", "https://example.org/rss")])
    return store


def queue(store: Store, key: str, hold: Disposition | None, channel: str = "hook") -> None:
    with store.item_unit(NOW) as unit:
        item_id = unit.add_item("wire", NewItem(key, None, None, f"news {key}", "", NOW, None))
        assert item_id is not None
        unit.join_story(item_id, item_id, outlet="wire", copy_of=None, title=key, topics=[])
        unit.queue(
            watch="w", story_id=item_id, item_id=item_id, channels=[channel], seq=0, kind="first", reasons=[],
            holds={channel: hold} if hold else None,
        )  # fmt: skip


def test_two_instances_folding_one_channel_at_once_make_one_digest(database_url: str) -> None:
    """Two stores (two instances' engines) fold the same held rows concurrently: exactly one digest
    with every row, the other fold does nothing."""
    first, second = make_store(database_url), make_store(database_url)
    for key in "abcde":
        queue(first, key, Disposition(hold=True, reason="digest"))
    results: list[Fold] = []
    barrier = threading.Barrier(2)

    def fold(store: Store, offset: int) -> None:
        barrier.wait()
        at = NOW + timedelta(hours=1, microseconds=offset)
        results.append(store.fold("hook", now=at, send_at=at, scheduled=True))

    threads = [threading.Thread(target=fold, args=(s, i)) for i, s in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.rows for r in results) == [0, 5]
    entries = first.outbox(None)
    assert [e.kind for e in entries if e.kind == "digest"] == ["digest"]
    assert {e.digest_id for e in entries if e.status == "folded"} == {
        next(e.id for e in entries if e.kind == "digest")
    }
    for store in (first, second):
        store.engine.dispose()


def test_release_folds_send_a_lone_row_as_itself_and_several_as_a_digest(database_url: str) -> None:
    """Rows held until a time are released when it comes: one alone goes back to pending as itself,
    several become one digest; rows held for the scheduled digest stay held."""
    store = make_store(database_url)
    later = NOW + timedelta(hours=1)
    queue(store, "a", Disposition(hold=True, release_at=later, reason="quiet"))
    queue(store, "b", Disposition(hold=True, reason="digest"))
    [held] = store.held()
    assert (held.oldest_for_digest_at, held.first_release_at) == (NOW, later)
    alone = store.fold("hook", now=later, send_at=later, scheduled=False)
    assert (alone.digest_id, alone.rows) == (None, 1)
    [pending] = store.pending_deliveries(later)
    assert (pending.id, pending.kind, pending.title) == (alone.released_id, "first", "news a")
    queue(store, "c", Disposition(hold=True, release_at=later, reason="rate"))
    queue(store, "d", Disposition(hold=True, release_at=later + timedelta(minutes=5), reason="rate"))
    several = store.fold("hook", now=later, send_at=later, scheduled=False)
    assert several.rows == 2 and several.digest_id is not None
    assert [m.title for m in store.digest_members(several.digest_id)] == ["news c", "news d"]
    assert [(e.kind, e.status, e.held_for) for e in store.outbox([DeliveryStatus.HELD])] == [
        ("first", "held", "digest")
    ]
    store.engine.dispose()


def test_rate_window_counts_queued_and_released_rows_not_held_ones(database_url: str) -> None:
    """A row sent at once counts from its decision, a released row or a digest from its release; held
    rows do not count until they go."""
    store = make_store(database_url)
    queue(store, "a", None)
    queue(store, "b", Disposition(hold=True, release_at=NOW + timedelta(minutes=30), reason="quiet"))
    with store.item_unit(NOW) as unit:
        assert unit.recent_sends("hook", NOW - timedelta(hours=1)) == [NOW]
    released_at = NOW + timedelta(minutes=30)
    store.fold("hook", now=released_at, send_at=released_at, scheduled=False)
    with store.item_unit(released_at) as unit:
        assert sorted(unit.recent_sends("hook", released_at - timedelta(hours=1))) == [NOW, released_at]
        assert unit.recent_sends("other", released_at - timedelta(hours=1)) == []
    store.engine.dispose()


def test_a_row_waiting_for_quiet_hours_to_end_does_not_hold_back_later_rows_but_a_retry_does(
    database_url: str,
) -> None:
    """A row released into quiet hours (due at their end) is skipped by the deliverer's per-channel queue,
    so a later critical row goes out; a row waiting for its retry still holds back the rows behind it."""
    store = make_store(database_url)
    quiet_end = NOW + timedelta(hours=6)
    queue(store, "a", Disposition(hold=True, release_at=NOW, reason="rate"))
    released = store.fold("hook", now=NOW, send_at=quiet_end, scheduled=False)
    queue(store, "b", None)  # critical, decided after the release
    assert [p.title for p in store.pending_deliveries(NOW)] == ["news b"]
    assert [p.title for p in store.pending_deliveries(quiet_end)] == ["news a", "news b"]
    assert released.released_id is not None
    store.mark_retry(released.released_id, error="timeout", retry_at=quiet_end + timedelta(minutes=5))
    assert store.pending_deliveries(quiet_end) == []  # b never overtakes a's retry
    after_retry = quiet_end + timedelta(minutes=5)
    assert [p.title for p in store.pending_deliveries(after_retry)] == ["news a", "news b"]
    store.engine.dispose()
