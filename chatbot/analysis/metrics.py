"""Summary figures, breakdowns and per-day counts of a period (definitions: core.report)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

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


def received(tickets: Sequence[Ticket], period: Period) -> list[Ticket]:
    """Tickets opened in the period."""
    return [t for t in tickets if period.contains(t.created_at)]


def resolved(tickets: Sequence[Ticket], period: Period) -> list[Ticket]:
    """Tickets closed in the period."""
    return [t for t in tickets if t.closed_at is not None and period.contains(t.closed_at)]


def still_open(tickets: Sequence[Ticket], period: Period) -> list[Ticket]:
    """Tickets opened in the period and not closed by its end."""
    return [t for t in received(tickets, period) if t.is_open_at(period.end_at)]


def compute_figures(
    tickets: Sequence[Ticket], period: Period, backlog: int, until: datetime | None = None
) -> Figures:
    """The summary figures of a period from the tickets it touched.

    With ``until``, only what happened before that instant counts: the previous period cut to
    the time elapsed in a period still in progress.
    """
    cutoff = period.end_at if until is None else min(until, period.end_at)
    new = [t for t in received(tickets, period) if t.created_at < cutoff]
    done = [t for t in resolved(tickets, period) if t.closed_at and t.closed_at < cutoff]
    responses = [
        (answer - t.created_at).total_seconds() / 3600
        for t in new
        if (answer := first_response(t)) is not None and (until is None or answer < cutoff)
    ]
    resolutions = [(t.closed_at - t.created_at).total_seconds() / 3600 for t in done if t.closed_at]
    return Figures(
        received=len(new),
        resolved=len(done),
        still_open=sum(1 for t in new if t.is_open_at(cutoff)),
        backlog=backlog,
        answered=len(responses),
        median_first_response_hours=median(responses),
        median_resolution_hours=median(resolutions),
        p90_first_response_hours=percentile(responses),
        p90_resolution_hours=percentile(resolutions),
    )


def waiting_for_reply(
    tickets: Sequence[Ticket], period: Period, now: datetime
) -> list[tuple[Ticket, float]]:
    """Open tickets received in the period with no team reply by its end (or now, if sooner).

    Oldest first, each with the hours it has waited; a reply after that moment does not count.
    """
    as_of = min(period.end_at, now)
    waiting = []
    for ticket in received(tickets, period):
        answer = first_response(ticket)
        if ticket.is_open_at(as_of) and (answer is None or answer >= as_of):
            waiting.append((ticket, (as_of - ticket.created_at).total_seconds() / 3600))
    waiting.sort(key=lambda pair: (pair[0].created_at, pair[0].key))
    return waiting


def breakdown(tickets: Sequence[Ticket], period: Period) -> list[Breakdown]:
    """Received / resolved / pending per label and per form-field value.

    Labels first, then each form field in name order. A form-field value counts if it is a
    short one-line answer that is not a link (a link names one page: it groups nothing);
    a field with many values ends in one merged row (see :func:`_merge_tail`), and a field
    whose every answer differs is left out (see :func:`_groups`).
    """
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    end = period.end_at
    for ticket in tickets:
        is_new = period.contains(ticket.created_at)
        is_done = ticket.closed_at is not None and period.contains(ticket.closed_at)
        if not (is_new or is_done):
            continue
        keys = [("label", label) for label in ticket.labels]
        keys += [
            (name, value)
            for name, value in ticket.form_fields
            if value.strip().lower() not in EMPTY_FIELD_VALUES
            and len(value) <= MAX_FIELD_VALUE_LENGTH
            and "\n" not in value
            and not value.lower().startswith(LINK_PREFIXES)
        ]
        for key in dict.fromkeys(keys):
            row = counts[key]
            row[0] += is_new
            row[1] += is_done
            row[2] += is_new and ticket.is_open_at(end)
    labels: list[Breakdown] = []
    fields: dict[str, list[Breakdown]] = defaultdict(list)
    for (dim, value), (r, d, p) in counts.items():
        line = Breakdown(dimension=dim, value=value, received=r, resolved=d, pending=p)
        (labels if dim == "label" else fields[dim]).append(line)
    labels.sort(key=_by_count)
    return labels + [
        row
        for name in sorted(fields)
        if _groups(fields[name])
        for row in _merge_tail(name, fields[name])
    ]


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


def per_day(tickets: Sequence[Ticket], period: Period) -> list[tuple[str, int, int]]:
    """For each day of the period: (day, opened, resolved), days in the team's zone."""
    zone = period.zone
    opened: dict[str, int] = defaultdict(int)
    closed: dict[str, int] = defaultdict(int)
    for ticket in tickets:
        if period.contains(ticket.created_at):
            opened[ticket.created_at.astimezone(zone).date().isoformat()] += 1
        if ticket.closed_at is not None and period.contains(ticket.closed_at):
            closed[ticket.closed_at.astimezone(zone).date().isoformat()] += 1
    days = [day.isoformat() for day in period.each_day()]
    return [(day, opened[day], closed[day]) for day in days]
