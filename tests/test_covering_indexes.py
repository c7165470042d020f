"""Migration 0008: a store upgraded from 0007 answers a period's reads as before, and
those reads find what they need in the covering indexes."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from chatbot.core.models import Ticket
from chatbot.store import SQLAlchemyTicketStore, make_engine, migrate, open_store
from chatbot.store.database import MIGRATIONS, SCHEMA_HEAD, schema_version
from chatbot.store.period_source import _facts_statement
from tests.factories import TEAM, USER, at, comment, ticket

START, END = at("2025-04-01 00:00"), at("2025-05-01 00:00")
AS_OF = at("2025-04-30 12:00")


def _tickets() -> list[Ticket]:
    return [
        ticket(
            1,
            "2025-04-02 09:00",
            closed="2025-04-20 10:00",
            labels=("bug",),
            form_fields=(("OS", "macOS"),),
            comments=(comment("2025-04-02 10:00", TEAM), comment("2025-04-03 11:00", USER)),
        ),
        ticket(2, "2025-03-01 09:00", labels=("bug",), comments=(comment("2025-04-10 09:00"),)),
        ticket(3, "2025-03-01 09:00", closed="2025-04-05 09:00", labels=("question",)),
        ticket(4, "2025-04-25 09:00"),
    ]


def _answers(store: SQLAlchemyTicketStore) -> tuple[object, ...]:
    breakdown = sorted(store.breakdown_counts(START, END), key=lambda b: (b.dimension, b.value))
    return (
        store.period_facts(START, END, AS_OF),
        store.period_facts(START, END, AS_OF, open_only=True),
        breakdown,
        store.period_figures(START, END),
        store.received_counts(START, END),
    )


def test_a_store_before_0008_upgrades_to_the_same_answers(db_url: str) -> None:
    """Tickets saved at 0007 give the same facts, breakdown and figures after 0008."""
    engine = make_engine(db_url)
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0007")
    old = SQLAlchemyTicketStore(engine)
    old.save_tickets(_tickets())
    before = _answers(old)
    assert before[0], "the period has facts to compare"
    assert before[2], "and breakdown rows"
    migrate(engine)
    assert schema_version(engine) == SCHEMA_HEAD
    assert _answers(SQLAlchemyTicketStore(engine)) == before
    engine.dispose()


def test_a_periods_facts_read_threads_from_the_index_alone(sqlite_url: str) -> None:
    """SQLite aggregates each thread from the covering comment index, never the comment
    rows (which hold the bodies), and finds the span's tickets in the time indexes."""
    store = open_store(sqlite_url)
    store.save_tickets(_tickets())
    statement = _facts_statement(False, START, END, AS_OF, open_only=False)
    compiled = statement.compile(store.engine, compile_kwargs={"literal_binds": True})
    with store.engine.connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]
    store.engine.dispose()
    threads = [step for step in plan if step.startswith("SEARCH comments")]
    assert threads, plan
    assert all("COVERING INDEX" in step for step in threads), plan
    spans = [step for step in plan if "created_at>" in step or "closed_at>" in step]
    assert len(spans) == 3, plan
    assert all("COVERING INDEX" in step for step in spans), plan
