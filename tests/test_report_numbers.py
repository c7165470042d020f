"""Report numbers on a small hand-checked set of tickets, through the real store."""

from __future__ import annotations

import json
import math
import re

import pytest

from chatbot.core.grammar import Calendar, parse_period
from chatbot.core.models import Ticket
from chatbot.core.periods import Period
from chatbot.render import render_json, render_markdown
from chatbot.service import ReportService
from chatbot.store import SQLAlchemyTicketStore
from tests.factories import TEAM, USER, at, comment, ticket

NOW = at("2025-04-28 10:00")  # Monday after ISO week 17 (2025-04-21..27)


def hand_checked() -> list[Ticket]:
    """Seven tickets whose figures for week 17 were worked out by hand (see test docstrings)."""
    return [
        ticket(
            1,
            "2025-04-22 09:00",
            closed="2025-04-24 09:00",
            title="Login fails on SSO",
            comments=(comment("2025-04-22 11:00", TEAM), comment("2025-04-23 10:00", USER)),
            labels=("bug", "area:login"),
        ),
        ticket(2, "2025-04-25 12:00", title="Export to CSV hangs", labels=("bug",)),
        ticket(3, "2025-04-11 08:00", closed="2025-04-21 08:00", title="Old question"),
        ticket(
            4,
            "2025-04-01 08:00",
            title="Slow dashboard",
            comments=(comment("2025-04-26 10:00", TEAM),),
        ),
        ticket(5, "2025-04-15 08:00", title="Dormant"),
        ticket(
            6,
            "2025-04-27 20:00",
            title="SSO login loop",
            labels=("area:login",),
            comments=(comment("2025-04-28 02:00", TEAM),),
        ),
        ticket(7, "2025-04-20 08:00", closed="2025-04-20 12:00", title="Previous week"),
    ]


@pytest.fixture
def service(store: SQLAlchemyTicketStore) -> ReportService:
    store.save_tickets(hand_checked())
    return ReportService(store, clock=lambda: NOW)


def week(service: ReportService) -> Period:
    return parse_period("2025-W17", service.calendar())


def test_summary_figures(service: ReportService) -> None:
    """Received 3 (#1 #2 #6), resolved 2 (#1 #3), still open 2 (#2 #6), backlog 4 (#2 #4 #5 #6)."""
    figures = service.build_report(week(service)).figures
    assert (figures.received, figures.resolved, figures.still_open, figures.backlog) == (3, 2, 2, 4)
    assert figures.answered == 2
    assert figures.median_first_response_hours == pytest.approx(4.0)  # 2 h (#1) and 6 h (#6)
    assert figures.median_resolution_hours == pytest.approx(144.0)  # 48 h (#1) and 240 h (#3)


def test_previous_period_figures(service: ReportService) -> None:
    """Week 16: received #5 #7, resolved #7, backlog at its end #3 #4 #5."""
    previous = service.build_report(week(service)).previous
    assert previous is not None
    assert (previous.received, previous.resolved, previous.still_open, previous.backlog) == (
        2,
        1,
        1,
        3,
    )


def test_most_active_order_and_score(service: ReportService) -> None:
    """#1 leads: 2 comments, 2 people, opened and closed; idle 3.625 days at the period's end."""
    report = service.build_report(week(service))
    top = report.most_active[0]
    assert top.ticket.number == 1
    assert top.weight == pytest.approx(1.0 * 2 + 1.5 * 2 + 2.0 + 1.0)
    assert top.score == pytest.approx(8.0 / math.log2(3.625 + 2))
    assert report.active_total == 5  # #1 #2 #3 #4 #6 touched the week; #5 and #7 did not
    scores = [a.score for a in report.most_active]
    assert scores == sorted(scores, reverse=True)


def test_label_breakdown(service: ReportService) -> None:
    """bug: received #1 #2, resolved #1, pending #2; area:login: received #1 #6, pending #6."""
    rows = {
        b.value: (b.received, b.resolved, b.pending)
        for b in service.build_report(week(service)).breakdown
    }
    assert rows == {"bug": (2, 1, 1), "area:login": (2, 1, 1)}


def test_markdown_and_json_agree(service: ReportService) -> None:
    """The Markdown and the JSON report carry the same numbers."""
    report = service.build_report(week(service))
    data = json.loads(render_json(report))
    markdown = render_markdown(report)
    summary = data["summary"]
    assert f"**Received:** {summary['received']} " in markdown
    assert f"**Resolved:** {summary['resolved']} " in markdown
    assert f"**Still open (of those received):** {summary['still_open']} " in markdown
    assert f"**Open backlog at period end:** {summary['backlog']} " in markdown
    for row in data["most_active_tickets"]:
        assert re.search(rf"\[#{row['number']}\].*\| {row['activity_level']:.2f} \|", markdown)
    assert summary == {
        "received": 3,
        "resolved": 2,
        "still_open": 2,
        "backlog": 4,
        "answered": 2,
        "median_first_response_hours": 4.0,
        "median_resolution_hours": 144.0,
        "p90_first_response_hours": 6.0,
        "p90_resolution_hours": 240.0,
    }


def test_unanswered_ticket_is_recommended(service: ReportService) -> None:
    """#2 waited over a day with no team reply: the first recommendation answers the waiting list.

    #6 (answered only after the week ended) is in that list too, so the count is the list's.
    """
    report = service.build_report(week(service))
    first = report.recommendations[0]
    assert first.text.startswith("Answer #2, #6: 2 new tickets still without a first reply")
    assert "(the oldest waiting 2.5 days)" in first.text
    assert [t.number for t in first.tickets] == [2, 6]
    assert report.waiting_total == 2


def test_empty_period_says_so(service: ReportService) -> None:
    """A period with no tickets still has every section, each saying there was nothing."""
    cal = Calendar(now=NOW)
    report = service.build_report(parse_period("2025-01-06", cal))
    markdown = render_markdown(report)
    assert report.figures.received == 0
    assert "No ticket was opened, closed or commented on in this period." in markdown
    assert "No common issues" in markdown
    assert "None: nothing in this period's tickets calls for action." in markdown
    assert report.recommendations == ()
