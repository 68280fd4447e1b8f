"""Migration 0005 (claims name their process) on SQLite and PostgreSQL: rows keep their status, attempts
and lease; a row claimed before the upgrade names no process, so recovery leaves it to its lease; the
downgrade keeps every row, folded digest members included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy

from monitor.alerts.routing import Disposition
from monitor.db.engine import make_engine, migrate
from monitor.db.records import Claim
from monitor.db.store import Store
from tests.integration.test_migration_0004 import alembic, queue_held

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def test_upgrade_keeps_old_claims_on_their_lease_and_downgrade_keeps_every_row(database_url: str) -> None:
    """A row claimed under 0004 (lease running) is still pending after the upgrade, with no owner and no
    interrupted sends; recovery, even treating every process as gone, does not release it; after its lease
    it is claimed as before, with the earlier claim counted as an interrupted attempt. Downgrading to 0004
    drops the two columns and keeps all rows (a digest and its folded members), then upgrading works."""
    engine = make_engine(database_url)
    alembic(engine, "0004")
    with engine.begin() as conn:  # two alerts, the first claimed as 0004 did it: lease, one attempt
        conn.execute(
            sqlalchemy.text("INSERT INTO feed_state (name, url, error_streak) VALUES ('wire', 'u', 0)")
        )
        for n in (1, 2):  # item and story ids clear of PostgreSQL's sequence, which stays at 1
            values = {"n": 100 + n, "now": NOW, "due": NOW + LEASE if n == 1 else NOW, "tries": 2 - n}
            for sql in (
                "INSERT INTO item (id, feed, key, title, summary, first_seen_at) "
                "VALUES (:n, 'wire', :n, 'news', '', :now)",
                "INSERT INTO story (id, title, created_at, updated_at, items, sources, topics) "
                "VALUES (:n, 'news', :now, :now, 1, 1, '[]')",
                "INSERT INTO delivery (item_id, story_id, watch, channel, seq, kind, reasons, status, "
                "attempts, created_at, next_attempt_at, queued_at) "
                "VALUES (:n, :n, 'w', 'hook', 0, 'first', '[]', 'pending', :tries, :now, :due, :now)",
            ):
                conn.execute(sqlalchemy.text(sql), values)
    migrate(engine)
    store = Store(engine)
    entries = {e.id: e for e in store.outbox(None)}
    assert [(e.status, e.attempts, e.interrupted, e.claimed_by) for e in entries.values()] == [
        ("pending", 0, 0, None),  # newest first
        ("pending", 1, 0, None),
    ]
    assert store.recover_claims(NOW, lambda _owner: True) == 0
    assert store.pending_deliveries(NOW) == []  # row 2 waits behind the leased row 1
    assert store.claim(1, NOW, LEASE, owner="x") is None
    assert store.claim(1, NOW + LEASE, LEASE, owner="x") == Claim(attempts=2, interrupted=0)
    store.mark_sent(1, NOW + LEASE)

    queue_held(store, NOW, "c", Disposition(hold=True, reason="digest"))
    queue_held(store, NOW, "d", Disposition(hold=True, reason="digest"))
    fold = store.fold("hook", now=NOW + LEASE, send_at=NOW + LEASE, scheduled=True)
    assert fold.digest_id is not None and fold.rows == 2
    assert store.claim(fold.digest_id, NOW + LEASE, LEASE, owner="x") == Claim(attempts=1, interrupted=0)
    alembic(engine, "0004", down=True)
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text("SELECT kind, status, attempts FROM delivery ORDER BY id")).all()
        columns = {c["name"] for c in sqlalchemy.inspect(conn).get_columns("delivery")}
    assert [tuple(r) for r in rows] == [
        ("first", "sent", 2),
        ("first", "pending", 0),
        ("first", "folded", 0),
        ("first", "folded", 0),
        ("digest", "pending", 1),
    ]
    assert not {"claimed_by", "interrupted"} & columns
    migrate(engine)  # and up again
    engine.dispose()
