"""Offline recommendations: a few specific actions, each citing the tickets it is about.

Each rule fires only when the period's data supports it, so a quiet week gets no advice at
all rather than a list of generic bullets. The rules (``as of`` is the period's end, or now
for a period in progress):

- unanswered: the report's "Waiting for a first reply" list
  (:func:`~chatbot.analysis.metrics.waiting_for_reply`, so its count is the report's
  ``waiting_total``), when its oldest ticket has waited a day or more;
- hot: the most discussed ticket open as of the end, when 3 or more people wrote 3 or more
  comments on it in the period;
- stalled: open tickets where the team spoke last, a week or more before the end; it looks
  at the previous period's tickets too (``history``), since in a week's own tickets nobody
  can have been silent for a week;
- theme: a theme (not "Other") that grew against the previous period: 3 or more tickets
  more than ``Theme.previous`` and at least half as many again; its counts are the theme's;
- reopened: tickets open at the end whose GitHub ``state_reason`` is ``reopened`` (the store
  keeps only the current reason, not when it was reopened);
- spike: the label or form-field value of the period's breakdown whose new tickets grew
  most against the previous period (same elapsed span for a period in progress): 3 or more
  more, and at least twice what the previous count scaled by the overall growth would give;
- slow: a resolution tail, when the period's p90 resolution is 4 times the median or more
  and a week or more; it cites the slowest of the tickets at or above the p90;
- backlog: more received than resolved and the backlog grew; it cites the new tickets still
  open that are not already in the waiting list, oldest first.

Every count in a sentence is the count of the report section it refers to (summary,
waiting list, theme, breakdown row), never the length of a capped list of citations.

Ranking, never by the order above: each rule proposes a candidate worth
``urgency × affected × log2(2 + days)`` (:func:`chatbot.analysis.worth.worth`): urgency 3
for unanswered, 2.5 reopened, 2 hot and theme, 1.5 spike, 1 stalled, slow and backlog;
affected is the tickets it is about (the people in the discussion for hot; the growth for
theme, spike and backlog); days is the oldest wait (unanswered), the shortest silence
(stalled) or the p90 resolution (slow), else 0. :func:`chatbot.analysis.worth.select` keeps
the best seven and drops repetition: a ticket cited by a better one is not cited again for
the same kind of reason (acting on tickets, or looking for a cause), and a candidate whose
tickets were mostly cited that way is dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from chatbot.analysis.metrics import breakdown, received, waiting_for_reply
from chatbot.analysis.scoring import Ranked, explain, ticket_ref
from chatbot.analysis.worth import Candidate, select, worth
from chatbot.core.models import Ticket
from chatbot.core.periods import Period
from chatbot.core.report import Breakdown, Figures, Recommendation, Theme, TicketRef

DAY = 86_400.0
HOUR = 3_600.0
#: Longest ticket title, label or field value quoted in a sentence (the rest is cut).
MAX_QUOTE = 60


def _cite(refs: Sequence[TicketRef], more: int) -> str:
    shown = ", ".join(f"#{r.number}" for r in refs)
    return f"{shown} and {more} more" if more > 0 else shown


def _quote(text: str) -> str:
    """Untrusted text (a title, a label) on one line and short enough for a sentence."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_QUOTE else line[: MAX_QUOTE - 1].rstrip() + "…"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _span(hours: float) -> str:
    """``45 min``, ``5.2 h``, ``3.1 days``: as the report's tables show durations.

    The same format as ``chatbot.render.text.hours`` (analysis does not import renderers),
    so "the oldest waiting 2.5 days" reads exactly as the waiting list does.
    """
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def _unanswered(waiting: Sequence[tuple[Ticket, float]]) -> list[Candidate]:
    if not waiting or waiting[0][1] < 24:
        return []
    total, oldest = len(waiting), waiting[0][1]

    def text(refs: Sequence[TicketRef], more: int) -> str:
        return (
            f"Answer {_cite(refs, more)}: {_plural(total, 'new ticket')} still without a first"
            f" reply from the team (the oldest waiting {_span(oldest)})."
        )

    pool = tuple(ticket_ref(t) for t, _ in waiting)
    return [
        Candidate(
            rule="unanswered",
            reason="attention",
            score=worth("unanswered", total, oldest / 24),
            pool=pool,
            text=text,
        )
    ]


