"""Activity level: how much a ticket moved in a period, as a sum anyone can check.

For a ticket and a period, with only what happened inside the period counted::

    weight   = 1.0 × comments            (non-bot comments written in the period)
             + 1.5 × participants        (distinct non-bot people: commenters, and the author
                                           if the ticket was opened in the period)
             + 1.0 × log2(1 + reactions) (reactions on the ticket; GitHub gives no times)
             + 2.0 × opened              (1 if opened in the period)
             + 1.0 × closed              (1 if closed in the period)
    recency  = 1 / log2(idle_days + 2)   (idle_days: from the ticket's last activity in the
                                           period to the period's end, or now if sooner)
    activity = weight × recency

So a ticket active at the very end of the period keeps its full weight, one idle for two
days keeps half, one idle for six days a third. The seed generator divided by
``log2(age_days + 3)`` and tied every new ticket at 4.42; here recency is measured in
fractional days, and the ranking breaks what ties remain by weight, comments, latest
activity and finally ticket number, so the order is always the same for the same data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from chatbot.core.models import Ticket
from chatbot.core.periods import Period
from chatbot.core.report import Activity, ScorePart, TicketRef

WEIGHTS: dict[str, float] = {
    "comments": 1.0,
    "participants": 1.5,
    "log2(1+reactions)": 1.0,
    "opened": 2.0,
    "closed": 1.0,
}

SECONDS_PER_DAY = 86_400.0


def ticket_ref(ticket: Ticket) -> TicketRef:
    """The citation of a ticket in a report."""
    return TicketRef(
        repo=ticket.repo,
        number=ticket.number,
        title=ticket.title,
        url=ticket.url,
        state=ticket.state,
    )


def last_activity(ticket: Ticket, period: Period) -> datetime | None:
    """The latest opening, closing or comment of ``ticket`` inside ``period``."""
    moments = [c.created_at for c in ticket.comments if period.contains(c.created_at)]
    moments += [m for m in (ticket.created_at, ticket.closed_at) if m and period.contains(m)]
    return max(moments) if moments else None


def score_ticket(ticket: Ticket, period: Period, now: datetime) -> Activity:
    """The activity level of ``ticket`` in ``period``, with its parts."""
    in_period = [
        c for c in ticket.comments if period.contains(c.created_at) and not c.author.is_bot
    ]
    opened = period.contains(ticket.created_at)
    closed = ticket.closed_at is not None and period.contains(ticket.closed_at)
    people = {c.author.login for c in in_period}
    if opened and not ticket.author.is_bot:
        people.add(ticket.author.login)
    counts = {
        "comments": float(len(in_period)),
        "participants": float(len(people)),
        "log2(1+reactions)": math.log2(1 + ticket.reactions),
        "opened": float(opened),
        "closed": float(closed),
    }
    parts = tuple(
        ScorePart(name=name, count=counts[name], weight=weight) for name, weight in WEIGHTS.items()
    )
    as_of = min(period.end_at, now)
    latest = last_activity(ticket, period)
    idle = max(0.0, (as_of - latest).total_seconds() / SECONDS_PER_DAY) if latest else period.days
    recency = 1.0 / math.log2(idle + 2.0)
    weight = sum(part.points for part in parts)
    return Activity(
        ticket=ticket_ref(ticket),
        score=weight * recency,
        parts=parts,
        recency=recency,
        idle_days=idle,
        comments=len(in_period),
        participants=len(people),
    )


def rank(activities: Iterable[Activity]) -> list[Activity]:
    """Most active first; ties broken by weight, comments, recency, then ticket number."""
    return sorted(
        activities,
        key=lambda a: (
            -round(a.score, 9),
            -round(a.weight, 9),
            -a.comments,
            a.idle_days,
            a.ticket.repo,
            a.ticket.number,
        ),
    )
