"""The ticket store contract, on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chatbot.store import SQLAlchemyTicketStore
from chatbot.store.tables import metadata
from tests.factories import TEAM, USER, at, comment, ticket


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