def _hot(ranked: Sequence[Ranked], as_of: datetime) -> list[Candidate]:
    discussed = [
        entry
        for entry in ranked
        if entry.level.participants >= 3
        and entry.level.comments >= 3
        and entry.ticket.is_open_at(as_of)
    ]
    if not discussed:
        return []
    # ties: the most active, the first of them in ranked order
    chosen = max(discussed, key=lambda e: (e.level.comments, e.level.participants))
    hot = explain(chosen.ticket, chosen.level)

    def text(refs: Sequence[TicketRef], more: int) -> str:
        return (
            f"Prioritise #{hot.ticket.number} ({_quote(hot.ticket.title)}): {hot.comments}"
            f" comments from {hot.participants} people in this period, and still open."
        )

    return [
        Candidate(
            rule="hot",
            reason="attention",
            score=worth("hot", hot.participants),
            pool=(hot.ticket,),
            text=text,
        )
    ]


def _stalled(tickets: Sequence[Ticket], as_of: datetime) -> list[Candidate]:
    stalled: list[tuple[float, Ticket]] = []
    for ticket in tickets:
        before = [c for c in ticket.comments if c.created_at < as_of]
        if not ticket.is_open_at(as_of) or not before:
            continue
        last = max(before, key=lambda c: c.created_at)
        idle = (as_of - last.created_at).total_seconds()
        if last.author.is_team and idle >= 7 * DAY:
            stalled.append((idle, ticket))
    if not stalled:
        return []
    stalled.sort(key=lambda pair: (-pair[0], pair[1].key))
    least = stalled[-1][0]

    def text(refs: Sequence[TicketRef], more: int) -> str:
        return (
            f"Follow up on or close {_cite(refs, more)}: the team replied last and the reporter"
            f" has not answered for {_span(least / HOUR)} or more."
        )

    return [
        Candidate(
            rule="stalled",
            reason="attention",
            score=worth("stalled", len(stalled), least / DAY),
            pool=tuple(ticket_ref(t) for _, t in stalled),
            text=text,
        )
    ]


def _grown(themes: Sequence[Theme]) -> list[Candidate]:
    found = []
    for theme in themes:
        before = theme.previous
        if theme.other or before is None or not theme.tickets:
            continue
        growth = theme.count - before
        if growth < 3 or 2 * theme.count < 3 * before:
            continue

        def text(refs: Sequence[TicketRef], more: int, theme: Theme = theme) -> str:
            return (
                f"Look for one cause behind {_quote(theme.title)}: {theme.count} tickets in this"
                f" period against {'about ' if theme.previous_estimated else ''}{theme.previous} in"
                f" the previous one, {theme.still_open} still"
                f" open ({_cite(refs, more)})."
            )

        found.append(
            Candidate(
                rule="theme",
                reason="cause",
                score=worth("theme", growth),
                pool=theme.tickets,
                text=text,
            )
        )
    return found


def _reopened(tickets: Sequence[Ticket], as_of: datetime) -> list[Candidate]:
    again = sorted(
        (
            t
            for t in tickets
            if t.state == "open"
            and (t.state_reason or "").lower() == "reopened"
            and t.is_open_at(as_of)
        ),
        key=lambda t: (t.created_at, t.key),
    )
    if not again:
        return []
    count = len(again)

    def text(refs: Sequence[TicketRef], more: int) -> str:
        if count == 1:
            return (
                f"Find out why #{again[0].number} ({_quote(again[0].title)}) was reopened: it was"
                " closed, and it is open again."
            )
        return (
            f"Find out why {count} tickets were reopened ({_cite(refs, more)}): each was closed,"
            " and each is open again."
        )

    return [
        Candidate(
            rule="reopened",
            reason="attention",
            score=worth("reopened", count),
            pool=tuple(ticket_ref(t) for t in again),
            text=text,
        )
    ]


def _spike(
    tickets: Sequence[Ticket],
    period: Period,
    history: Sequence[Ticket],
    before: Period,
    until: datetime | None,
    order: dict[tuple[str, int], int],
) -> list[Candidate]:
    cutoff = before.end_at if until is None else min(until, before.end_at)
    earlier = [t for t in history if before.contains(t.created_at) and t.created_at < cutoff]
    now_total = len(received(tickets, period))
    if not earlier or now_total == 0:
        return []
    then: Counter[tuple[str, str]] = Counter(
        {(b.dimension, b.value): b.received for b in breakdown(earlier, before)}
    )
    scale = max(now_total / len(earlier), 1.0)
    rows = [
        b
        for b in breakdown(tickets, period)
        if b.received - then[(b.dimension, b.value)] >= 3
        and b.received >= 2 * scale * then[(b.dimension, b.value)]
    ]
    if not rows:
        return []
    row = max(rows, key=lambda b: (b.received - then[(b.dimension, b.value)], b.dimension, b.value))
    previous = then[(row.dimension, row.value)]
    new = [t for t in received(tickets, period) if _has(t, row)]
    new.sort(key=lambda t: (order.get(t.key, len(order)), t.key))
    what = (
        f"the label '{_quote(row.value)}'"
        if row.dimension == "label"
        else f"'{_quote(row.value)}' as {_quote(row.dimension)}"
    )

    def text(refs: Sequence[TicketRef], more: int) -> str:
        return (
            f"Find out why new tickets with {what} jumped from {previous} in the previous period"
            f" to {row.received} in this one ({_cite(refs, more)})."
        )

    return [
        Candidate(
            rule="spike",
            reason="cause",
            score=worth("spike", row.received - previous),
            pool=tuple(ticket_ref(t) for t in new),
            text=text,
        )
    ]


