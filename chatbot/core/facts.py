"""Per-ticket facts of a period: the narrow rows a report is computed from.

A report over a year touches tens of thousands of tickets but shows a few dozen. Its
figures, ranking, breakdowns and recommendations need only a handful of numbers per
ticket, which a database computes with aggregate queries; whole tickets (titles, URLs,
comments) are read only for the ones a report shows (``PeriodSource.tickets``).

Times are whole microseconds since 1970-01-01 UTC (:func:`micros`): exact, cheap to
compare, and a duration in hours is ``(later - earlier) / 1_000_000 / 3600``, the very
float ``timedelta.total_seconds() / 3600`` gives.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import NamedTuple

Key = tuple[str, int]
"""A ticket's identity: repository and number."""

TEXT_COMMENTS = 8
"""A ticket's text (``ticket_texts``) is its body and its first this many human comments."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """``moment`` (timezone-aware) as whole microseconds since 1970-01-01 UTC."""
    return (moment - EPOCH) // _MICRO


def from_micros(value: int) -> datetime:
    """The aware UTC datetime of :func:`micros`."""
    return EPOCH + timedelta(microseconds=value)


class TicketFacts(NamedTuple):
    """One ticket's facts for a span ``[start, end)`` and a moment ``as_of``.

    ``comments``, ``commenters``, ``author_commented`` and ``latest`` count only what
    happened inside the span; ``first_response`` is over the whole thread;
    ``last_comment`` looks at everything before ``as_of``. "Team" is
    :attr:`~chatbot.core.models.Person.is_team` (owners, members, collaborators, never
    bots).
    """

    repo: str
    number: int
    state: str
    state_reason: str | None
    author_is_bot: bool
    created: int
    closed: int | None
    reactions: int
    comments: int
    """Comments by people (not bots) written in the span."""
    commenters: int
    """Distinct logins of those comments."""
    author_commented: bool
    """The ticket's author wrote one of those comments."""
    latest: int | None
    """The latest comment written in the span, bots' included; None if none."""
    first_response: int | None
    """The first comment by the team that the ticket's author did not write; None if none."""
    last_comment: int | None
    """The latest comment written before ``as_of``, any author; None if none."""
    last_comment_team: bool
    """That comment was written by the team (among comments at the same instant, the one
    with the highest id)."""

    @property
    def key(self) -> Key:
        """The ticket's identity: repository and number."""
        return (self.repo, self.number)

    def is_open_at(self, moment: int) -> bool:
        """True if the ticket existed and was not closed at ``moment`` (micros), as
        :meth:`~chatbot.core.models.Ticket.is_open_at`."""
        return self.created < moment and (self.closed is None or self.closed >= moment)


key_of: Callable[[TicketFacts], Key] = itemgetter(0, 1)
"""``facts.key`` as a C getter, for loops over a year's facts (the property costs a frame)."""
