"""The service's answers to questions over a real store (SQLite and PostgreSQL), checked
against the same rules computed in Python from the tickets themselves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest

from chatbot.analysis.metrics import first_response
from chatbot.analysis.source import TicketsSource
from chatbot.core.grammar import Calendar, parse_period
from chatbot.service import ReportService
from chatbot.sources.demo import demo_tickets, load_demo
from chatbot.store import open_store
from tests.conftest import NOW
from tests.pg import fresh_database

LATER = datetime(2025, 4, 29, 8, 0, tzinfo=UTC)  # the demo moved to NOW, asked days later


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReportService]:
    """The service over the demo tickets on each database (loaded once), asked at LATER."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('questions') / 'demo.db'}"
        else:
            url = stack.enter_context(fresh_database())
        store = open_store(url)
        stack.callback(store.engine.dispose)
        load_demo(store, NOW)
        yield ReportService(store, clock=lambda: LATER)


def test_waiting_lists_every_open_ticket_without_a_team_reply_oldest_first(
    service: ReportService,
) -> None:
    """`waiting` is every ticket open now with no team reply yet, oldest first, whatever its age."""
    tickets = demo_tickets(NOW)
    expected = sorted(
        (
            t
            for t in tickets
            if t.is_open_at(LATER) and ((r := first_response(t)) is None or r >= LATER)
        ),
        key=lambda t: (t.created_at, t.key),
    )
    answer = service.waiting(limit=30)
    assert answer.total == len(expected) > 30
    assert [(w.ticket.repo, w.ticket.number) for w in answer.tickets] == [
        t.key for t in expected[:30]
    ]
    oldest = expected[0]
    assert answer.tickets[0].hours == pytest.approx(
        (LATER - oldest.created_at).total_seconds() / 3600, abs=1e-6
    )
    assert answer.tickets[0].ticket.title == oldest.title


@pytest.mark.parametrize("request_text", ["last-week", "last-month", "this-week"])
def test_trend_is_the_period_and_the_three_before_it(
    service: ReportService, request_text: str
) -> None:
    """`trend` holds four consecutive periods of one kind, oldest first, with their figures."""
    period = parse_period(request_text, Calendar(now=LATER))
    answer = service.trend(period)
    periods = [p.period for p in answer.points]
    assert periods[-1] == period
    assert [p.previous() for p in periods[1:]] == periods[:-1]
    reference = TicketsSource(demo_tickets(NOW))
    for point in answer.points:
        until = LATER if point.partial else None
        assert point.partial == point.period.in_progress(LATER)
        assert point.figures == reference.period_figures(
            point.period.start_at, point.period.end_at, until=until
        )
