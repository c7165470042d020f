"""Assemble the report model of a period from the tickets it touched."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from chatbot.analysis.metrics import (
    breakdown,
    compute_figures,
    per_day,
    state_at,
    waiting_for_reply,
)
from chatbot.analysis.recommendations import recommend
from chatbot.analysis.scoring import last_activity, ranking, ticket_ref
from chatbot.analysis.themes import find_themes
from chatbot.analysis.ticket_text import TextsOf
from chatbot.core.models import Ticket
from chatbot.core.periods import Period
from chatbot.core.report import DailyLink, Figures, Report, TicketRef, Waiting

MAX_WAITING = 10


def at_period_end(ref: TicketRef, ticket: Ticket, as_of: datetime, zone: ZoneInfo) -> TicketRef:
    """``ref`` with the ticket's state at ``as_of`` and a note of how it changed since."""
    then = state_at(ticket, as_of)
    since = ""
    if then != ticket.state:
        if ticket.state == "closed" and ticket.closed_at is not None:
            since = f"closed {ticket.closed_at.astimezone(zone):%m-%d}"
        else:
            since = f"{'reopened' if ticket.state == 'open' else 'closed'} since"
    return replace(ref, state=then, since=since)


def _with_period_states(report: Report, tickets: Sequence[Ticket], as_of: datetime) -> Report:
    """Every ticket the report cites, shown in its state at the end of the period."""
    by_key = {t.key: t for t in tickets}
    zone = report.period.zone

    def fix(ref: TicketRef) -> TicketRef:
        ticket = by_key.get((ref.repo, ref.number))
        return ref if ticket is None else at_period_end(ref, ticket, as_of, zone)

    return replace(
        report,
        most_active=tuple(replace(a, ticket=fix(a.ticket)) for a in report.most_active),
        themes=tuple(replace(t, tickets=tuple(map(fix, t.tickets))) for t in report.themes),
        recommendations=tuple(
            replace(r, tickets=tuple(map(fix, r.tickets))) for r in report.recommendations
        ),
        waiting=tuple(replace(w, ticket=fix(w.ticket)) for w in report.waiting),
    )


def _active_before(ticket: Ticket, before: Period, until: datetime | None) -> bool:
    """True if ``ticket`` was active in ``before`` (and before ``until``, if given)."""
    moment = last_activity(ticket, before)
    if moment is None or until is None or moment < until:
        return moment is not None
    moments = [c.created_at for c in ticket.comments]
    moments += [m for m in (ticket.created_at, ticket.closed_at) if m]
    return any(before.contains(m) and m < until for m in moments)


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
    previous_period: Period | None = None,
    previous_until: datetime | None = None,
    texts: TextsOf | None = None,
) -> Report:
    """The full report of ``period``; pure: the same inputs give the same report.

    ``texts`` reads tickets' body and comment bodies for the themes, which ask for just
    the tickets they group (``TicketStore.ticket_texts``); without it the themes read what
    the tickets carry.
    When ``previous`` figures are given, ``tickets`` are taken to cover the previous period
    too, and each theme counts the previous period's tickets that fall in it.
    """
    before = previous_period or period.previous()
    earlier = (
        None
        if previous is None
        else [t for t in tickets if _active_before(t, before, previous_until)]
    )
    history = tickets  # both periods' tickets: some recommendations look at the one before
    tickets = [t for t in tickets if last_activity(t, period) is not None]
    figures = compute_figures(tickets, period, backlog)
    ranked = ranking(tickets, period, now)  # plain numbers; explained only for the top
    order = ranked.keys()
    themes = find_themes(tickets, period, order, texts=texts, previous=earlier)
    waiting = waiting_for_reply(tickets, period, now)
    report = Report(
        period=period,
        generated_at=now,
        repos=tuple(repos),
        figures=figures,
        previous=previous,
        previous_period=None if previous is None else before,
        most_active=ranked.top(top),
        active_total=len(ranked),
        breakdown=tuple(breakdown(tickets, period)),
        themes=tuple(themes),
        recommendations=tuple(
            recommend(
                tickets,
                period,
                now,
                figures,
                previous,
                ranked.entries,
                themes,
                history=history,
                previous_period=previous_period,
                previous_until=previous_until,
            )
        ),
        opened_per_day=tuple(per_day(tickets, period)),
        daily_links=tuple(daily_links),
        source=source,
        waiting=tuple(Waiting(ticket=ticket_ref(t), hours=h) for t, h in waiting[:MAX_WAITING]),
        waiting_total=len(waiting),
        previous_until=previous_until if previous is not None else None,
    )
    return _with_period_states(report, history, min(period.end_at, now))
