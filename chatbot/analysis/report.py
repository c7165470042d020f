"""Assemble the report model of a period from what a :class:`PeriodSource` answers.

The figures, ranking, breakdowns, waiting list and recommendations are computed from
per-ticket facts and aggregate counts (a year of a large store is tens of thousands of
narrow rows); whole tickets are read only for what the report shows: the ranked tickets,
the themes' members (a bounded sample, see ``themes.theme_sample``) and the citations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from chatbot.analysis.metrics import (
    breakdown_rows,
    figures_of,
    per_day,
    state_at,
    waiting_for_reply,
)
from chatbot.analysis.recommendations import recommend
from chatbot.analysis.scoring import ranking, ticket_ref
from chatbot.analysis.source import TicketsSource
from chatbot.analysis.themes import find_themes, previous_sample, theme_sample
from chatbot.analysis.ticket_text import TextsOf
from chatbot.core.facts import Key
from chatbot.core.models import Ticket
from chatbot.core.periods import Period
from chatbot.core.ports import PeriodSource, ResultCache
from chatbot.core.report import DailyLink, Figures, Report, TicketRef, Waiting

MAX_WAITING = 10


def at_period_end(ref: TicketRef, ticket: Ticket, as_of: datetime, zone: ZoneInfo) -> TicketRef:
    """``ref`` with the ticket's state at ``as_of`` and a note of how it changed since."""
    then = state_at(ticket, as_of)
    since = ""
    if then != ticket.state:
        if ticket.state == "closed" and ticket.closed_at is not None:
            since = f"closed {ticket.closed_at.astimezone(zone):%m-%d}"
        else:
            since = f"{'reopened' if ticket.state == 'open' else 'closed'} since"
    return replace(ref, state=then, since=since)


class _Cited:
    """The whole tickets a report cites, read from the source once each."""

    def __init__(self, source: PeriodSource, as_of: datetime, zone: ZoneInfo) -> None:
        self._source = source
        self._as_of = as_of
        self._zone = zone
        self.tickets: dict[Key, Ticket] = {}

    def read(self, keys: Iterable[Key]) -> list[Ticket]:
        """The tickets of ``keys`` (in key order), reading only those not read yet."""
        wanted = list(dict.fromkeys(keys))
        missing = [key for key in wanted if key not in self.tickets]
        if missing:
            self.tickets.update((t.key, t) for t in self._source.tickets(missing))
        return sorted((self.tickets[k] for k in wanted if k in self.tickets), key=_by_key)

    def refs(self, keys: Sequence[Key]) -> dict[Key, TicketRef]:
        """Each ticket's citation, in its state at the end of the period."""
        return {t.key: self.ref(t) for t in self.read(keys)}

    def ref(self, ticket: Ticket) -> TicketRef:
        return at_period_end(ticket_ref(ticket), ticket, self._as_of, self._zone)

    def fix(self, ref: TicketRef) -> TicketRef:
        ticket = self.tickets.get((ref.repo, ref.number))
        return ref if ticket is None else at_period_end(ref, ticket, self._as_of, self._zone)


def _by_key(ticket: Ticket) -> Key:
    return ticket.key


def build_report(
    *,
    period: Period,
    backlog: int,
    previous: Figures | None,
    now: datetime,
    repos: Sequence[str],
    source: PeriodSource | None = None,
    tickets: Sequence[Ticket] | None = None,
    top: int = 5,
    daily_links: Sequence[DailyLink] = (),
    source_name: str = "store",
    previous_period: Period | None = None,
    previous_until: datetime | None = None,
    texts: TextsOf | None = None,
    theme_cache: ResultCache | None = None,
) -> Report:
    """The full report of ``period``; pure: the same answers give the same report.

    ``source`` answers what the report reads (a store); ``tickets`` instead builds the
    report from tickets in memory (:class:`TicketsSource`). ``texts`` reads tickets' body
    and comment bodies for the themes (``TicketStore.ticket_texts``); without it the
    themes read what the tickets carry. When ``previous`` figures are given, the report
    compares with ``previous_period`` (cut at ``previous_until``): each theme counts the
    previous period's tickets that fall in it, and the recommendations look back.
    ``theme_cache`` keeps the themes' groupings, so the same tickets again skip grouping.
    """
    if source is None:
        source = TicketsSource(tickets or (), backlog=backlog)
    as_of = min(period.end_at, now)
    before = previous_period or period.previous()
    cited = _Cited(source, as_of, period.zone)
    facts = source.period_facts(period.start_at, period.end_at, as_of)
    figures = figures_of(facts, period.start_at, period.end_at, backlog)
    ranked = ranking(facts, period, now)  # plain numbers; explained only for the top
    order = ranked.keys()
    cut = before.end_at if previous_until is None else min(previous_until, before.end_at)
    earlier = None if previous is None else source.touched_keys(before.start_at, cut)
    themes = find_themes(
        cited.read(theme_sample(order)),
        period,
        order,
        texts=texts,
        previous=None if earlier is None else cited.read(previous_sample(earlier)),
        previous_total=None if earlier is None else len(earlier),
        cache=theme_cache,
        now=now,
    )
    waiting = waiting_for_reply(facts, period, now)
    rows = breakdown_rows(source.breakdown_counts(period.start_at, period.end_at))
    previous_received = None if previous is None else source.received_counts(before.start_at, cut)
    history = source.period_facts(
        period.previous().start_at, period.start_at, as_of, open_only=True
    )
    recommendations = recommend(
        facts,
        period,
        now,
        figures,
        previous,
        ranked.facts,
        themes,
        refs=cited.refs,
        history=history,
        breakdown=rows,
        previous_received=previous_received,
        received_with=lambda row: source.received_with(
            period.start_at, period.end_at, row.dimension, row.value
        ),
        waiting=waiting,
    )
    shown = [*order[:top], *(f.key for f, _ in waiting[:MAX_WAITING])]
    refs = cited.refs(shown)
    return Report(
        period=period,
        generated_at=now,
        repos=tuple(repos),
        figures=figures,
        previous=previous,
        previous_period=None if previous is None else before,
        most_active=ranked.top(top, refs),
        active_total=len(ranked),
        breakdown=tuple(rows),
        themes=tuple(replace(t, tickets=tuple(map(cited.fix, t.tickets))) for t in themes),
        recommendations=tuple(recommendations),
        opened_per_day=tuple(per_day(facts, period)),
        daily_links=tuple(daily_links),
        source=source_name,
        waiting=tuple(Waiting(ticket=refs[f.key], hours=h) for f, h in waiting[:MAX_WAITING]),
        waiting_total=len(waiting),
        previous_until=previous_until if previous is not None else None,
    )
