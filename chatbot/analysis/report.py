"""Assemble the report model of a period from the tickets it touched."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chatbot.analysis.metrics import breakdown, compute_figures, per_day, waiting_for_reply
from chatbot.analysis.recommendations import recommend
from chatbot.analysis.scoring import last_activity, rank, score_ticket, ticket_ref
from chatbot.analysis.themes import find_themes
from chatbot.core.models import Ticket
from chatbot.core.periods import Period
from chatbot.core.report import DailyLink, Figures, Report, Waiting

MAX_WAITING = 10


def build_report(
    *,
    period: Period,
    tickets: Sequence[Ticket],
    backlog: int,
    previous: Figures | None,
    now: datetime,
    repos: Sequence[str],
    top: int = 5,
    daily_links: Sequence[DailyLink] = (),
    source: str = "store",
) -> Report:
    """The full report of ``period``; pure: the same inputs give the same report."""
    tickets = [t for t in tickets if last_activity(t, period) is not None]
    figures = compute_figures(tickets, period, backlog)
    ranked = rank(score_ticket(t, period, now) for t in tickets)
    order = [(a.ticket.repo, a.ticket.number) for a in ranked]
    themes = find_themes(tickets, period, order)
    waiting = waiting_for_reply(tickets, period, now)
    return Report(
        period=period,
        generated_at=now,
        repos=tuple(repos),
        figures=figures,
        previous=previous,
        previous_period=period.previous() if previous is not None else None,
        most_active=tuple(ranked[:top]),
        active_total=len(ranked),
        breakdown=tuple(breakdown(tickets, period)),
        themes=tuple(themes),
        recommendations=tuple(recommend(tickets, period, now, figures, previous, ranked, themes)),
        opened_per_day=tuple(per_day(tickets, period)),
        daily_links=tuple(daily_links),
        source=source,
        waiting=tuple(Waiting(ticket=ticket_ref(t), hours=h) for t, h in waiting[:MAX_WAITING]),
        waiting_total=len(waiting),
    )
