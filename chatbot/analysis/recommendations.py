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

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from chatbot.analysis.metrics import hours_between, waiting_for_reply
from chatbot.analysis.scoring import participants
from chatbot.analysis.worth import Candidate, select, worth
from chatbot.core.facts import Key, TicketFacts, key_of, micros
from chatbot.core.periods import Period
from chatbot.core.report import Breakdown, Figures, Recommendation, Theme, TicketRef

#: The keys of the tickets received in the period with a breakdown row's label or answer.
ReceivedWith = Callable[[Breakdown], Sequence[Key]]

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


def _unanswered(waiting: Sequence[tuple[TicketFacts, float]]) -> list[Candidate]:
    if not waiting or waiting[0][1] < 24:
        return []
    total, oldest = len(waiting), waiting[0][1]

    def text(refs: Sequence[TicketRef], more: int) -> str:
        return (
            f"Answer {_cite(refs, more)}: {_plural(total, 'new ticket')} still without a first"
            f" reply from the team (the oldest waiting {_span(oldest)})."
        )

    return [
        Candidate(
            rule="unanswered",
            reason="attention",
            score=worth("unanswered", total, oldest / 24),
            pool=tuple(f.key for f, _ in waiting),
            text=text,
        )
    ]


def _hot(ranked: Sequence[TicketFacts], period: Period, as_of: int) -> list[Candidate]:
    first, after = micros(period.start_at), micros(period.end_at)
    discussed = [
        (f.comments, participants(f, first, after), f)
        for f in ranked
        if f.comments >= 3 and f.commenters >= 2 and f.is_open_at(as_of)
    ]
    discussed = [entry for entry in discussed if entry[1] >= 3]
    if not discussed:
        return []
    # ties: the most active, the first of them in ranked order
    comments, people, chosen = max(discussed, key=lambda e: (e[0], e[1]))

    def text(refs: Sequence[TicketRef], more: int) -> str:
        hot = refs[0]
        return (
            f"Prioritise #{hot.number} ({_quote(hot.title)}): {comments}"
            f" comments from {people} people in this period, and still open."
        )

    return [
        Candidate(
            rule="hot",
            reason="attention",
            score=worth("hot", people),
            pool=(chosen.key,),
            text=text,
        )
    ]


def _stalled(facts: Sequence[TicketFacts], as_of: int) -> list[Candidate]:
    stalled: dict[Key, float] = {}  # by key: a ticket of both periods comes twice
    for f in facts:
        if not f.is_open_at(as_of) or f.last_comment is None or not f.last_comment_team:
            continue
        idle = (as_of - f.last_comment) / 1_000_000
        if idle >= 7 * DAY:
            stalled[f.repo, f.number] = idle
    if not stalled:
        return []
    silent = sorted(stalled.items(), key=lambda pair: (-pair[1], pair[0]))
    least = silent[-1][1]

    def text(refs: Sequence[TicketRef], more: int) -> str:
        return (
            f"Follow up on or close {_cite(refs, more)}: the team replied last and the reporter"
            f" has not answered for {_span(least / HOUR)} or more."
        )

    return [
        Candidate(
            rule="stalled",
            reason="attention",
            score=worth("stalled", len(silent), least / DAY),
            pool=tuple(key for key, _ in silent),
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
            about = "about " if theme.estimated else ""
            return (
                f"Look for one cause behind {_quote(theme.title)}: {about}{theme.count} tickets in"
                f" this period against {'about ' if theme.previous_estimated else ''}"
                f"{theme.previous} in the previous one, {about}{theme.still_open} still"
                f" open ({_cite(refs, more)})."
            )

        found.append(
            Candidate(
                rule="theme",
                reason="cause",
                score=worth("theme", growth),
                pool=tuple((r.repo, r.number) for r in theme.tickets),
                text=text,
            )
        )
    return found


def _reopened(facts: Sequence[TicketFacts], as_of: int) -> list[Candidate]:
    again = sorted(
        (
            f
            for f in facts
            if f.state == "open"
            and (f.state_reason or "").lower() == "reopened"
            and f.is_open_at(as_of)
        ),
        key=lambda f: (f.created, f.key),
    )
    if not again:
        return []
    count = len(again)

    def text(refs: Sequence[TicketRef], more: int) -> str:
        if count == 1:
            return (
                f"Find out why #{refs[0].number} ({_quote(refs[0].title)}) was reopened: it was"
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
            pool=tuple(f.key for f in again),
            text=text,
        )
    ]


def _spike(
    rows: Sequence[Breakdown],
    received: int,
    previous: Figures,
    then: Mapping[tuple[str, str], int],
    received_with: ReceivedWith,
    ranked: Sequence[TicketFacts],
) -> list[Candidate]:
    if previous.received == 0 or received == 0:
        return []
    scale = max(received / previous.received, 1.0)

    def before(row: Breakdown) -> int:
        return then.get((row.dimension, row.value), 0)

    grown = [b for b in rows if b.received - before(b) >= 3 and b.received >= 2 * scale * before(b)]
    if not grown:
        return []
    row = max(grown, key=lambda b: (b.received - before(b), b.dimension, b.value))
    earlier = before(row)
    order = dict(zip(map(key_of, ranked), range(len(ranked)), strict=True))
    new = sorted(received_with(row), key=lambda key: (order.get(key, len(order)), key))
    what = (
        f"the label '{_quote(row.value)}'"
        if row.dimension == "label"
        else f"'{_quote(row.value)}' as {_quote(row.dimension)}"
    )

    def text(refs: Sequence[TicketRef], more: int) -> str:
        return (
            f"Find out why new tickets with {what} jumped from {earlier} in the previous period"
            f" to {row.received} in this one ({_cite(refs, more)})."
        )

    return [
        Candidate(
            rule="spike",
            reason="cause",
            score=worth("spike", row.received - earlier),
            pool=tuple(new),
            text=text,
        )
    ]


def _slow(facts: Sequence[TicketFacts], period: Period, figures: Figures) -> list[Candidate]:
    median, p90 = figures.median_resolution_hours, figures.p90_resolution_hours
    if median is None or p90 is None or figures.resolved < 3:
        return []
    if p90 < 4 * median or p90 < 7 * 24:
        return []
    first, after = micros(period.start_at), micros(period.end_at)
    resolved = (
        (hours_between(f.created, f.closed), f)
        for f in facts
        if f.closed is not None and first <= f.closed < after
    )
    tail = sorted(
        ((hours, key_of(f)) for hours, f in resolved if hours >= p90),
        key=lambda pair: (-pair[0], pair[1]),
    )
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
            pool=tuple(key for _, key in tail),
            text=text,
        )
    ]


