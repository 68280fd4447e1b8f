"""Engine construction and schema migration at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlmodel import create_engine

from monitor.core.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, *, durable: bool = True) -> Engine:
    """SQLite gets WAL, full fsync, a busy timeout and foreign keys; other URLs are used as given.
    `durable=False` (a throw-away database, as `replay` uses) skips the fsync: a crash loses nothing of value."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        scheme = url.split(":", 1)[0]  # never echo the rest: it may hold a password
        raise ConfigError(
            [f"database: the URL (scheme {scheme!r}) is not an SQLAlchemy URL; e.g. sqlite:///var/monitor.db"]
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_connect if durable else _sqlite_connect_scratch)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except NoSuchModuleError:
        raise ConfigError([f"database: no SQLAlchemy driver for {parsed.drivername!r}"]) from None
    except ModuleNotFoundError as exc:
        raise ConfigError(
            [
                f"database: the driver module {exc.name!r} is not installed; for PostgreSQL "
                "install news-monitor[postgres] and use postgresql+psycopg://..."
            ]
        ) from None


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Take transaction control from the sqlite3 module, which would otherwise let a SAVEPOINT open (and
    its RELEASE commit) a transaction of its own, so that one item's rows are not all-or-nothing."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_connect_scratch(dbapi_connection: Any, record: Any) -> None:
    _sqlite_connect(dbapi_connection, record)
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _sqlite_begin(connection: Any) -> None:
    """IMMEDIATE takes the write lock up front (waiting up to the busy timeout) instead of failing later
    when a reading transaction tries to write while another process writes."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision; a no-op when it is already there."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
