"""Summary figures, breakdowns and per-day counts of a period (definitions: core.report)."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, time

from chatbot.core.facts import TicketFacts, key_of, micros
from chatbot.core.models import Ticket
from chatbot.core.periods import Period
from chatbot.core.report import Breakdown, Figures
from chatbot.core.stats import median, percentile

EMPTY_FIELD_VALUES = frozenset({"", "_no response_", "none", "n/a"})
MAX_FIELD_VALUE_LENGTH = 60
MAX_FIELD_VALUES = 7
LINK_PREFIXES = ("http://", "https://")


def first_response(ticket: Ticket) -> datetime | None:
    """When a team member other than the author first commented, if ever."""
    for comment in sorted(ticket.comments, key=lambda c: c.created_at):
        if comment.author.is_team and comment.author.login != ticket.author.login:
            return comment.created_at
    return None


def state_at(ticket: Ticket, moment: datetime) -> str:
    """``open`` or ``closed``: the ticket's state at ``moment`` (its current state if unknown)."""
    if ticket.state == "closed" and ticket.closed_at is None:
        return "closed"
    return "open" if ticket.is_open_at(moment) else "closed"


def touched(ticket: Ticket, start: datetime, end: datetime) -> bool:
    """True if ``ticket`` was opened, closed or commented on in ``[start, end)``."""
    moments = [ticket.created_at, ticket.closed_at, *(c.created_at for c in ticket.comments)]
    return any(m is not None and start <= m < end for m in moments)


def facts_of(ticket: Ticket, start: datetime, end: datetime, as_of: datetime) -> TicketFacts:
    """The facts of one ticket for ``[start, end)`` and ``as_of``: the definition every
    store's aggregate queries follow (see :class:`~chatbot.core.facts.TicketFacts`)."""
    first, after, cut = micros(start), micros(end), micros(as_of)
    comments = 0
    people: set[str] = set()
    latest: int | None = None
    last: tuple[int, int] | None = None
    last_team = False
    for c in ticket.comments:
        moment = micros(c.created_at)
        if first <= moment < after:
            latest = moment if latest is None else max(latest, moment)
            if not c.author.is_bot:
                comments += 1
                people.add(c.author.login)
        if moment < cut and (last is None or (moment, c.id) > last):
            last, last_team = (moment, c.id), c.author.is_team
    answer = first_response(ticket)
    return TicketFacts(
        repo=ticket.repo,
        number=ticket.number,
        state=ticket.state,
        state_reason=ticket.state_reason,
        author_is_bot=ticket.author.is_bot,
        created=micros(ticket.created_at),
        closed=None if ticket.closed_at is None else micros(ticket.closed_at),
        reactions=ticket.reactions,
        comments=comments,
        commenters=len(people),
        author_commented=ticket.author.login in people,
        latest=latest,
        first_response=None if answer is None else micros(answer),
        last_comment=None if last is None else last[0],
        last_comment_team=last_team,
    )


def hours_between(earlier: int, later: int) -> float:
    """Hours from ``earlier`` to ``later`` (micros), as ``timedelta.total_seconds() / 3600``."""
    return (later - earlier) / 1_000_000 / 3600


def figures_of(
    facts: Sequence[TicketFacts],
    start: datetime,
    end: datetime,
    backlog: int,
    until: datetime | None = None,
) -> Figures:
    """The summary figures of ``[start, end)`` from the facts of the tickets it touched.

    With ``until``, only what happened before that instant counts: the previous period cut to
    the time elapsed in a period still in progress.
    """
    first = micros(start)
    cutoff = micros(end if until is None else min(until, end))
    new = [f for f in facts if first <= f.created < cutoff]
    done = [f for f in facts if f.closed is not None and first <= f.closed < cutoff]
    responses = [
        hours_between(f.created, f.first_response)
        for f in new
        if f.first_response is not None and (until is None or f.first_response < cutoff)
    ]
    resolutions = [hours_between(f.created, f.closed) for f in done if f.closed is not None]
    return Figures(
        received=len(new),
        resolved=len(done),
        still_open=sum(1 for f in new if f.is_open_at(cutoff)),
        backlog=backlog,
        answered=len(responses),
        median_first_response_hours=median(responses),
        median_resolution_hours=median(resolutions),
        p90_first_response_hours=percentile(responses),
        p90_resolution_hours=percentile(resolutions),
    )


def compute_figures(
    tickets: Sequence[Ticket], period: Period, backlog: int, until: datetime | None = None
) -> Figures:
    """The summary figures of a period from the tickets it touched (see :func:`figures_of`)."""
    start, end = period.start_at, period.end_at
    cutoff = end if until is None else min(until, end)
    facts = [facts_of(t, start, end, cutoff) for t in tickets]
    return figures_of(facts, start, end, backlog, until)


def waiting_for_reply(
    facts: Sequence[TicketFacts], period: Period, now: datetime
) -> list[tuple[TicketFacts, float]]:
    """Open tickets received in the period with no team reply by its end (or now, if sooner).

    Oldest first, each with the hours it has waited; a reply after that moment does not count.
    """
    return waiting_between(
        facts, micros(period.start_at), micros(period.end_at), micros(min(period.end_at, now))
    )


