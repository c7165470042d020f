"""Offline recommendations: a few specific actions, each citing the tickets it is about.

Each rule fires only when the period's data supports it, so a quiet week gets no advice
at all rather than a list of generic bullets. At most :data:`MAX_RECOMMENDATIONS`, in the
order below (most urgent first):

1. unanswered: tickets received in the period, still open, with no team reply for a day;
2. hot: the most active open ticket, when several people discussed it in the period;
3. waiting on the reporter: open tickets where the team spoke last, over a week ago;
4. themes: common issues with three or more tickets, two or more of them open;
5. backlog growth: more tickets received than resolved and the backlog grew;
6. slow resolution: a ticket resolved in the period that took far longer than the median.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chatbot.analysis.metrics import first_response, received
from chatbot.analysis.scoring import ticket_ref
from chatbot.core.models import Ticket
from chatbot.core.periods import Period
from chatbot.core.report import Activity, Figures, Recommendation, Theme, TicketRef

MAX_RECOMMENDATIONS = 7
MAX_CITED = 5
DAY = 86_400.0


def _cite(refs: Sequence[TicketRef]) -> str:
    shown = ", ".join(f"#{r.number}" for r in refs[:MAX_CITED])
    more = len(refs) - MAX_CITED
    return f"{shown} and {more} more" if more > 0 else shown


def _days(seconds: float) -> str:
    days = seconds / DAY
    return f"{days:.0f} day" + ("" if round(days) == 1 else "s")


def recommend(
    tickets: Sequence[Ticket],
    period: Period,
    now: datetime,
    figures: Figures,
    previous: Figures | None,
    ranked: Sequence[Activity],
    themes: Sequence[Theme],
) -> list[Recommendation]:
    """The recommendations the period's data supports, most urgent first."""
    as_of = min(period.end_at, now)
    found: list[Recommendation] = []

    waiting = sorted(
        (
            t
            for t in received(tickets, period)
            if t.is_open_at(as_of)
            and first_response(t) is None
            and (as_of - t.created_at).total_seconds() >= DAY
        ),
        key=lambda t: t.created_at,
    )
    if waiting:
        refs = [ticket_ref(t) for t in waiting]
        oldest = (as_of - waiting[0].created_at).total_seconds()
        found.append(
            Recommendation(
                text=(
                    f"Answer {_cite(refs)}: {len(refs)} new ticket"
                    f"{'s' if len(refs) > 1 else ''} still without a first reply from the team"
                    f" (the oldest waiting {_days(oldest)})."
                ),
                tickets=tuple(refs[:MAX_CITED]),
            )
        )

    by_key = {t.key: t for t in tickets}
    hot = next(
        (a for a in ranked if a.ticket.state == "open" and a.participants >= 3 and a.comments >= 3),
        None,
    )
    if hot is not None:
        found.append(
            Recommendation(
                text=(
                    f"Prioritise #{hot.ticket.number} ({hot.ticket.title}): {hot.comments} comments"
                    f" from {hot.participants} people in this period, and still open."
                ),
                tickets=(hot.ticket,),
            )
        )

    stalled = []
    for ticket in tickets:
        if not ticket.is_open_at(as_of) or not ticket.comments:
            continue
        last = max(ticket.comments, key=lambda c: c.created_at)
        idle = (as_of - last.created_at).total_seconds()
        if last.author.is_team and idle >= 7 * DAY:
            stalled.append((idle, ticket))
    if stalled:
        stalled.sort(key=lambda pair: -pair[0])
        refs = [ticket_ref(t) for _, t in stalled]
        found.append(
            Recommendation(
                text=(
                    f"Follow up on or close {_cite(refs)}: the team replied last and the reporter"
                    f" has not answered for {_days(stalled[-1][0])} or more."
                ),
                tickets=tuple(refs[:MAX_CITED]),
            )
        )

    for theme in themes:
        if theme.other:
            continue  # the rest of the tickets: no one cause to look for
        open_refs = [
            r
            for r in theme.tickets
            if by_key.get((r.repo, r.number)) is not None
            and by_key[(r.repo, r.number)].is_open_at(as_of)
        ]
        if len(theme.tickets) >= 3 and len(open_refs) >= 2:
            found.append(
                Recommendation(
                    text=(
                        f"Look for one cause behind {theme.title}: {len(theme.tickets)} tickets"
                        f" ({_cite(list(theme.tickets))}), {len(open_refs)} still open."
                    ),
                    tickets=theme.tickets[:MAX_CITED],
                )
            )

    if (
        previous is not None
        and figures.received > figures.resolved
        and figures.backlog > previous.backlog
    ):
        pending = sorted(
            (t for t in received(tickets, period) if t.is_open_at(period.end_at)),
            key=lambda t: t.created_at,
        )
        if pending:
            refs = [ticket_ref(t) for t in pending]
            found.append(
                Recommendation(
                    text=(
                        f"The backlog grew from {previous.backlog} to {figures.backlog}"
                        f" ({figures.received} received, {figures.resolved} resolved): triage the"
                        f" new tickets still open, oldest first: {_cite(refs)}."
                    ),
                    tickets=tuple(refs[:MAX_CITED]),
                )
            )

    median = figures.median_resolution_hours
    durations = [
        ((t.closed_at - t.created_at).total_seconds(), t)
        for t in tickets
        if t.closed_at is not None and period.contains(t.closed_at)
    ]
    if median is not None and len(durations) >= 3:
        took, slow = max(durations, key=lambda pair: (pair[0], -pair[1].number))
        if took / 3600 >= 4 * median and took >= 7 * DAY:
            found.append(
                Recommendation(
                    text=(
                        f"Review what slowed #{slow.number} ({slow.title}): it took {_days(took)}"
                        f" to resolve, against a median of {_days(median * 3600)}."
                    ),
                    tickets=(ticket_ref(slow),),
                )
            )
    return found[:MAX_RECOMMENDATIONS]
