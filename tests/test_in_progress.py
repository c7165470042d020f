"""Periods in progress are compared with the same elapsed time of the period before."""

from __future__ import annotations

import json

import pytest

from chatbot.core.grammar import parse_period
from chatbot.core.models import Ticket
from chatbot.render import render_json, render_markdown
from chatbot.render.discord_embeds import render_discord_message
from chatbot.render.slack_blocks import render_slack_report
from chatbot.service import ReportService
from chatbot.store import SQLAlchemyTicketStore
from tests.factories import at, ticket

NOW = at("2026-12-02 10:00")


def tickets() -> list[Ticket]:
    """Nov 1–2 up to 10:00: #1 #2 #3 #4 (#3 closed by then); later in November: #5 to #9."""
    return [
        ticket(1, "2026-11-01 08:00"),
        ticket(2, "2026-11-01 09:00"),
        ticket(3, "2026-11-01 10:00", closed="2026-11-02 09:00"),
        ticket(4, "2026-11-02 09:59", closed="2026-11-20 09:00"),
        ticket(5, "2026-11-02 10:30", closed="2026-11-02 11:00"),
        *(ticket(n, "2026-11-15 12:00") for n in range(6, 10)),
        ticket(10, "2026-12-01 09:00", closed="2026-12-02 08:00"),
        ticket(11, "2026-12-02 08:00"),
    ]


@pytest.fixture
def service(store: SQLAlchemyTicketStore) -> ReportService:
    store.save_tickets(tickets())
    return ReportService(store, clock=lambda: NOW)


def test_this_month_on_the_2nd_compares_with_the_1st_and_2nd(service: ReportService) -> None:
    """Dec 1–2 (2 received, 1 resolved) against Nov 1 to Nov 2 10:00 (4 received, 1 resolved)."""
    report = service.build_report(parse_period("this-month", service.calendar()))
    previous, before = report.previous, report.previous_period
    assert previous is not None
    assert before is not None
    assert (before.start.isoformat(), before.end.isoformat()) == ("2026-11-01", "2026-11-02")
    assert report.previous_until == at("2026-11-02 10:00")
    assert (previous.received, previous.resolved, previous.still_open) == (4, 1, 3)
    assert previous.backlog == 3  # #1 #2 #4 open at Nov 2 10:00
    assert (report.figures.received, report.figures.resolved) == (2, 1)


def test_in_progress_comparison_is_said_in_every_rendering(service: ReportService) -> None:
    """Markdown, Block Kit and Discord say 'Dec 1–2 vs Nov 1–2' and trend against Nov 1–2."""
    report = service.build_report(parse_period("this-month", service.calendar()))
    markdown = render_markdown(report)
    assert "Compared with: Dec 1–2 vs Nov 1–2 — the period is in progress" in markdown
    assert "- **Received:** 2 (Nov 1–2: 4, -2)" in markdown
    slack = json.dumps(render_slack_report(report), ensure_ascii=False)
    discord = json.dumps(render_discord_message(report), ensure_ascii=False)
    for text in (slack, discord):
        assert "Dec 1–2 vs Nov 1–2" in text
        assert "Nov 1–2: 4, -2" in text
    data = json.loads(render_json(report))
    assert data["previous_period"]["same_elapsed_time"] is True
    assert data["previous_summary"]["received"] == 4


def test_a_finished_period_is_compared_whole(service: ReportService) -> None:
    """last-month (November) is compared with all of October, as before."""
    report = service.build_report(parse_period("last-month", service.calendar()))
    assert report.previous_until is None
    assert report.previous_period is not None
    assert report.previous_period.label == "2026-10"
    assert "(previous period: 0, +9)" in render_markdown(report)