def _backlog(
    facts: Sequence[TicketFacts],
    period: Period,
    as_of: int,
    figures: Figures,
    previous: Figures | None,
    waiting: Sequence[tuple[TicketFacts, float]],
) -> list[Candidate]:
    if previous is None or figures.received <= figures.resolved:
        return []
    if figures.backlog <= previous.backlog:
        return []
    answering = {f.key for f, _ in waiting}
    first, after = micros(period.start_at), micros(period.end_at)
    pending = sorted(
        (
            f
            for f in facts
            if first <= f.created < after and f.is_open_at(as_of) and f.key not in answering
        ),
        key=lambda f: (f.created, f.key),
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
            pool=tuple(f.key for f in pending),
            text=text,
        )
    ]


def recommend(
    facts: Sequence[TicketFacts],
    period: Period,
    now: datetime,
    figures: Figures,
    previous: Figures | None,
    ranked: Sequence[TicketFacts],
    themes: Sequence[Theme],
    *,
    refs: Callable[[Sequence[Key]], Mapping[Key, TicketRef]],
    history: Sequence[TicketFacts] = (),
    breakdown: Sequence[Breakdown] = (),
    previous_received: Mapping[tuple[str, str], int] | None = None,
    received_with: ReceivedWith | None = None,
    waiting: Sequence[tuple[TicketFacts, float]] | None = None,
) -> list[Recommendation]:
    """The recommendations the period's data supports, the most worth first.

    ``facts`` are the period's tickets and ``ranked`` their facts most active first;
    ``history`` may add tickets of the previous period that are open at the end (the
    stalled rule reads them); ``breakdown`` is the report's table, ``previous_received``
    each of its rows' received count in the previous period (as the summary compares it)
    and ``received_with`` the tickets of a row (the spike rule). ``refs`` reads the
    citations of just the tickets the chosen recommendations cite. ``waiting`` is the
    report's waiting list if it has one (``waiting_for_reply`` of the same facts).
    """
    as_of = micros(min(period.end_at, now))
    if waiting is None:
        waiting = waiting_for_reply(facts, period, now)
    candidates = [
        *_unanswered(waiting),
        *_hot(ranked, period, as_of),
        *_stalled([*history, *facts], as_of),
        *_grown(themes),
        *_reopened(facts, as_of),
        *_slow(facts, period, figures),
        *_backlog(facts, period, as_of, figures, previous, waiting),
    ]
    if previous is not None and previous_received is not None and received_with is not None:
        candidates += _spike(
            breakdown, figures.received, previous, previous_received, received_with, ranked
        )
    return select(candidates, refs)
