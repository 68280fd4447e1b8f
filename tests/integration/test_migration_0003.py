"""Migration 0003 (dead letters) on SQLite and PostgreSQL: rows given up before it become dead letters
the operator is not told about again."""

from __future__ import annotations

import sqlalchemy

from monitor.db.engine import make_engine, migrate
from monitor.db.store import Store
from tests.integration.test_migration_0002 import NOW, old_database


def test_upgrade_to_0003_turns_given_up_rows_into_notified_dead_letters(database_url: str) -> None:
    """Rows a 0002 database gave up ('failed') are dead letters after the upgrade, already counted as
    notified so the operator is not flooded; pending rows are untouched."""
    engine = make_engine(database_url)
    with old_database(engine, "0002") as connection:
        connection.execute(
            sqlalchemy.text(
                "INSERT INTO story (id, title, created_at, updated_at, items, sources, topics) "
                "VALUES (7, 'old news', :now, :now, 1, 1, '[]')"
            ),
            {"now": NOW},
        )
        for channel, status in (("email", "failed"), ("chat", "pending")):
            connection.execute(
                sqlalchemy.text(
                    "INSERT INTO delivery (item_id, story_id, watch, channel, seq, kind, reasons, status, "
                    "attempts, last_error, created_at, next_attempt_at) "
                    "VALUES (7, 7, 'w', :channel, 0, 'first', '[]', :status, 1, 'boom', :now, :now)"
                ),
                {"channel": channel, "status": status, "now": NOW},
            )
    migrate(engine)
    store = Store(engine)
    assert store.delivery_counts() == {"dead": 1, "pending": 1}
    assert store.dead_unnotified() == []
    assert [(e.channel, e.status) for e in store.outbox(None)] == [("chat", "pending"), ("email", "dead")]
    engine.dispose()
