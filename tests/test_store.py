"""The ticket store contract, on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool
from structlog.testing import capture_logs

from chatbot.app import build_app
from chatbot.config import load_settings
from chatbot.store import SQLAlchemyTicketStore, make_engine, migrate, open_store
from chatbot.store.database import MIGRATIONS, SCHEMA_HEAD
from chatbot.store.tables import meta, metadata, tickets
from chatbot.store.ticket_store import ANALYZE_AFTER
from tests.factories import TEAM, USER, at, comment, ticket
from tests.pg import fresh_database


def test_migrations_match_the_tables(store: SQLAlchemyTicketStore) -> None:
    """The Alembic migrations create exactly the tables the code declares."""
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_round_trip_keeps_everything(store: SQLAlchemyTicketStore) -> None:
    """A saved ticket comes back equal, with labels, fields and comments in order."""
    original = ticket(
        7,
        "2025-04-22 09:00",
        closed="2025-04-23 10:00",
        labels=("bug", "os:mac"),
        reactions=4,
        form_fields=(("Version", "1.2"), ("OS", "macOS")),
        comments=(comment("2025-04-22 10:00", TEAM, "hi"), comment("2025-04-22 11:00", USER)),
    )
    stats = store.save_tickets([original])
    assert (stats.new, stats.updated, stats.comments) == (1, 0, 2)
    [loaded] = store.find_tickets(7)
    assert loaded == original
    assert loaded.created_at.tzinfo is not None


def test_saving_again_updates_in_place(store: SQLAlchemyTicketStore) -> None:
    """Saving a ticket twice updates it; labels are replaced, not added to."""
    first = ticket(1, "2025-04-22 09:00", labels=("bug",))
    store.save_tickets([first])
    closed = replace(first, state="closed", closed_at=at("2025-04-24 09:00"), labels=("done",))
    stats = store.save_tickets([closed])
    assert (stats.new, stats.updated) == (0, 1)
    [loaded] = store.find_tickets(1)
    assert loaded.state == "closed"
    assert loaded.labels == ("done",)
    assert store.count_tickets() == 1


def test_touched_finds_opened_closed_and_commented(store: SQLAlchemyTicketStore) -> None:
    """A period's query returns tickets opened, closed or commented in it, and no others."""
    store.save_tickets(
        [
            ticket(1, "2025-04-22 09:00"),
            ticket(2, "2025-04-01 09:00", closed="2025-04-22 09:00"),
            ticket(3, "2025-04-01 09:00", comments=(comment("2025-04-22 09:00"),)),
            ticket(4, "2025-04-01 09:00", comments=(comment("2025-04-02 09:00"),)),
            ticket(5, "2025-04-23 00:00"),
        ]
    )
    found = store.tickets_touched(at("2025-04-22 00:00"), at("2025-04-23 00:00"))
    assert [t.number for t in found] == [1, 2, 3]
    assert len(found[2].comments) == 1


def test_backlog_counts_open_tickets_at_a_moment(store: SQLAlchemyTicketStore) -> None:
    """Backlog: opened before the moment and not closed by it."""
    store.save_tickets(
        [
            ticket(1, "2025-04-01 09:00"),
            ticket(2, "2025-04-01 09:00", closed="2025-04-10 09:00"),
            ticket(3, "2025-04-01 09:00", closed="2025-04-30 09:00"),
            ticket(4, "2025-04-20 09:00"),
        ]
    )
    assert store.backlog(at("2025-04-15 00:00")) == 2
    assert store.backlog(at("2025-05-01 00:00")) == 2


def test_comments_saved_on_their_own(store: SQLAlchemyTicketStore) -> None:
    """Comments can arrive apart from their ticket; those of unknown tickets are skipped."""
    store.save_tickets([ticket(1, "2025-04-22 09:00")])
    saved = store.save_comments(
        "acme/support", [(1, comment("2025-04-22 10:00")), (99, comment("2025-04-22 10:00"))]
    )
    assert saved == 1
    store.save_tickets([ticket(1, "2025-04-22 09:00", title="renamed")], with_comments=False)
    [loaded] = store.find_tickets(1)
    assert loaded.title == "renamed"
    assert len(loaded.comments) == 1


def test_same_number_in_two_repos(store: SQLAlchemyTicketStore) -> None:
    """Tickets are keyed by repository and number; a number alone may match several."""
    store.save_tickets(
        [ticket(5, "2025-04-22 09:00", repo="a/one"), ticket(5, "2025-04-22 09:00", repo="b/two")]
    )
    assert len(store.find_tickets(5)) == 2
    assert [t.repo for t in store.find_tickets(5, "B/Two")] == ["b/two"]
    assert store.repos() == ["a/one", "b/two"]


def test_clear_and_meta(store: SQLAlchemyTicketStore) -> None:
    """Clearing removes tickets and comments; meta values persist and can be replaced."""
    store.save_tickets([ticket(1, "2025-04-22 09:00", comments=(comment("2025-04-22 10:00"),))])
    store.set_meta("k", "1")
    store.set_meta("k", "2")
    store.clear()
    assert store.count_tickets() == 0
    assert store.get_meta("k") == "2"
    assert store.get_meta("missing") is None


