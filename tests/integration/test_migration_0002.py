"""Migration 0002 (stories) on SQLite and PostgreSQL: alerts already in the outbox become one-item stories
that were alerted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection, Engine

from monitor.db.engine import MIGRATIONS, make_engine, migrate
from monitor.db.store import Store

NOW = datetime(2020, 9, 27, 12, 0, tzinfo=UTC)


@contextmanager
def old_database(engine: Engine, revision: str) -> Iterator[Connection]:
    """A database migrated only to `revision`, holding one feed and one item (id 7), for upgrade tests."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.execute(
            sqlalchemy.text("INSERT INTO feed_state (name, url, error_streak) VALUES ('wire', 'u', 0)")
        )
        connection.execute(
            sqlalchemy.text(
                "INSERT INTO item (id, feed, key, title, summary, first_seen_at) "
                "VALUES (7, 'wire', 'k', 'old news', '', :now)"
            ),
            {"now": NOW},
        )
        yield connection


def test_upgrade_from_0001_keeps_existing_alerts_as_already_sent_stories(database_url: str) -> None:
    """A database at revision 0001 with an outbox row upgrades to one-item stories already alerted."""
    engine = make_engine(database_url)
    with old_database(engine, "0001") as connection:
        connection.execute(
            sqlalchemy.text(
                "INSERT INTO delivery (item_id, watch, channel, status, attempts, created_at) "
                "VALUES (7, 'w', 'email', 'sent', 1, :now)"
            ),
            {"now": NOW},
        )
    migrate(engine)
    store = Store(engine)
    [story] = store.recent_stories(NOW - timedelta(days=1))
    assert (story.id, story.title, [a.kind for a in story.alerts]) == (7, "old news", ["first"])
    with store.item_unit(NOW) as unit:
        assert unit.watch_states(7)["w"].alerted
    engine.dispose()
