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
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from chatbot.analysis.metrics import facts_of
from chatbot.core.facts import Key, TicketFacts, key_of, micros
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
_MICROS_PER_DAY = 86_400_000_000


def activity_level(facts: TicketFacts, period: Period, now: datetime) -> Level:
    """The activity level of a ticket in ``period`` from its facts: the one definition of
    the formula, on plain numbers, so ranking a year's tickets stays cheap."""
    return _level(facts, *_bounds(period, now))


def _bounds(period: Period, now: datetime) -> tuple[int, int, int, float]:
    """The period's start, end and as-of moment (micros) and its days, worked out once."""
    return (
        micros(period.start_at),
        micros(period.end_at),
        micros(min(period.end_at, now)),
        period.days,
    )


def participants(facts: TicketFacts, first: int, after: int) -> int:
    """The distinct people of a ticket in the span ``[first, after)`` (micros): its
    commenters, and its author if it was opened then (bots left out), as :func:`_level`."""
    count = facts.commenters
    if first <= facts.created < after and not facts.author_is_bot and not facts.author_commented:
        count += 1
    return count


def _level(facts: TicketFacts, first: int, after: int, as_of: int, days: float) -> Level:
    created, closed_at = facts.created, facts.closed
    opened = first <= created < after
    closed = closed_at is not None and first <= closed_at < after
    participants = facts.commenters
    if opened and not facts.author_is_bot and not facts.author_commented:
        participants += 1
    latest = facts.latest
    if opened and (latest is None or created > latest):
        latest = created
    if closed and closed_at is not None and (latest is None or closed_at > latest):
        latest = closed_at
    counts = (
        float(facts.comments),
        float(participants),
        math.log2(1 + facts.reactions),
        float(opened),
        float(closed),
    )
    weight = 0.0
    for count, factor in zip(counts, _FACTORS, strict=True):
        weight += count * factor  # sum(part.points) in WEIGHTS order: the same float
    idle = max(0.0, (as_of - latest) / 1_000_000 / SECONDS_PER_DAY) if latest is not None else days
    recency = 1.0 / math.log2(idle + 2.0)
    return Level(weight * recency, weight, recency, idle, facts.comments, participants, counts)


def explain(ref: TicketRef, level: Level) -> Activity:
    """The explained :class:`Activity` of the ticket ``ref`` cites, from its ``level``."""
    parts = tuple(
        ScorePart(name=name, count=count, weight=weight)
        for (name, weight), count in zip(WEIGHTS.items(), level.counts, strict=True)
    )
    return Activity(
        ticket=ref,
        score=level.score,
        parts=parts,
        recency=level.recency,
        idle_days=level.idle_days,
        comments=level.comments,
        participants=level.participants,
    )


def score_ticket(ticket: Ticket, period: Period, now: datetime) -> Activity:
    """The activity level of ``ticket`` in ``period``, with its parts."""
    facts = facts_of(ticket, period.start_at, period.end_at, min(period.end_at, now))
    return explain(ticket_ref(ticket), activity_level(facts, period, now))


def _order(
    score: float, weight: float, comments: int, idle_days: float, repo: str, number: int
) -> tuple[float, float, int, float, str, int]:
    """The sort key of the ranking: most active first, then the tie-breaks."""
    return (-round(score, 9), -round(weight, 9), -comments, idle_days, repo, number)


class Ranked(NamedTuple):
    """One ticket of a ranking: its facts and its activity level."""

    facts: TicketFacts
    level: Level


class Ranking:
    """A period's active tickets, most active first, explained only when asked.

    ``facts`` holds the tickets' facts in the order :func:`rank` gives their
    :class:`Activity` objects; a ticket's :class:`Level` is worked out when asked
    (:meth:`level`), so a year's 35k tickets are sorted on plain numbers and only the
    shown ones carry their parts.
    """

    __slots__ = ("_bounds", "facts")

    def __init__(self, facts: Sequence[TicketFacts], bounds: tuple[int, int, int, float]) -> None:
        self.facts: tuple[TicketFacts, ...] = tuple(facts)
        self._bounds = bounds

    def __len__(self) -> int:
        return len(self.facts)

    def keys(self) -> list[Key]:
        """The ranked tickets' keys, most active first."""
        return list(map(key_of, self.facts))

    def level(self, facts: TicketFacts) -> Level:
        """The activity level of one of the ranked tickets."""
        return _level(facts, *self._bounds)

    @property
    def entries(self) -> tuple[Ranked, ...]:
        """Every ticket with its level, most active first (a level each: for a few tickets)."""
        return tuple(Ranked(f, self.level(f)) for f in self.facts)

    def top(self, count: int, refs: Mapping[Key, TicketRef]) -> tuple[Activity, ...]:
        """The explained activities of the ``count`` most active tickets (``refs`` cites them)."""
        return tuple(explain(refs[f.key], self.level(f)) for f in self.facts[:count])


def ranking(facts: Iterable[TicketFacts], period: Period, now: datetime) -> Ranking:
    """The tickets of ``facts`` ranked by activity level in ``period``, as :func:`rank`.

    Each ticket's sort key is worked out by :func:`_sort_key` alone, with no
    :class:`Level` built: the same floats as :func:`_level`, added in the same order.
    """
    bounds = _bounds(period, now)
    first, after, as_of, days = bounds
    log2 = math.log2
    c_factor, p_factor, r_factor, o_factor, d_factor = _FACTORS

    def _sort_key(f: TicketFacts) -> tuple[float, float, int, float, str, int]:
        created, closed_at, latest = f.created, f.closed, f.latest
        opened = first <= created < after
        closed = closed_at is not None and first <= closed_at < after
        participants = f.commenters
        if opened:
            if not f.author_is_bot and not f.author_commented:
                participants += 1
            if latest is None or created > latest:
                latest = created
        if closed and closed_at is not None and (latest is None or closed_at > latest):
            latest = closed_at
        weight = 0.0
        weight += float(f.comments) * c_factor
        weight += float(participants) * p_factor
        weight += log2(1 + f.reactions) * r_factor
        weight += float(opened) * o_factor
        weight += float(closed) * d_factor
        if latest is not None:
            idle = (as_of - latest) / 1_000_000 / SECONDS_PER_DAY
            if idle < 0.0:
                idle = 0.0
        else:
            idle = days
        score = weight * (1.0 / log2(idle + 2.0))
        return (-round(score, 9), -round(weight, 9), -f.comments, idle, f.repo, f.number)

    return Ranking(sorted(facts, key=_sort_key), bounds)


def rank(activities: Iterable[Activity]) -> list[Activity]:
    """Most active first; ties broken by weight, comments, recency, then ticket number."""
    return sorted(
        activities,
        key=lambda a: _order(
            a.score, a.weight, a.comments, a.idle_days, a.ticket.repo, a.ticket.number
        ),
    )
