"""The report's ranking on plain numbers gives the order and scores of the explained one."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from chatbot.analysis.metrics import facts_of
from chatbot.analysis.scoring import (
    WEIGHTS,
    rank,
    ranking,
    score_ticket,
    ticket_ref,
)
from chatbot.core.grammar import Calendar, parse_period
from chatbot.core.models import Comment, Person, Ticket
from chatbot.core.periods import Period
from chatbot.core.report import Activity, ScorePart
from tests.factories import TEAM, USER, at, comment, ticket

NOW = at("2025-04-28 10:00")
WEEK = parse_period("2025-W17", Calendar(now=NOW))
BOT = Person(login="ci[bot]", association="NONE", is_bot=True)


def last_activity(ticket: Ticket, period: Period) -> datetime | None:
    """The latest opening, closing or comment of ``ticket`` inside ``period``."""
    moments = [c.created_at for c in ticket.comments if period.contains(c.created_at)]
    moments += [m for m in (ticket.created_at, ticket.closed_at) if m and period.contains(m)]
    return max(moments) if moments else None


def _reference_activity(t: Ticket, period: Period, now: datetime) -> Activity:
    """The activity level as it was computed before ranking moved to plain numbers.

    Kept verbatim as the oracle: the fast path must give the very same floats and order.
    """
    in_period = [c for c in t.comments if period.contains(c.created_at) and not c.author.is_bot]
    opened = period.contains(t.created_at)
    closed = t.closed_at is not None and period.contains(t.closed_at)
    people = {c.author.login for c in in_period}
    if opened and not t.author.is_bot:
        people.add(t.author.login)
    counts = {
        "comments": float(len(in_period)),
        "participants": float(len(people)),
        "log2(1+reactions)": math.log2(1 + t.reactions),
        "opened": float(opened),
        "closed": float(closed),
    }
    parts = tuple(
        ScorePart(name=name, count=counts[name], weight=weight) for name, weight in WEIGHTS.items()
    )
    as_of = min(period.end_at, now)
    latest = last_activity(t, period)
    idle = max(0.0, (as_of - latest).total_seconds() / 86_400.0) if latest else period.days
    recency = 1.0 / math.log2(idle + 2.0)
    return Activity(
        ticket=ticket_ref(t),
        score=sum(part.points for part in parts) * recency,
        parts=parts,
        recency=recency,
        idle_days=idle,
        comments=len(in_period),
        participants=len(people),
    )


PEOPLE = (TEAM, USER, BOT, Person(login="other"), Person(login="third"))
# Whole hours from a week before the period to a day after it: inside and outside, with ties.
HOURS = st.integers(min_value=-7 * 24, max_value=8 * 24)


@st.composite
def random_ticket(draw: st.DrawFn, number: int) -> Ticket:
    """A ticket with a few comments, maybe closed, timed on whole hours around ``WEEK``."""
    created = WEEK.start_at + timedelta(hours=draw(HOURS))
    comments = tuple(
        Comment(
            id=number * 100 + i,
            author=draw(st.sampled_from(PEOPLE)),
            created_at=created + timedelta(hours=draw(st.integers(0, 10 * 24))),
        )
        for i in range(draw(st.integers(0, 5)))
    )
    closed = created + timedelta(hours=draw(st.integers(0, 10 * 24)))
    is_closed = draw(st.booleans())
    return replace(
        ticket(number, "2025-01-01 00:00", reactions=draw(st.integers(0, 6))),
        author=draw(st.sampled_from(PEOPLE)),
        created_at=created,
        updated_at=max([created, closed, *(c.created_at for c in comments)]),
        closed_at=closed if is_closed else None,
        state="closed" if is_closed else "open",
        comments=comments,
        comment_count=len(comments),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 40), max_size=12, unique=True).flatmap(
        lambda numbers: st.tuples(*(random_ticket(n) for n in numbers))
    ),
    st.integers(min_value=-2 * 24, max_value=3 * 24),
)
@example(  # weight 0 for both (a bot's comments only): the tie breaks on idle time
    tickets=tuple(
        ticket(n, "2025-04-01 09:00", comments=(comment(when, BOT),))
        for n, when in ((1, "2025-04-22 09:00"), (2, "2025-04-26 09:00"))
    ),
    now_hours=0,
)
def test_ranking_on_numbers_matches_ranking_explained_activities(
    tickets: tuple[Ticket, ...], now_hours: int
) -> None:
    """The fast ranking lists tickets in the order, with the scores, of the explained one.

    Random tickets on whole hours make ties in score, weight, comments and idle time; ``now``
    falls before, at or after the period's end.
    """
    now = WEEK.end_at + timedelta(hours=now_hours)
    expected = rank(_reference_activity(t, WEEK, now) for t in tickets)
    as_of = min(WEEK.end_at, now)
    ranked = ranking([facts_of(t, WEEK.start_at, WEEK.end_at, as_of) for t in tickets], WEEK, now)
    assert ranked.keys() == [(a.ticket.repo, a.ticket.number) for a in expected]
    refs = {t.key: ticket_ref(t) for t in tickets}
    assert ranked.top(len(tickets), refs) == tuple(expected)
    assert [score_ticket(t, WEEK, now) for t in tickets] == [
        _reference_activity(t, WEEK, now) for t in tickets
    ]