def test_schema_head_is_the_newest_migration() -> None:
    """SCHEMA_HEAD, which start-up compares with, is the head of the Alembic scripts."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    assert ScriptDirectory.from_config(config).get_heads() == [SCHEMA_HEAD]


def test_ids_of_64_bits_round_trip(store: SQLAlchemyTicketStore) -> None:
    """Issue numbers and comment ids beyond 32 bits (up to 2**63 - 1) are kept."""
    big = 2**63 - 1
    original = ticket(
        2**40, "2025-04-22 09:00", comments=(replace(comment("2025-04-22 10:00"), id=big),)
    )
    assert store.save_tickets([original]).rejected == ()
    [loaded] = store.find_tickets(2**40)
    assert loaded.comments[0].id == big


def test_a_refused_row_is_logged_by_reference_without_its_text(
    store: SQLAlchemyTicketStore,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A ticket the database refuses is left out and logged by reference; the rest is saved."""
    # NUL is refused by PostgreSQL, a lone surrogate by SQLite's UTF-8 encoder
    poison = "\x00" if store.engine.dialect.name == "postgresql" else "\ud800"
    bad = ticket(2, "2025-04-22 09:00", title=f"SECRET-TITLE {poison}")
    good = [ticket(n, "2025-04-22 09:00", title="fine") for n in (1, 3)]
    caplog.set_level("INFO")
    with capture_logs() as logs:
        stats = store.save_tickets([good[0], bad, good[1]])
    assert (stats.new, stats.rejected[0][:2]) == (2, ("acme/support", 2))
    assert sorted(t.number for t in store.find_tickets(1) + store.find_tickets(3)) == [1, 3]
    # structlog may be configured by an earlier test (stdlib logging) or not (captured)
    out, err = capsys.readouterr()
    logged = repr(logs) + caplog.text + out + err
    assert "ticket_not_saved" in logged
    assert "acme/support#2" in logged
    assert "SECRET" not in logged


def test_database_errors_never_show_parameters(store: SQLAlchemyTicketStore) -> None:
    """A failed statement's error names the statement, never the values bound to it."""
    store.set_meta("k", "SECRET-VALUE")
    with pytest.raises(IntegrityError) as caught, store.engine.begin() as conn:
        conn.execute(insert(meta).values(key="k", value="SECRET-VALUE"))
    assert "SECRET" not in str(caught.value)


def test_migration_flags_rows_of_a_demo_store_as_demo(db_url: str) -> None:
    """Upgrading to 0004 marks existing rows as demo iff the store's demo mark is set."""
    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        conn.execute(
            text(
                "INSERT INTO tickets (repo, number, title, body, state, author_login,"
                " author_association, author_is_bot, url, reactions, comment_count,"
                " created_at, updated_at) VALUES ('a/b', 1, 't', '', 'open', 'u', 'NONE',"
                " false, '', 0, 0, '2025-01-01 00:00:00', '2025-01-01 00:00:00')"
            )
        )
        conn.execute(text("INSERT INTO store_meta VALUES ('demo_loaded_at', '2025-01-01')"))
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(select(tickets.c.demo)).scalars().all() == [True]
    engine.dispose()


def test_start_up_on_a_current_schema_needs_no_write() -> None:
    """A migrated store opens (and a same-day demo is kept) on a database refusing writes."""
    with fresh_database("support_report_ro") as url:
        opened = build_app(load_settings(None, database_url=url))
        count = opened.store.count_tickets()
        opened.store.engine.dispose()
        admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as conn:
            name = conn.execute(text("SELECT current_database()")).scalar()
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
        admin.dispose()
        again = build_app(load_settings(None, database_url=url))
        assert again.store.count_tickets() == count > 0
        again.store.engine.dispose()


def test_sqlite_keeps_temporary_data_in_memory_and_a_big_page_cache(sqlite_url: str) -> None:
    """Each row an upsert writes keeps its undo record in memory, not in a temporary file,
    index pages stay cached, and the WAL is checkpointed seldom: each made SQLite's cost per
    ticket grow with the store."""
    opened = open_store(sqlite_url)
    with opened.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY
        cache_kib = -int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())  # in -KiB
        checkpoint = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    opened.engine.dispose()
    assert cache_kib >= 32 * 1024
    assert checkpoint >= 16_000


def test_a_big_first_load_into_postgresql_is_vacuumed(postgres_url: str) -> None:
    """After a load of ANALYZE_AFTER new tickets or more, PostgreSQL has statistics for the
    planner and knows the new pages all-visible, so a report's counts (backlog, figures)
    are index-only scans at once instead of reading every row until autovacuum runs."""
    opened = open_store(postgres_url)
    opened.save_tickets(
        ticket(n, f"2025-04-{1 + n % 28:02d} 09:00") for n in range(1, ANALYZE_AFTER + 1)
    )
    with opened.engine.connect() as conn:
        vacuumed, analysed = conn.execute(
            text(
                "SELECT vacuum_count, analyze_count FROM pg_stat_user_tables"
                " WHERE relname = 'tickets'"
            )
        ).one()
        visible = conn.execute(
            text("SELECT relallvisible FROM pg_class WHERE relname = 'tickets'")
        ).scalar_one()
    opened.engine.dispose()
    assert (vacuumed, analysed) >= (1, 1)
    assert visible > 0
