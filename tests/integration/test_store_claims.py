"""Outbox claims name their process, on SQLite and PostgreSQL: a restart releases at once the rows a
process that no longer runs was sending, leaves live and foreign claims to their lease, and every claimed
send counts as an attempt, so a message whose send never finishes runs out of attempts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from monitor.db.engine import make_engine, migrate
from monitor.db.records import Claim, DeliveryStatus, NewItem
from monitor.db.store import Store

NOW = datetime(2020, 9, 27, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)
DEAD, LIVE = "host/101/5000/site/boot", "host/202/6000/site/boot"


def gone(owner: str) -> bool:
    return owner == DEAD


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    engine = make_engine(database_url)
    migrate(engine)
    store = Store(engine)
    store.sync_feeds([("wire", "https://example.org/rss")])
    yield store
    engine.dispose()


def queue(store: Store, key: str, channels: list[str]) -> None:
    with store.item_unit(NOW) as unit:
        item_id = unit.add_item("wire", NewItem(key, None, None, f"title {key}", "", NOW, None))
        assert item_id is not None
        unit.join_story(item_id, item_id, outlet="wire", copy_of=None, title=key, topics=[])
        unit.queue(
            watch="w", story_id=item_id, item_id=item_id, channels=channels, seq=0, kind="first", reasons=[]
        )


def test_claims_of_a_stopped_process_are_released_at_once_and_live_ones_are_kept(store: Store) -> None:
    """A row claimed by a process that is gone holds back its channel until recovery makes it due now;
    a row claimed by a live process keeps its lease; the recovered row's next claim counts the cut-short
    send, and a second recovery finds nothing."""
    queue(store, "a", ["email", "chat"])
    queue(store, "b", ["email"])
    email_a, chat_a, email_b = store.pending_deliveries(NOW)
    assert store.claim(email_a.id, NOW, LEASE, owner=DEAD) == Claim(attempts=1, interrupted=0)
    assert store.claim(chat_a.id, NOW, LEASE, owner=LIVE) == Claim(attempts=1, interrupted=0)
    assert store.pending_deliveries(NOW) == []  # email b waits behind email a
    [claimed] = [e for e in store.outbox([DeliveryStatus.PENDING]) if e.id == email_a.id]
    assert claimed.claimed_by == DEAD and claimed.attempts == 1

    assert store.recover_claims(NOW, gone) == 1
    assert [p.id for p in store.pending_deliveries(NOW)] == [email_a.id, email_b.id]
    assert store.claim(email_a.id, NOW, LEASE, owner=LIVE) == Claim(attempts=2, interrupted=1)
    assert store.recover_claims(NOW, gone) == 0
    store.mark_sent(email_a.id, NOW)
    [sent] = [e for e in store.outbox(None) if e.id == email_a.id]
    assert (sent.status, sent.attempts, sent.interrupted, sent.claimed_by) == ("sent", 2, 1, None)


def test_a_row_another_instance_claimed_after_the_lease_is_not_released(store: Store) -> None:
    """Recovery releases a row only while the stopped process still holds it: once another instance has
    claimed it (the lease ran out), that instance's send is left alone, so no second copy goes out."""
    queue(store, "a", ["email"])
    [row] = store.pending_deliveries(NOW)
    assert store.claim(row.id, NOW, LEASE, owner=DEAD) is not None
    later = NOW + LEASE
    assert store.claim(row.id, later, LEASE, owner=LIVE) == Claim(attempts=2, interrupted=1)
    assert store.recover_claims(later, gone) == 0
    assert store.claim(row.id, later, LEASE, owner="third") is None


def test_a_send_that_never_finishes_uses_up_the_attempts_and_the_row_is_given_up(store: Store) -> None:
    """Each claim is an attempt, marked or not; with max_attempts 2, the third claim of a row whose sends
    were both cut short comes back exhausted (no new attempt), and a retry verdict does not count again."""
    queue(store, "a", ["email"])
    [row] = store.pending_deliveries(NOW)
    assert store.claim(row.id, NOW, LEASE, owner=DEAD, max_attempts=2) == Claim(1, 0)
    store.mark_retry(row.id, error="timeout", retry_at=NOW)  # a failure: counted at claim time only
    assert store.claim(row.id, NOW, LEASE, owner=DEAD, max_attempts=2) == Claim(2, 0, last_error="timeout")
    assert store.recover_claims(NOW, gone) == 1  # ... and the process died during that send
    claim = store.claim(row.id, NOW, LEASE, owner=LIVE, max_attempts=2)
    assert claim == Claim(attempts=2, interrupted=1, exhausted=True, last_error="timeout")
    store.mark_dead(row.id, error="the daemon stopped during the send once", now=NOW)
    [dead] = store.dead_unnotified()
    assert (dead.attempts, dead.reason) == (2, "the daemon stopped during the send once")
    assert store.retry_delivery(row.id, NOW) == "dead"
    [again] = store.outbox([DeliveryStatus.PENDING])
    assert (again.attempts, again.interrupted, again.claimed_by) == (0, 0, None)
