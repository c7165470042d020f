"""``/healthz`` of a real ``chatbot serve`` reports whether the store can be reached.

The store is taken away while the process runs: PostgreSQL stops accepting connections to
its database (and the open ones are ended); the SQLite file is replaced by a directory.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from chatbot.delivery.slack.messages import STORE_UNAVAILABLE
from tests.fakes.slack_api import FakeSlack
from tests.pg import PG_ADMIN_URL, fresh_database
from tests.test_slack_endpoint import (
    FORM,
    Served,
    _serve,
    fresh_serve,
    get_health,
    log_of,
    post,
    signed,
    slash_form,
)

__all__ = ["fresh_serve"]  # the fixture, used by name


@pytest.mark.postgres
def test_healthz_says_503_when_postgresql_refuses_connections(tmp_path: Path) -> None:
    """With its database closed to connections, a running serve answers 503; then 200 again.

    A slash command meanwhile gets a clear ephemeral line, not a 500.
    """
    with fresh_database("support_report_health") as url, FakeSlack() as fake:
        name = make_url(url).database
        cluster = _serve(fake, tmp_path, url)
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            port = cluster.replicas[0].port
            assert get_health(port).status == 200
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
            answer = get_health(port)
            assert (answer.status, answer.json()) == (
                503,
                {"status": "store unavailable", "slack": "http"},
            )
            assert b"postgres" not in answer.body
            assert b"5432" not in answer.body
            form = slash_form(fake)
            asked = post(port, form, signed(form, FORM))  # the replay check needs the store too
            assert asked.status == 200
            assert asked.json() == {"response_type": "ephemeral", "text": STORE_UNAVAILABLE}
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            assert get_health(port).status == 200
            cluster.stop_all()
            assert log_of(cluster.replicas[0]).count('"event": "store_unreachable"') == 1
        finally:
            cluster.close()
            admin.dispose()


def test_healthz_says_503_when_the_sqlite_file_is_replaced_by_a_directory(
    fresh_serve: Served,
) -> None:
    """A running serve whose SQLite file became a directory answers 503, without its path."""
    assert get_health(fresh_serve.port).status == 200
    database = fresh_serve.database
    for leftover in database.parent.glob(database.name + "*"):
        leftover.unlink()
    database.mkdir()
    try:
        answer = get_health(fresh_serve.port)
        assert (answer.status, answer.json()) == (
            503,
            {"status": "store unavailable", "slack": "http"},
        )
        assert str(database).encode() not in answer.body
    finally:
        fresh_serve.cluster.stop_all()
        shutil.rmtree(database)
