"""The store's aggregate figures (``period_figures``) equal the analysis's over loaded tickets.

The report takes the previous period's summary from SQL without loading its tickets; these
properties check, on SQLite and PostgreSQL, that for any mix of tickets and comments (team,
authors answering themselves, bots, other users; open, closed, closed without a date; times
on and around the period's edges, to the microsecond) the SQL gives what
``compute_figures`` gives over ``tickets_touched``, for the whole period and cut at ``until``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.analysis import compute_figures
from chatbot.core.models import Comment, Person, Ticket
from chatbot.core.periods import Period
from chatbot.core.report import Figures
from chatbot.store import SQLAlchemyTicketStore
from tests.factories import MIXED_PEOPLE

PERIOD = Period(start=date(2025, 4, 21), end=date(2025, 4, 27), tz="Europe/Paris")
START, END = PERIOD.start_at, PERIOD.end_at
ONE = timedelta(microseconds=1)
EDGES = [START - ONE, START, START + ONE, END - ONE, END, END + ONE]
SPAN_US = int(timedelta(days=30).total_seconds() * 1_000_000)

moments = st.one_of(
    st.sampled_from(EDGES),
    st.integers(-SPAN_US // 3, SPAN_US).map(lambda us: START + timedelta(microseconds=us)),
    st.integers(-SPAN_US // 3_000_000, SPAN_US // 1_000_000).map(
        lambda s: START + timedelta(seconds=s)
    ),
)
people = st.sampled_from(MIXED_PEOPLE)
Drawn = tuple[datetime, datetime | None, bool, Person, list[tuple[datetime, Person]]]
"""Opened, closed (or not), closed without a date, author, [(when, who)] of its comments."""


@st.composite
def a_ticket(draw: st.DrawFn) -> Drawn:
    """One ticket's times and people (see :data:`Drawn`)."""
    opened = draw(moments)
    closed = draw(st.none() | moments.map(lambda m: max(m, opened)))
    dateless = closed is None and draw(st.booleans())
    replies = draw(st.lists(st.tuples(moments, people), max_size=4))
    return opened, closed, dateless, draw(people), replies


def build(drawn: list[Drawn]) -> list[Ticket]:
    """The tickets drawn, numbered from 1, their comments with ids unique in the store."""
    ids = count(1)
    found = []
    for number, (opened, closed, dateless, author, replies) in enumerate(drawn, start=1):
        notes = tuple(Comment(id=next(ids), author=who, created_at=at) for at, who in replies)
        found.append(
            Ticket(
                repo="acme/support",
                number=number,
                title=f"Ticket {number}",
                state="closed" if closed or dateless else "open",
                author=author,
                created_at=opened,
                updated_at=max([opened, *(c.created_at for c in notes)]),
                closed_at=closed,
                comment_count=len(notes),
                comments=notes,
            )
        )
    return found


def same(got: Figures, want: Figures) -> None:
    """Equal counts; equal hours up to the last bits (PostgreSQL interpolates a median)."""
    for name in ("received", "resolved", "still_open", "backlog", "answered"):
        assert getattr(got, name) == getattr(want, name), name
    for name in (
        "median_first_response_hours",
        "median_resolution_hours",
        "p90_first_response_hours",
        "p90_resolution_hours",
    ):
        value, expected = getattr(got, name), getattr(want, name)
        assert (value is None) == (expected is None), name
        if expected is not None:
            assert value == pytest.approx(expected, rel=1e-12, abs=1e-12), name


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=st.lists(a_ticket(), max_size=12), until=st.none() | moments)
def test_sql_figures_equal_the_analysis(
    store: SQLAlchemyTicketStore,
    drawn: list[Drawn],
    until: datetime | None,
) -> None:
    store.clear()
    everything = build(drawn)
    store.save_tickets(everything)
    cutoff = END if until is None else min(until, END)
    open_then = sum(
        1
        for t in everything
        if t.created_at < cutoff and not (t.closed_at and t.closed_at < cutoff)
    )
    got = store.period_figures(START, END, until=until)
    assert got.backlog == open_then
    want = compute_figures(store.tickets_touched(START, END), PERIOD, open_then, until=until)
    same(got, want)


def test_empty_store_has_no_durations(store: SQLAlchemyTicketStore) -> None:
    got = store.period_figures(START, END)
    assert got == Figures(
        received=0,
        resolved=0,
        still_open=0,
        backlog=0,
        answered=0,
        median_first_response_hours=None,
        median_resolution_hours=None,
    )


def test_hours_are_exact_to_the_microsecond(store: SQLAlchemyTicketStore) -> None:
    """A reply 1 h 0.000001 s after opening reads as that, not a rounded millisecond."""
    opened = START + timedelta(hours=1, microseconds=999_999)
    reply = opened + timedelta(hours=1, microseconds=1)
    store.save_tickets(
        [
            Ticket(
                repo="acme/support",
                number=1,
                title="One",
                state="closed",
                author=MIXED_PEOPLE[4],
                created_at=opened,
                updated_at=reply,
                closed_at=reply,
                comments=(Comment(id=1, author=MIXED_PEOPLE[0], created_at=reply),),
            )
        ]
    )
    got = store.period_figures(START, END)
    hours = (reply - opened).total_seconds() / 3600
    assert got.answered == 1
    assert got.median_first_response_hours == hours
    assert got.p90_first_response_hours == hours
    assert got.median_resolution_hours == hours
