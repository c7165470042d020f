"""The store is a PeriodSource: every answer equals the reference's over the same tickets.

``TicketsSource`` (chatbot.analysis.source) defines each answer in Python over a list of
tickets; ``SQLAlchemyTicketStore`` computes it in aggregate SQL. These properties save
drawn tickets (team, authors answering themselves, bots, the same login in and out of the
team; open, closed, closed without a date; comments at the same instant; duplicate labels
and form fields; times to the microsecond, on and around the span's edges) and check, on
SQLite and PostgreSQL, that for any span (empty, reversed, cutting tickets) and any
``as_of`` the store answers what the reference answers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.analysis.source import TicketsSource
from chatbot.core.facts import micros
from chatbot.core.models import Comment, Ticket
from chatbot.core.ports import PeriodSource
from chatbot.store import SQLAlchemyTicketStore
from tests.factories import MIXED_PEOPLE

START = datetime(2025, 4, 21, 7, 30, tzinfo=UTC)
ONE = timedelta(microseconds=1)
SPAN_US = int(timedelta(days=10).total_seconds() * 1_000_000)
INSTANTS = [START + timedelta(hours=h) for h in (0, 1, 24, 48)]
"""A few instants drawn often, so comments and edges coincide."""
REPOS = ["acme/support", "Acme/app", "acme-x/support"]
"""Repositories whose code-point order is not a language's (upper case, ``-`` before ``/``)."""
LABELS = ["bug", "question", "Bug"]
FIELDS = [("OS", "Linux"), ("OS", "macOS"), ("label", "bug"), ("Version", "1.0")]
"""Form-field answers; one is named ``label`` and matches a label's row."""
ANSWERS = [("label", "bug"), ("label", "Bug"), ("OS", "Linux"), ("OS", "none")]
"""The rows ``received_with`` is asked for: a label, the same in another case (also a
form field's answer), a form field's, one nobody gave."""

