"""Open the store: make the engine, bring the schema up to date with Alembic."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from chatbot.store.ticket_store import SQLAlchemyTicketStore

MIGRATIONS = str(Path(__file__).with_name("migrations"))


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``; SQLite files get their folder, foreign keys and WAL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **options)


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """Run the block in one process at a time, across replicas sharing a PostgreSQL database.

    A session-level advisory lock on PostgreSQL; SQLite serves one process and needs none.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    key = zlib.crc32(name.encode()) - 2**31  # a stable signed 32-bit key
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration the database does not have yet, one replica at a time."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with exclusive(engine, "support-report:migrate"), engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_store(url: str) -> SQLAlchemyTicketStore:
    """The ticket store at ``url``, migrated to the current schema."""
    engine = make_engine(url)
    migrate(engine)
    return SQLAlchemyTicketStore(engine)
