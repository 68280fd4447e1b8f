"""Migration 0006 (phases) on SQLite and PostgreSQL: existing outbox rows keep everything and carry no
turn; watch phases are stored and read back after the upgrade; the downgrade keeps every outbox row,
turning phase messages into the first alerts or updates older code knows, removes commentary rows held for
a digest (older code has no such kind), and drops the phase table and the new columns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy

from monitor.alerts.digest import COMMENTARY_SEQ
from monitor.alerts.phases import PhaseState
from monitor.alerts.routing import Disposition
from monitor.db.engine import make_engine, migrate
from monitor.db.records import NewItem
from monitor.db.store import Store
from tests.integration.test_migration_0004 import alembic

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def test_upgrade_keeps_rows_stores_phases_and_downgrade_keeps_phase_messages_as_alerts(
    database_url: str,
) -> None:
    """A 0005 first alert survives the upgrade with no phase; a watch's phases and a phase message (seq 0
    and seq 1) are written and read back; downgrading to 0005 keeps the three rows, the phase ones as a
    first alert and an update, and removes watch_phase; upgrading again works."""
    engine = make_engine(database_url)
    alembic(engine, "0005")
    with engine.begin() as conn:
        for sql in (
            "INSERT INTO feed_state (name, url, error_streak) VALUES ('wire', 'u', 0)",
            "INSERT INTO item (id, feed, key, title, summary, first_seen_at) VALUES (101, 'wire', 'k', 'x', '', :now)",
            "INSERT INTO story (id, title, created_at, updated_at, items, sources, topics) "
            "VALUES (101, 'x', :now, :now, 1, 1, '[]')",
            "INSERT INTO delivery (item_id, story_id, watch, channel, seq, kind, reasons, status, attempts, "
            "interrupted, created_at, next_attempt_at, queued_at) "
            "VALUES (101, 101, 'w', 'hook', 0, 'first', '[]', 'sent', 1, 0, :now, :now, :now)",
        ):
            conn.execute(sqlalchemy.text(sql), {"now": NOW})
    migrate(engine)
    store = Store(engine)
    assert store.pending_deliveries(NOW) == []  # the sent row stays sent
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("SELECT kind, phase FROM delivery")).all() == [("first", None)]
        # a story from before the revision counts as having an event report (every item alerted like one)
        assert conn.execute(sqlalchemy.text("SELECT event_reports FROM story")).all() == [(1,)]

    agreed = PhaseState("ceasefire", "agreed", NOW, NOW + timedelta(hours=1), 101, "k")
    with store.item_unit(NOW) as unit:
        unit.save_phases("w", {"ceasefire": agreed})
        item_id = unit.add_item("wire", NewItem("k2", None, None, "truce", "", NOW, None))
        assert item_id is not None
        unit.join_story(item_id, item_id, outlet="wire", copy_of=None, title="truce", topics=[])
        for story, seq in ((item_id, 0), (101, 1)):
            unit.queue(
                watch="w", story_id=story, item_id=item_id, channels=["hook"], seq=seq, kind="phase",
                reasons=["phase: ceasefire agreed"], phase="CEASEFIRE AGREED",
            )  # fmt: skip
        unit.queue(
            watch="w", story_id=item_id, item_id=item_id, channels=["brief"], seq=COMMENTARY_SEQ,
            kind="commentary", reasons=["commentary (analysis): waits for an event report"],
            holds={"brief": Disposition(hold=True, reason="digest")},
        )  # fmt: skip
    assert store.watch_phases() == {"w": [agreed]}
    pending = store.pending_deliveries(NOW)
    assert [(p.kind, p.phase, p.seq) for p in pending] == [
        ("phase", "CEASEFIRE AGREED", 0),
        ("phase", "CEASEFIRE AGREED", 1),
    ]

    alembic(engine, "0005", down=True)
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text("SELECT kind, seq, status FROM delivery ORDER BY id")).all()
        tables = set(sqlalchemy.inspect(conn).get_table_names())
        columns = {c["name"] for c in sqlalchemy.inspect(conn).get_columns("delivery")}
    assert [tuple(r) for r in rows] == [
        ("first", 0, "sent"),
        ("first", 0, "pending"),
        ("update", 1, "pending"),
    ]
    assert "watch_phase" not in tables and "phase" not in columns
    with engine.connect() as conn:
        story_columns = {c["name"] for c in sqlalchemy.inspect(conn).get_columns("story")}
    assert "event_reports" not in story_columns
    migrate(engine)  # and up again
    assert Store(engine).watch_phases() == {}
    engine.dispose()
