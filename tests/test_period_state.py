"""State at the end of the period: tables agree with the counts, whatever happened since."""

from __future__ import annotations

import json
from dataclasses import replace

from chatbot.analysis import build_report
from chatbot.core.models import Ticket
from chatbot.core.periods import week_period
from chatbot.core.report import Report
from chatbot.render import render_json, render_markdown
from chatbot.render.discord_embeds import render_discord_message
from chatbot.render.slack_blocks import render_slack_report
from tests.factories import TEAM, USER, at, comment, ticket

WEEK = week_period(at("2025-04-21 00:00").date())  # 2025-04-21..27


def report_of(tickets: list[Ticket], now: str = "2025-05-02 12:00") -> Report:
    return build_report(
        period=WEEK, tickets=tickets, backlog=0, previous=None, now=at(now), repos=["acme/support"]
    )


def closed_later() -> Ticket:
    """#1: opened and discussed in the week, closed on 04-29, after the week ended."""
    return ticket(
        1,
        "2025-04-24 09:00",
        closed="2025-04-29 10:00",
        comments=(comment("2025-04-24 10:00", TEAM), comment("2025-04-25 10:00", USER)),
    )


def test_ticket_closed_after_the_period_is_open_in_its_tables() -> None:
    """#1 counts as still open and every rendering shows it 'open (closed 04-29)'."""
    report = report_of([closed_later()])
    assert report.figures.still_open == 1
    ref = report.most_active[0].ticket
    assert (ref.number, ref.state, ref.since) == (1, "open", "closed 04-29")
    assert "| open (closed 04-29) |" in render_markdown(report)
    data = json.loads(render_json(report))
    row = data["most_active_tickets"][0]
    assert (row["state"], row["state_changed_since"]) == ("open", "closed 04-29")
    slack = json.dumps(render_slack_report(report), ensure_ascii=False)
    discord = json.dumps(render_discord_message(report), ensure_ascii=False)
    assert "— open (closed 04-29)" in slack
    assert "— open (closed 04-29)" in discord


def test_unchanged_state_has_no_note() -> None:
    """Seen after it was already closed, the same ticket is simply 'closed'."""
    report = report_of([closed_later()], now="2025-04-30 12:00")
    later = build_report(
        period=week_period(at("2025-04-28 00:00").date()),
        tickets=[closed_later()],
        backlog=0,
        previous=None,
        now=at("2025-05-05 12:00"),
        repos=["acme/support"],
    )
    assert report.most_active[0].ticket.state_text == "open (closed 04-29)"
    assert later.most_active[0].ticket.state_text == "closed"


def test_ticket_reopened_after_the_period_is_closed_in_its_tables() -> None:
    """Closed in the week and open today: 'closed (reopened since)', and not still open."""
    reopened = replace(ticket(2, "2025-04-22 09:00", closed="2025-04-23 09:00"), state="open")
    report = report_of([reopened])
    assert report.figures.still_open == 0
    assert report.most_active[0].ticket.state_text == "closed (reopened since)"
    assert "| closed (reopened since) |" in render_markdown(report)


def test_cited_tickets_everywhere_use_the_period_state() -> None:
    """The waiting list and the recommendations cite the same period-end state."""
    waiting = ticket(3, "2025-04-22 09:00", closed="2025-04-30 09:00")
    report = report_of([waiting])
    assert [(w.ticket.state, w.ticket.since) for w in report.waiting] == [("open", "closed 04-30")]
    for rec in report.recommendations:
        assert all(ref.state_text == "open (closed 04-30)" for ref in rec.tickets)