def _has(ticket: Ticket, row: Breakdown) -> bool:
    if row.dimension == "label":
        return row.value in ticket.labels
    return (row.dimension, row.value) in ticket.form_fields


def _slow(tickets: Sequence[Ticket], period: Period, figures: Figures) -> list[Candidate]:
    median, p90 = figures.median_resolution_hours, figures.p90_resolution_hours
    if median is None or p90 is None or figures.resolved < 3:
        return []
    if p90 < 4 * median or p90 < 7 * 24:
        return []
    tail = sorted(
        (
            ((t.closed_at - t.created_at).total_seconds() / HOUR, t)
            for t in tickets
            if t.closed_at is not None and period.contains(t.closed_at)
        ),
        key=lambda pair: (-pair[0], pair[1].key),
    )
    tail = [(hours, t) for hours, t in tail if hours >= p90]
    count = len(tail)

    def text(refs: Sequence[TicketRef], more: int) -> str:
        return (
            f"Review what slowed {_cite(refs, more)}: the slowest {count} of the"
            f" {figures.resolved} tickets resolved took {_span(p90)} or more (the p90), against"
            f" a median of {_span(median)}."
        )

    return [
        Candidate(
            rule="slow",
            reason="cause",
            score=worth("slow", count, p90 / 24),
            pool=tuple(ticket_ref(t) for _, t in tail),
            text=text,
        )
    ]


def _backlog(
    tickets: Sequence[Ticket],
    period: Period,
    as_of: datetime,
    figures: Figures,
    previous: Figures | None,
    waiting: Sequence[tuple[Ticket, float]],
) -> list[Candidate]:
    if previous is None or figures.received <= figures.resolved:
        return []
    if figures.backlog <= previous.backlog:
        return []
    answering = {t.key for t, _ in waiting}
    pending = sorted(
        (t for t in received(tickets, period) if t.is_open_at(as_of) and t.key not in answering),
        key=lambda t: (t.created_at, t.key),
    )
    if not pending:
        return []
    beyond = " beyond those waiting for a first reply" if answering else ""

    def text(refs: Sequence[TicketRef], more: int) -> str:
        return (
            f"The backlog grew from {previous.backlog} to {figures.backlog}"
            f" ({figures.received} received, {figures.resolved} resolved): triage the new"
            f" tickets still open{beyond}, oldest first: {_cite(refs, more)}."
        )

    growth = figures.backlog - previous.backlog
    return [
        Candidate(
            rule="backlog",
            reason="attention",
            score=worth("backlog", growth),
            pool=tuple(ticket_ref(t) for t in pending),
            text=text,
        )
    ]


def recommend(
    tickets: Sequence[Ticket],
    period: Period,
    now: datetime,
    figures: Figures,
    previous: Figures | None,
    ranked: Sequence[Ranked],
    themes: Sequence[Theme],
    *,
    history: Sequence[Ticket] = (),
    previous_period: Period | None = None,
    previous_until: datetime | None = None,
) -> list[Recommendation]:
    """The recommendations the period's data supports, the most worth first.

    ``tickets`` are the period's and ``ranked`` the same tickets most active first, as plain
    levels (the hot rule explains only the one it cites); ``history`` may add the previous
    period's (the spike and the stalled rules read them), with ``previous_period`` and
    ``previous_until`` as the summary compares them.
    """
    as_of = min(period.end_at, now)
    order = {entry.ticket.key: i for i, entry in enumerate(ranked)}
    waiting = waiting_for_reply(tickets, period, now)
    candidates = [
        *_unanswered(waiting),
        *_hot(ranked, as_of),
        *_stalled(list({t.key: t for t in [*history, *tickets]}.values()), as_of),
        *_grown(themes),
        *_reopened(tickets, as_of),
        *_slow(tickets, period, figures),
        *_backlog(tickets, period, as_of, figures, previous, waiting),
    ]
    if previous is not None:
        before = previous_period or period.previous()
        candidates += _spike(tickets, period, history, before, previous_until, order)
    return select(candidates)
