"""The reference :class:`~chatbot.core.ports.PeriodSource`: every answer computed in Python
from a list of tickets.

It defines what a store's aggregate queries must return (``tests/test_period_source.py``
holds the store to it), and it is how a report is built from tickets already in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from chatbot.analysis.metrics import answer_rows, count_answers, facts_of, figures_of, touched
from chatbot.core.facts import TEXT_COMMENTS, Key, TicketFacts
from chatbot.core.models import Ticket
from chatbot.core.report import Breakdown, Figures


class TicketsSource:
    """A :class:`~chatbot.core.ports.PeriodSource` over tickets held in memory.

    ``backlog``, if given, is the answer of every :meth:`backlog` call (a test's store of
    a few tickets stands for a larger one).
    """

    def __init__(self, tickets: Iterable[Ticket], backlog: int | None = None) -> None:
        self._tickets = sorted(tickets, key=lambda t: t.key)
        self._by_key = {t.key: t for t in self._tickets}
        self._backlog = backlog

    def _touched(self, start: datetime, end: datetime) -> list[Ticket]:
        return [t for t in self._tickets if touched(t, start, end)]

    def period_facts(
        self, start: datetime, end: datetime, as_of: datetime, *, open_only: bool = False
    ) -> list[TicketFacts]:
        return [
            facts_of(t, start, end, as_of)
            for t in self._touched(start, end)
            if not open_only or t.is_open_at(as_of)
        ]

    def touched_keys(self, start: datetime, end: datetime) -> list[Key]:
        return [t.key for t in self._touched(start, end)]

    def breakdown_counts(self, start: datetime, end: datetime) -> list[Breakdown]:
        return count_answers(self._tickets, start, end)

    def received_counts(self, start: datetime, end: datetime) -> dict[tuple[str, str], int]:
        return {
            (b.dimension, b.value): b.received
            for b in count_answers(self._tickets, start, end)
            if b.received
        }

    def received_with(
        self, start: datetime, end: datetime, dimension: str, value: str
    ) -> list[Key]:
        wanted = (dimension, value)
        return [
            t.key for t in self._tickets if start <= t.created_at < end and wanted in answer_rows(t)
        ]

    def tickets(self, keys: Sequence[Key]) -> list[Ticket]:
        found = (self._by_key.get(key) for key in dict.fromkeys(keys))
        return sorted((t for t in found if t is not None), key=lambda t: t.key)

    def ticket_texts(self, keys: Sequence[Key], max_chars: int) -> dict[Key, str]:
        out = {}
        for ticket in self.tickets(keys):
            thread = sorted(ticket.comments, key=lambda c: (c.created_at, c.id))
            human = [c.body[:max_chars] for c in thread if not c.author.is_bot]
            parts = [ticket.body[:max_chars], *(b for b in human[:TEXT_COMMENTS] if b)]
            out[ticket.key] = "\n\n".join(parts)
        return out

    def backlog(self, at: datetime) -> int:
        if self._backlog is not None:
            return self._backlog
        return sum(1 for t in self._tickets if t.is_open_at(at))

    def period_figures(
        self, start: datetime, end: datetime, *, until: datetime | None = None
    ) -> Figures:
        cutoff = end if until is None else min(until, end)
        facts = self.period_facts(start, end, cutoff)
        return figures_of(facts, start, end, self.backlog(cutoff), until)
