"""Activity level: the documented formula, its explanation, and deterministic ranking."""

from __future__ import annotations

import math

import pytest

from chatbot.analysis.scoring import rank, score_ticket
from chatbot.core.grammar import Calendar, parse_period
from chatbot.core.models import Person
from tests.factories import TEAM, USER, at, comment, ticket

NOW = at("2025-04-28 10:00")
WEEK = parse_period("2025-W17", Calendar(now=NOW))
BOT = Person(login="ci[bot]", association="NONE", is_bot=True)


def test_parts_sum_to_the_score() -> None:
    """The explained parts, times the recency factor, add up to the activity level."""
    t = ticket(
        9,
        "2025-04-23 08:00",
        reactions=3,
        comments=(
            comment("2025-04-24 08:00", TEAM),
            comment("2025-04-25 08:00", USER),
            comment("2025-04-26 08:00", Person(login="other")),
        ),
    )
    activity = score_ticket(t, WEEK, NOW)
    assert sum(p.points * activity.recency for p in activity.parts) == pytest.approx(activity.score)
    counts = {p.name: p.count for p in activity.parts}
    assert counts == {
        "comments": 3,
        "participants": 3,
        "log2(1+reactions)": 2.0,
        "opened": 1,
        "closed": 0,
    }


def test_recency_halves_after_two_idle_days() -> None:
    """A ticket idle for two days before the period's end keeps half its weight."""
    t = ticket(9, "2025-04-25 00:00")
    activity = score_ticket(t, WEEK, NOW)
    assert activity.idle_days == pytest.approx(3.0)
    assert activity.recency == pytest.approx(1 / math.log2(5))
    late = score_ticket(ticket(10, "2025-04-26 00:00"), WEEK, NOW)
    assert late.recency == pytest.approx(0.5)


def test_bots_and_outside_activity_do_not_count() -> None:
    """Bot comments and comments outside the period add nothing."""
    t = ticket(
        9,
        "2025-04-01 08:00",
        comments=(
            comment("2025-04-02 08:00", TEAM),
            comment("2025-04-24 08:00", BOT),
        ),
    )
    activity = score_ticket(t, WEEK, NOW)
    assert activity.comments == 0
    assert activity.weight == 0
    assert activity.why == "no activity"


def test_new_tickets_are_not_tied() -> None:
    """Two new tickets without comments are ordered by recency, unlike the seed's 4.42 tie."""
    early, late = ticket(1, "2025-04-21 09:00"), ticket(2, "2025-04-27 09:00")
    ranked = rank(score_ticket(t, WEEK, NOW) for t in (early, late))
    assert [a.ticket.number for a in ranked] == [2, 1]
    assert ranked[0].score > ranked[1].score


def test_exact_ties_break_by_number() -> None:
    """Tickets with identical activity are listed by ticket number, every time."""
    same = [ticket(n, "2025-04-24 09:00") for n in (30, 10, 20)]
    ranked = rank(score_ticket(t, WEEK, NOW) for t in same)
    assert [a.ticket.number for a in ranked] == [10, 20, 30]


def test_more_discussion_ranks_higher() -> None:
    """Among tickets active at the same moment, more comments and people rank higher."""
    quiet = ticket(1, "2025-04-01 09:00", comments=(comment("2025-04-27 09:00", TEAM),))
    busy = ticket(
        2,
        "2025-04-01 09:00",
        comments=(
            comment("2025-04-27 08:00", USER),
            comment("2025-04-27 09:00", TEAM),
        ),
    )
    ranked = rank(score_ticket(t, WEEK, NOW) for t in (quiet, busy))
    assert ranked[0].ticket.number == 2