def waiting_between(
    facts: Iterable[TicketFacts], first: int, after: int, as_of: int
) -> list[tuple[TicketFacts, float]]:
    """Tickets received in ``[first, after)`` and open at ``as_of`` with no team reply by
    then (times in micros), oldest first, each with the hours it has waited."""
    waiting = [
        (f, hours_between(f.created, as_of))
        for f in facts
        if first <= f.created < after
        and f.is_open_at(as_of)
        and (f.first_response is None or f.first_response >= as_of)
    ]
    waiting.sort(key=lambda pair: (pair[0].created, key_of(pair[0])))
    return waiting


def answer_rows(ticket: Ticket) -> list[tuple[str, str]]:
    """The distinct (dimension, value) rows a ticket counts in: its labels (dimension
    ``label``), then its form-field answers (dimension: the field's name)."""
    rows = [("label", label) for label in ticket.labels]
    rows += list(ticket.form_fields)
    return list(dict.fromkeys(rows))


def count_answers(tickets: Iterable[Ticket], start: datetime, end: datetime) -> list[Breakdown]:
    """Received / resolved / pending per label and answer of the tickets opened or closed
    in ``[start, end)``, every value, unfiltered (``PeriodSource.breakdown_counts``)."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for ticket in tickets:
        is_new = start <= ticket.created_at < end
        is_done = ticket.closed_at is not None and start <= ticket.closed_at < end
        if not (is_new or is_done):
            continue
        for key in answer_rows(ticket):
            row = counts[key]
            row[0] += is_new
            row[1] += is_done
            row[2] += is_new and ticket.is_open_at(end)
    return [
        Breakdown(dimension=dim, value=value, received=r, resolved=d, pending=p)
        for (dim, value), (r, d, p) in counts.items()
    ]


def shown_value(value: str) -> bool:
    """True for a form-field answer a breakdown shows: a short one-line answer that is not
    empty (``_No response_``) and not a link (a link names one page: it groups nothing)."""
    return (
        value.strip().lower() not in EMPTY_FIELD_VALUES
        and len(value) <= MAX_FIELD_VALUE_LENGTH
        and "\n" not in value
        and not value.lower().startswith(LINK_PREFIXES)
    )


def breakdown_rows(counts: Iterable[Breakdown]) -> list[Breakdown]:
    """The breakdown table from raw counts (:func:`count_answers`, ``breakdown_counts``).

    Labels first, then each form field in name order. A form-field value counts if
    :func:`shown_value`; a field with many values ends in one merged row (see
    :func:`_merge_tail`), and a field whose every answer differs is left out (see
    :func:`_groups`).
    """
    labels: list[Breakdown] = []
    fields: dict[str, list[Breakdown]] = defaultdict(list)
    for row in counts:
        if row.dimension == "label":
            labels.append(row)
        elif shown_value(row.value):
            fields[row.dimension].append(row)
    labels.sort(key=_by_count)
    return labels + [
        row
        for name in sorted(fields)
        if _groups(fields[name])
        for row in _merge_tail(name, fields[name])
    ]


def breakdown(tickets: Sequence[Ticket], period: Period) -> list[Breakdown]:
    """The breakdown table of ``period`` from the tickets it touched."""
    return breakdown_rows(count_answers(tickets, period.start_at, period.end_at))


def _groups(rows: list[Breakdown]) -> bool:
    """True if some value of a form field is shared by two tickets of the period.

    A field whose every answer differs (a free-text description, a URL) groups nothing
    and is left out; one or two tickets with a field still show it.
    """
    return len(rows) <= 2 or any(row.received >= 2 or row.resolved >= 2 for row in rows)


def _by_count(row: Breakdown) -> tuple[int, int, str]:
    """Most received first, then most resolved, then by value: the order of every table."""
    return (-row.received, -row.resolved, row.value)


def _merge_tail(name: str, rows: list[Breakdown]) -> list[Breakdown]:
    """One form field's rows, most frequent first; past :data:`MAX_FIELD_VALUES`, merged.

    A field with more values than that (a version, a free-text answer) keeps its most
    frequent ones and merges the rest into one ``Other (N values)`` row, last, so every
    surface shows the same short table and the counts still add up.
    """
    rows = sorted(rows, key=_by_count)
    if len(rows) <= MAX_FIELD_VALUES:
        return rows
    head, tail = rows[: MAX_FIELD_VALUES - 1], rows[MAX_FIELD_VALUES - 1 :]
    other = Breakdown(
        dimension=name,
        value=f"Other ({len(tail)} values)",
        received=sum(b.received for b in tail),
        resolved=sum(b.resolved for b in tail),
        pending=sum(b.pending for b in tail),
    )
    return [*head, other]


def per_day(facts: Sequence[TicketFacts], period: Period) -> list[tuple[str, int, int]]:
    """For each day of the period: (day, opened, resolved), days in the team's zone."""
    zone = period.zone
    days = list(period.each_day())
    starts = [micros(datetime.combine(day, time(), zone)) for day in days]
    first, after = micros(period.start_at), micros(period.end_at)
    opened = [0] * len(days)
    closed = [0] * len(days)
    for f in facts:
        if first <= f.created < after:
            opened[bisect_right(starts, f.created) - 1] += 1
        if f.closed is not None and first <= f.closed < after:
            closed[bisect_right(starts, f.closed) - 1] += 1
    return [(day.isoformat(), o, c) for day, o, c in zip(days, opened, closed, strict=True)]