moments = st.one_of(
    st.sampled_from(INSTANTS),
    st.sampled_from(INSTANTS).map(lambda m: m - ONE),
    st.integers(-SPAN_US // 3, SPAN_US).map(lambda us: START + timedelta(microseconds=us)),
    st.integers(-SPAN_US // 3_000_000, SPAN_US // 1_000_000).map(
        lambda s: START + timedelta(seconds=s)
    ),
)
people = st.sampled_from(MIXED_PEOPLE)


@st.composite
def a_ticket(draw: st.DrawFn) -> dict[str, Any]:
    """One ticket's drawn fields; :func:`build` numbers it and its comments."""
    opened = draw(moments)
    closed = draw(st.none() | moments.map(lambda m: max(m, opened)))
    dateless = closed is None and draw(st.booleans())
    return {
        "repo": draw(st.sampled_from(REPOS)),
        "author": draw(people),
        "created_at": opened,
        "closed_at": closed,
        "state": "closed" if closed or dateless else "open",
        "state_reason": draw(st.sampled_from([None, "completed", "not_planned"])),
        "reactions": draw(st.integers(0, 5)),
        "labels": tuple(draw(st.lists(st.sampled_from(LABELS), max_size=3))),
        "form_fields": tuple(draw(st.lists(st.sampled_from(FIELDS), max_size=3))),
        "replies": draw(st.lists(st.tuples(moments, people), max_size=5)),
    }


def build(drawn: list[dict[str, Any]]) -> list[Ticket]:
    """The tickets drawn, numbered per repository; their comments' ids are unique in the
    store and every other one counts down from 1000, so ids are not in the order comments
    were drawn and a tie at one instant is broken by id, not by position."""
    ids = count(1)
    numbers = {repo: count(1) for repo in REPOS}
    found = []
    for fields in drawn:
        fields = dict(fields)
        replies = fields.pop("replies")
        notes = tuple(
            Comment(id=1000 - next(ids) if i % 2 else next(ids), author=who, created_at=at)
            for i, (at, who) in enumerate(replies)
        )
        number = next(numbers[fields["repo"]])
        found.append(
            Ticket(
                number=number,
                title=f"Ticket {number}",
                updated_at=max([fields["created_at"], *(c.created_at for c in notes)]),
                url=f"https://github.com/{fields['repo']}/issues/{number}",
                comment_count=len(notes),
                comments=notes,
                **fields,
            )
        )
    return found


def as_stored(ticket: Ticket) -> Ticket:
    """``ticket`` as the store gives it back: labels a sorted set, comments in thread
    order, no bodies (``PeriodSource.tickets`` leaves them out)."""
    thread = sorted(ticket.comments, key=lambda c: (c.created_at, c.id))
    return replace(
        ticket,
        body="",
        labels=tuple(sorted(set(ticket.labels))),
        comments=tuple(replace(c, body="") for c in thread),
    )


def span(first: datetime, second: datetime) -> tuple[datetime, datetime]:
    """The span between two drawn moments, earlier first."""
    return min(first, second), max(first, second)


def check_equal(
    store: PeriodSource, want: TicketsSource, start: datetime, end: datetime, as_of: datetime
) -> None:
    """Every PeriodSource answer of ``store`` equals the reference's for this span."""
    for open_only in (False, True):
        got = store.period_facts(start, end, as_of, open_only=open_only)
        expected = want.period_facts(start, end, as_of, open_only=open_only)
        assert got == expected
        for fact, reference in zip(got, expected, strict=True):  # no 0/1 for a bool
            assert [type(v) for v in fact] == [type(v) for v in reference], fact
    assert store.touched_keys(start, end) == want.touched_keys(start, end)
    by_row = sorted(store.breakdown_counts(start, end), key=lambda b: (b.dimension, b.value))
    assert by_row == sorted(want.breakdown_counts(start, end), key=lambda b: (b.dimension, b.value))
    assert store.received_counts(start, end) == want.received_counts(start, end)
    for dimension, value in ANSWERS:
        assert store.received_with(start, end, dimension, value) == want.received_with(
            start, end, dimension, value
        ), (dimension, value)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=st.lists(a_ticket(), max_size=10),
    spans=st.lists(st.tuples(moments, moments, moments), min_size=1, max_size=2),
)
def test_store_answers_as_the_reference(
    store: SQLAlchemyTicketStore,
    drawn: list[dict[str, Any]],
    spans: list[tuple[datetime, datetime, datetime]],
) -> None:
    store.clear()
    everything = build(drawn)
    store.save_tickets(everything)
    want = TicketsSource(everything)
    for first, second, as_of in spans:
        start, end = span(first, second)
        check_equal(store, want, start, end, as_of)
    check_equal(store, want, start, start, as_of)  # an empty span
    keys = [t.key for t in reversed(everything)] + [("acme/support", 999)]
    assert store.tickets(keys) == [as_stored(t) for t in want.tickets(keys)]
    assert store.tickets([]) == []


def test_a_tie_at_one_instant_goes_to_the_highest_id(store: SQLAlchemyTicketStore) -> None:
    """Of two comments at the same microsecond, the later by id is the last one, whichever
    was saved first; one a microsecond after ``as_of`` is not there yet."""
    moment = START + timedelta(hours=5, microseconds=123_457)
    team, customer = MIXED_PEOPLE[0], MIXED_PEOPLE[4]
    threads = {
        1: [(7, team), (8, customer)],  # the customer's has the higher id, saved second
        2: [(10, team), (9, customer)],  # the team's has the higher id, saved first
    }
    drawn = [
        Ticket(
            repo="acme/support",
            number=number,
            title="Tie",
            state="open",
            author=customer,
            created_at=START,
            updated_at=moment,
            comments=(
                *(Comment(id=i, author=who, created_at=moment) for i, who in thread),
                Comment(id=100 + number, author=team, created_at=moment + 2 * ONE),
            ),
        )
        for number, thread in threads.items()
    ]
    store.save_tickets(drawn)
    as_of = moment + ONE
    facts = store.period_facts(START, as_of, as_of)
    assert [(f.last_comment, f.last_comment_team) for f in facts] == [
        (micros(moment), False),
        (micros(moment), True),
    ]
    assert facts == TicketsSource(drawn).period_facts(START, as_of, as_of)
