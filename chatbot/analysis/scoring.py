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

The formula is written once, in :func:`activity_level`, on plain numbers: a report ranks
every active ticket of its period with it (35k for a year) and builds the explained
:class:`Activity` (parts, citation) only for the few it shows, through :class:`Ranking`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

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


class Level(NamedTuple):
    """A ticket's activity level in a period as plain numbers: the counts, then the result.

    ``counts`` follows the order of :data:`WEIGHTS`. ``weight`` is their weighted sum,
    added in that order, so it is the very float :attr:`Activity.weight` computes.
    """

    score: float
    weight: float
    recency: float
    idle_days: float
    comments: int
    participants: int
    counts: tuple[float, float, float, float, float]


_FACTORS = tuple(WEIGHTS.values())


def activity_level(ticket: Ticket, period: Period, now: datetime) -> Level:
    """The activity level of ``ticket`` in ``period``: the one definition of the formula.

    One pass over the comments finds both the counted comments and the latest moment in
    the period; no objects are built beyond the result, so ranking a year's tickets stays
    cheap.
    """
    first, after = period.start_at, period.end_at
    comments = 0
    people: set[str] = set()
    latest: datetime | None = None
    for c in ticket.comments:
        moment = c.created_at
        if first <= moment < after:
            if latest is None or moment > latest:
                latest = moment
            if not c.author.is_bot:
                comments += 1
                people.add(c.author.login)
    created, closed_at = ticket.created_at, ticket.closed_at
    opened = first <= created < after
    closed = closed_at is not None and first <= closed_at < after
    if opened:
        if not ticket.author.is_bot:
            people.add(ticket.author.login)
        if latest is None or created > latest:
            latest = created
    if closed and closed_at is not None and (latest is None or closed_at > latest):
        latest = closed_at
    counts = (
        float(comments),
        float(len(people)),
        math.log2(1 + ticket.reactions),
        float(opened),
        float(closed),
    )
    weight = 0.0
    for count, factor in zip(counts, _FACTORS, strict=True):
        weight += count * factor  # sum(part.points) in WEIGHTS order: the same float
    as_of = min(after, now)
    idle = max(0.0, (as_of - latest).total_seconds() / SECONDS_PER_DAY) if latest else period.days
    recency = 1.0 / math.log2(idle + 2.0)
    return Level(
        score=weight * recency,
        weight=weight,
        recency=recency,
        idle_days=idle,
        comments=comments,
        participants=len(people),
        counts=counts,
    )


def explain(ticket: Ticket, level: Level) -> Activity:
    """The explained :class:`Activity` of ``ticket`` from its computed ``level``."""
    parts = tuple(
        ScorePart(name=name, count=count, weight=weight)
        for (name, weight), count in zip(WEIGHTS.items(), level.counts, strict=True)
    )
    return Activity(
        ticket=ticket_ref(ticket),
        score=level.score,
        parts=parts,
        recency=level.recency,
        idle_days=level.idle_days,
        comments=level.comments,
        participants=level.participants,
    )


def score_ticket(ticket: Ticket, period: Period, now: datetime) -> Activity:
    """The activity level of ``ticket`` in ``period``, with its parts."""
    return explain(ticket, activity_level(ticket, period, now))


def _order(
    score: float, weight: float, comments: int, idle_days: float, repo: str, number: int
) -> tuple[float, float, int, float, str, int]:
    """The sort key of the ranking: most active first, then the tie-breaks."""
    return (-round(score, 9), -round(weight, 9), -comments, idle_days, repo, number)


class Ranked(NamedTuple):
    """One ticket of a ranking with its activity level."""

    ticket: Ticket
    level: Level


class Ranking:
    """A period's active tickets, most active first, explained only when asked.

    ``entries`` hold the tickets and their plain levels in the order :func:`rank` gives
    their :class:`Activity` objects; :meth:`activity` builds one for a shown ticket.
    """

    __slots__ = ("entries",)

    def __init__(self, entries: Sequence[Ranked]) -> None:
        self.entries: tuple[Ranked, ...] = tuple(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def keys(self) -> list[tuple[str, int]]:
        """The ranked tickets' keys, most active first."""
        return [entry.ticket.key for entry in self.entries]

    def activity(self, entry: Ranked) -> Activity:
        """The explained activity of one ranked ticket."""
        return explain(entry.ticket, entry.level)

    def top(self, count: int) -> tuple[Activity, ...]:
        """The explained activities of the ``count`` most active tickets."""
        return tuple(self.activity(entry) for entry in self.entries[:count])


def ranking(tickets: Iterable[Ticket], period: Period, now: datetime) -> Ranking:
    """``tickets`` ranked by activity level in ``period``, in the order of :func:`rank`."""
    entries = [Ranked(t, activity_level(t, period, now)) for t in tickets]
    entries.sort(
        key=lambda e: _order(
            e.level.score,
            e.level.weight,
            e.level.comments,
            e.level.idle_days,
            e.ticket.repo,
            e.ticket.number,
        )
    )
    return Ranking(entries)


def rank(activities: Iterable[Activity]) -> list[Activity]:
    """Most active first; ties broken by weight, comments, recency, then ticket number."""
    return sorted(
        activities,
        key=lambda a: _order(
            a.score, a.weight, a.comments, a.idle_days, a.ticket.repo, a.ticket.number
        ),
    )
