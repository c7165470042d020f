"""Shared fixtures: a clean environment per test, stores on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from chatbot.config import Settings
from chatbot.store import SQLAlchemyTicketStore, open_store
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


@pytest.fixture
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a SQLite file that does not exist yet."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'store.db'}"


@pytest.fixture
def postgres_url(pg_database: str) -> str:
    """The URL of this run's PostgreSQL database, with an empty public schema."""
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
    """An empty, migrated ticket store on each database; no connection may leak."""
    opened = open_store(db_url)
    yield opened
    pool = opened.engine.pool
    checked_out = pool.checkedout() if hasattr(pool, "checkedout") else 0
    opened.engine.dispose()
    assert checked_out == 0, f"{checked_out} connections leaked"
