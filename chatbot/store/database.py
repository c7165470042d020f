"""Open the store: make the engine, and bring the schema up to date only when it is behind.

A start-up on a current schema only reads ``alembic_version``: it never writes, so a
``chatbot report`` next to a running import does not queue for the write lock. It reads it
with plain SQL and compares it with :data:`SCHEMA_HEAD`; Alembic (a fifth of the CLI's
start-up) is imported only when there is something to migrate.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from chatbot.core.errors import StoreUnavailable
from chatbot.store.connections import exclusive, make_engine, writing
from chatbot.store.ticket_store import SQLAlchemyTicketStore

__all__ = ["SCHEMA_HEAD", "exclusive", "make_engine", "migrate", "open_store", "schema_version"]

MIGRATIONS = str(Path(__file__).with_name("migrations"))
SCHEMA_HEAD = "0008"
"""The newest Alembic revision in ``migrations/versions`` (a test checks it)."""


class SchemaUnreadable(Exception):
    """Alembic cannot upgrade the schema, e.g. it is at a revision this version lacks."""


def schema_version(engine: Engine) -> str | None:
    """The Alembic revision the database is at; None for an empty database. Reads only."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if value is None else str(value)


def migrate(engine: Engine) -> None:
    """Apply the Alembic migrations the database lacks, one process at a time.

    Does nothing (and writes nothing, and imports no Alembic) when the schema is at
    :data:`SCHEMA_HEAD`.

    Raises:
        SchemaUnreadable: if Alembic cannot upgrade it (a revision it does not know).
    """
    if schema_version(engine) == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    try:
        with exclusive(engine, "support-report:migrate"), writing(engine) as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except CommandError as exc:
        raise SchemaUnreadable(str(exc)) from exc


def _reason(exc: BaseException) -> str:
    """The first line of a driver's error, without the URL's password."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(original).__name__


def open_store(url: str) -> SQLAlchemyTicketStore:
    """The ticket store at ``url``, migrated to the current schema.

    Raises:
        StoreUnavailable: if the database cannot be reached, opened or migrated.
    """
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        raise StoreUnavailable("DATABASE_URL", "not a database URL") from None
    password = make_url(url).password
    try:
        engine = make_engine(url)
        migrate(engine)
    except NoSuchModuleError:
        raise StoreUnavailable(shown, "unknown database driver") from None
    except (DBAPIError, OSError) as exc:
        reason = _reason(exc)
        if password:
            reason = reason.replace(str(password), "***")
        raise StoreUnavailable(shown, reason) from None
    except SchemaUnreadable as exc:
        raise StoreUnavailable(shown, f"schema not readable by this version ({exc})") from None
    return SQLAlchemyTicketStore(engine)
