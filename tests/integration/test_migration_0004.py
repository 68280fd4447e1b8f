"""Migration 0004 (routing) on SQLite and PostgreSQL: existing outbox rows keep their status and count
toward rate limits, the upgraded schema takes held rows and digests, and a downgrade sends held and
folded rows individually instead of losing them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Engine

from monitor.alerts.routing import Disposition
from monitor.db.engine import MIGRATIONS, make_engine, migrate
from monitor.db.records import NewItem
from monitor.db.store import Store

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def alembic(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def queue_held(store: Store, now: datetime, key: str, hold: Disposition) -> None:
    with store.item_unit(now) as unit:
        item_id = unit.add_item("wire", NewItem(key, None, None, f"news {key}", "", NOW, None))
        assert item_id is not None
        unit.join_story(item_id, item_id, outlet="wire", copy_of=None, title=key, topics=[])
        unit.queue(
            watch="w", story_id=item_id, item_id=item_id, channels=["hook"], seq=0, kind="first", reasons=[],
            holds={"hook": hold},
        )  # fmt: skip


def test_upgrade_keeps_rows_and_counts_them_then_downgrade_releases_held_and_folded_rows(
    database_url: str,
) -> None:
    """A 0003 outbox row survives the upgrade with its status and counts for the rate window; after
    upgrade held rows and digests can be stored and folded; downgrading to 0003 marks rows folded into a
    sent digest as sent (they went out in it), turns the other held and folded rows back into pending
    ones, and removes the digest rows."""
    engine = make_engine(database_url)
    alembic(engine, "0003")
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text("INSERT INTO feed_state (name, url, error_streak) VALUES ('wire', 'u', 0)")
        )
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO item (id, feed, key, title, summary, first_seen_at) "
                "VALUES (7, 'wire', 'k', 'old news', '', :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO story (id, title, created_at, updated_at, items, sources, topics) "
                "VALUES (7, 'old news', :now, :now, 1, 1, '[]')"
            ),
            {"now": NOW},
        )
        conn.execute(
            sqlalchemy.text(
                "INSERT INTO delivery (item_id, story_id, watch, channel, seq, kind, reasons, status, attempts, "
                "created_at, next_attempt_at) VALUES (7, 7, 'w', 'hook', 0, 'first', '[]', 'sent', 1, :now, :now)"
            ),
            {"now": NOW},
        )
    migrate(engine)
    store = Store(engine)
    with store.item_unit(NOW + timedelta(minutes=5)) as unit:
        assert unit.recent_sends("hook", NOW - timedelta(hours=1)) == [NOW]
        for key in ("a", "b"):
            item_id = unit.add_item("wire", NewItem(key, None, None, f"news {key}", "", NOW, None))
            assert item_id is not None
            unit.join_story(item_id, item_id, outlet="wire", copy_of=None, title=key, topics=[])
            unit.queue(
                watch="w", story_id=item_id, item_id=item_id, channels=["hook"], seq=0, kind="first",
                reasons=[], holds={"hook": Disposition(hold=True, reason="digest")},
            )  # fmt: skip
    fold = store.fold("hook", now=NOW + timedelta(hours=1), send_at=NOW + timedelta(hours=1), scheduled=True)
    assert (fold.rows, fold.digest_id is not None) == (2, True)
    assert fold.digest_id is not None
    sent_at = NOW + timedelta(hours=1, minutes=1)
    store.mark_sent(fold.digest_id, sent_at)
    for key in ("c", "d"):
        queue_held(store, NOW + timedelta(hours=2), key, Disposition(hold=True, reason="digest"))
    later = store.fold("hook", now=NOW + timedelta(hours=3), send_at=NOW + timedelta(hours=3), scheduled=True)
    assert later.rows == 2
    quiet = Disposition(hold=True, release_at=NOW + timedelta(hours=5), reason="quiet")
    queue_held(store, NOW + timedelta(hours=4), "e", quiet)
    assert [(e.kind, e.status) for e in store.outbox(None)] == [
        ("first", "held"),
        ("digest", "pending"),
        ("first", "folded"),
        ("first", "folded"),
        ("digest", "sent"),
        ("first", "folded"),
        ("first", "folded"),
        ("first", "sent"),
    ]
    alembic(engine, "0003", down=True)
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text("SELECT kind, status, sent_at FROM delivery ORDER BY id")).all()
    assert [tuple(r[:2]) for r in rows] == [
        ("first", "sent"),  # sent before the upgrade
        ("first", "sent"),  # a and b went out in the sent digest: not sent again
        ("first", "sent"),
        ("first", "pending"),  # c and d: their digest never went out
        ("first", "pending"),
        ("first", "pending"),  # e: held for quiet hours
    ]
    assert [_utc(r[2]) for r in rows[1:3]] == [sent_at, sent_at]
    migrate(engine)  # and up again
    engine.dispose()


def _utc(value: object) -> datetime:
    """SQLite hands a stored timestamp back as text without its zone; it was stored in UTC."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
