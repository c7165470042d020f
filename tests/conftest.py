"""Shared fixtures: a clean environment per test, stores on SQLite and on PostgreSQL.

A test that asks for ``db_url`` alone gets a database with nothing in it (a SQLite file that
does not exist yet, an empty PostgreSQL schema), as a first run would. A test that asks for
``store`` gets a migrated database with empty tables, made without migrating each time: a
copy of a SQLite file migrated once per run, or a PostgreSQL database migrated once per run
whose rows are deleted (its schema compared with the migrated one first, and rebuilt if a
test changed it).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from chatbot.config import Settings
from chatbot.store import SQLAlchemyTicketStore, open_store
from chatbot.store.tables import metadata
from tests.pg import fresh_database

NOW = datetime(2025, 4, 24, 15, 30, tzinfo=UTC)  # a Thursday


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test starts with none of our variables set and runs in its own folder."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for name in ("TZ", "CHATBOT_CONFIG", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once for this run, copied for each test that opens a store."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    open_store(f"sqlite:///{path}").engine.dispose()
    return path


def _schema(conn: Connection) -> list[tuple[object, ...]]:
    """Tables, columns, indexes, constraints and the migration version of ``public``."""
    found = conn.execute(
        text(
            "SELECT 'column', table_name, column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_schema = 'public'"
            " UNION ALL SELECT 'index', tablename, indexname, indexdef, '', ''"
            " FROM pg_indexes WHERE schemaname = 'public'"
            " UNION ALL SELECT 'constraint', conrelid::regclass::text, conname,"
            " pg_get_constraintdef(oid), '', '' FROM pg_constraint"
            " WHERE connamespace = 'public'::regnamespace"
            " UNION ALL SELECT 'version', version_num, '', '', '', '' FROM alembic_version"
            " ORDER BY 1, 2, 3"
        )
    ).all()
    return [tuple(row) for row in found]


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[tuple[str, list[tuple[object, ...]]]]:
    """A PostgreSQL database migrated once for this run, and its schema as migrated."""
    with fresh_database("support_report_test_migrated") as url:
        open_store(url).engine.dispose()
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as conn:
            schema = _schema(conn)
        engine.dispose()
        yield url, schema


def _emptied(url: str, schema: list[tuple[object, ...]]) -> None:
    """Delete every row at ``url`` (sequences restarted); rebuild it if its schema changed."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            if _schema(conn) == schema:
                for table in reversed(metadata.sorted_tables):
                    conn.execute(table.delete())
                for (sequence,) in conn.execute(
                    text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
                ):
                    conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
                return
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    open_store(url).engine.dispose()


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a SQLite file that does not exist yet (migrated, for a test with ``store``)."""
    path = tmp_path_factory.mktemp("db") / "store.db"
    if "store" in request.fixturenames:
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, pg_database: str) -> str:
    """An empty public schema in this run's database (for a test with ``store``: migrated)."""
    if "store" in request.fixturenames:
        url, schema = request.getfixturevalue("pg_migrated")
        _emptied(url, schema)
        return str(url)
    engine = create_engine(pg_database, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return pg_database


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A database URL with an empty schema: a SQLite file, or a fresh PostgreSQL schema."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def store(db_url: str) -> Iterator[SQLAlchemyTicketStore]:
    """An empty, migrated ticket store on each database; no connection may leak.

    ``db_url`` comes migrated already for a test that asks for this fixture (see the module's
    docstring); opening it checks the migration and finds nothing to do.
    """
    opened = open_store(db_url)
    yield opened
    pool = opened.engine.pool
    checked_out = pool.checkedout() if hasattr(pool, "checkedout") else 0
    opened.engine.dispose()
    assert checked_out == 0, f"{checked_out} connections leaked"
