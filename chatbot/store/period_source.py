"""The ticket store as a :class:`~chatbot.core.ports.PeriodSource`: a period's per-ticket
facts and breakdown counts from aggregate SQL, whole tickets only for the keys asked.

A report over a year touches tens of thousands of tickets; building each as a ``Ticket``
with its comments costs seconds. Here each answer is one statement over the ``created_at``,
``closed_at`` and comment ``ticket_id`` / ``created_at`` indexes, returning rows already in
the answer's shape, times as whole microseconds computed in SQL. The definitions are
``chatbot.analysis.source.TicketsSource``'s, which ``tests/test_period_source.py`` checks
against on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CompoundSelect,
    Connection,
    Engine,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    distinct,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from chatbot.core.facts import Key, TicketFacts
from chatbot.core.models import TEAM_ASSOCIATIONS, Ticket
from chatbot.core.report import Breakdown
from chatbot.store.tables import comments, form_fields, labels, tickets

_TEAM = sorted(TEAM_ASSOCIATIONS)
SORT_MEMORY = "32MB"
"""PostgreSQL's ``work_mem`` for a span's facts: a year of 100k tickets sorts in memory."""


class _Store(Protocol):
    """What :class:`PeriodQueries` needs of the store it is mixed into."""

    engine: Engine
    _postgres: bool

    def _load(
        self, chosen: Select[Any] | CompoundSelect[Any], *, bodies: bool = False
    ) -> list[Ticket]: ...

    def _key_table(self, keys: Sequence[Key]) -> Any: ...


class PeriodQueries:
    """The :class:`~chatbot.core.ports.PeriodSource` methods of ``SQLAlchemyTicketStore``
    that it does not have for its own sake (``ticket_texts``, ``backlog`` and
    ``period_figures`` live there)."""

    def period_facts(
        self: _Store, start: datetime, end: datetime, as_of: datetime, *, open_only: bool = False
    ) -> list[TicketFacts]:
        """Facts of each ticket opened, closed or commented on in ``[start, end)``, by key.

        One statement: the touched tickets (see :func:`_touched`), each joined to its whole
        thread on the ``ticket_id`` index and grouped, every fact a conditional aggregate of
        that one pass. Times are aggregated as stored and turned into microseconds once per
        ticket. With ``open_only`` the tickets not open at ``as_of`` are dropped before
        their threads are joined.
        """
        statement = _facts_statement(self._postgres, start, end, as_of, open_only=open_only)
        with self.engine.connect() as conn:
            _serial(conn, self._postgres)
            return list(map(TicketFacts._make, conn.execute(statement).all()))

    def touched_keys(self: _Store, start: datetime, end: datetime) -> list[Key]:
        """Keys of the tickets opened, closed or commented on in ``[start, end)``, sorted."""
        spanned, where = _touched(self._postgres, start, end)
        statement = (
            select(tickets.c.repo, tickets.c.number)
            .select_from(spanned)
            .where(*where)
            .order_by(*_by_key(self._postgres))
        )
        with self.engine.connect() as conn:
            _serial(conn, self._postgres)
            return [(repo, number) for repo, number in conn.execute(statement).all()]

    def breakdown_counts(self: _Store, start: datetime, end: datetime) -> list[Breakdown]:
        """Received, resolved and pending per label and form-field answer of the tickets
        opened or closed in ``[start, end)``, each ticket once per row.

        The span's tickets and their three flags come from the two covering time indexes
        (``0008``) alone, as a ``UNION ALL`` of those opened in the span and those only
        closed in it: the table rows, which hold the bodies, are never read. Labels (unique
        per ticket by their key) and distinct answers are joined on their ``ticket_id``
        keys and summed in two grouped queries, never a union of both whole tables. A form
        field called ``label`` whose answer is also one of the ticket's labels is the same
        row (as ``answer_rows`` has it) and counts once.
        """
        created, closed = tickets.c.created_at, tickets.c.closed_at
        is_new = and_(created >= start, created < end)
        is_done = and_(closed >= start, closed < end)
        spanned = union_all(
            select(
                tickets.c.id,
                literal(1).label("new"),
                _flag(is_done).label("done"),
                _flag(or_(closed.is_(None), closed >= end)).label("pending"),
            ).where(is_new),
            select(tickets.c.id, literal(0), literal(1), literal(0)).where(is_done, ~is_new),
        ).cte("spanned")
        flags = (spanned.c.new, spanned.c.done, spanned.c.pending)
        by_label = (
            select(literal("label"), labels.c.name, *(func.sum(f) for f in flags))
            .join_from(spanned, labels, labels.c.ticket_id == spanned.c.id)
            .group_by(labels.c.name)
        )
        also_label = exists().where(
            labels.c.ticket_id == spanned.c.id, labels.c.name == form_fields.c.value
        )
        answers = (
            select(spanned.c.id, *flags, form_fields.c.name, form_fields.c.value)
            .distinct()
            .join_from(spanned, form_fields, form_fields.c.ticket_id == spanned.c.id)
            .where(~and_(form_fields.c.name == "label", also_label))
            .subquery("answers")
        )
        by_answer = select(
            answers.c.name,
            answers.c.value,
            func.sum(answers.c.new),
            func.sum(answers.c.done),
            func.sum(answers.c.pending),
        ).group_by(answers.c.name, answers.c.value)
        counts: dict[tuple[str, str], list[int]] = {}
        with self.engine.connect() as conn:
            for statement in (by_label, by_answer):
                for dimension, value, received, resolved, pending in conn.execute(statement):
                    row = counts.setdefault((dimension, value), [0, 0, 0])
                    row[0] += int(received)
                    row[1] += int(resolved)
                    row[2] += int(pending)
        return [
            Breakdown(dimension=dim, value=value, received=r, resolved=d, pending=p)
            for (dim, value), (r, d, p) in counts.items()
        ]

    def received_counts(self: _Store, start: datetime, end: datetime) -> dict[tuple[str, str], int]:
        """How many tickets opened in ``[start, end)`` have each label and form-field
        answer, rows of zero left out: ``breakdown_counts``'s received column alone.

        Only the ``created_at`` index's range is read (no closed tickets, no flags), and each
        ticket's rows counted as there: labels by name, answers distinct per ticket, a form
        field called ``label`` that repeats one of its labels left to the label.
        """
        opened = (tickets.c.created_at >= start, tickets.c.created_at < end)
        by_label = (
            select(literal("label"), labels.c.name, func.count())
            .join_from(tickets, labels, labels.c.ticket_id == tickets.c.id)
            .where(*opened)
            .group_by(labels.c.name)
        )
        also_label = exists().where(
            labels.c.ticket_id == tickets.c.id, labels.c.name == form_fields.c.value
        )
        answers = (
            select(tickets.c.id, form_fields.c.name, form_fields.c.value)
            .distinct()
            .join_from(tickets, form_fields, form_fields.c.ticket_id == tickets.c.id)
            .where(*opened, ~and_(form_fields.c.name == "label", also_label))
            .subquery("answers")
        )
        by_answer = select(answers.c.name, answers.c.value, func.count()).group_by(
            answers.c.name, answers.c.value
        )
        counts: dict[tuple[str, str], int] = {}
        with self.engine.connect() as conn:
            for statement in (by_label, by_answer):
                for dimension, value, received in conn.execute(statement):
                    key = (dimension, value)
                    counts[key] = counts.get(key, 0) + int(received)
        return counts

    def received_with(
        self: _Store, start: datetime, end: datetime, dimension: str, value: str
    ) -> list[Key]:
        """Keys of the tickets opened in ``[start, end)`` with that label (dimension
        ``label``) or form-field answer, sorted.

        A form field may be called ``label`` too: it matches as a label does.
        """
        owned = [form_fields.c.ticket_id == tickets.c.id]
        has_field = exists().where(
            *owned, form_fields.c.name == dimension, form_fields.c.value == value
        )
        found: ColumnElement[bool] = has_field
        if dimension == "label":
            has_label = exists().where(labels.c.ticket_id == tickets.c.id, labels.c.name == value)
            found = or_(has_label, has_field)
        statement = (
            select(tickets.c.repo, tickets.c.number)
            .where(tickets.c.created_at >= start, tickets.c.created_at < end, found)
            .order_by(*_by_key(self._postgres))
        )
        with self.engine.connect() as conn:
            return [(repo, number) for repo, number in conn.execute(statement)]

    def tickets(self: _Store, keys: Sequence[Key]) -> list[Ticket]:
        """The tickets of ``keys`` with labels, fields and comments, bodies left out,
        sorted by key; unknown keys are absent. The keys go as one parameter."""
        wanted = self._key_table(list(dict.fromkeys(keys)))
        chosen = select(tickets.c.id).join_from(
            tickets,
            wanted,
            and_(tickets.c.repo == wanted.c.repo, tickets.c.number == wanted.c.number),
        )
        return self._load(chosen)


def _by_key(postgres: bool) -> tuple[ColumnElement[Any], ...]:
    """The ``ORDER BY`` of keys in Python's order: repositories by code point (``COLLATE
    "C"`` on PostgreSQL, whose database collation may be a language's; SQLite compares
    UTF-8 bytes, the same order), then numbers."""
    repo = tickets.c.repo.collate("C") if postgres else tickets.c.repo
    return (repo, tickets.c.number)


def _touched(
    postgres: bool, start: datetime, end: datetime, open_at: datetime | None = None
) -> tuple[FromClause, list[ColumnElement[bool]]]:
    """The ``FROM`` and ``WHERE`` that keep ``tickets`` to those opened, closed or
    commented on in ``[start, end)``.

    SQLite joins the ids of a union of three index range scans (``tickets_touched``'s; the
    comments' from ``ix_comments_created_at_ticket_id`` alone), then reads each ticket once
    by its key. PostgreSQL instead filters ``tickets`` with
    one condition (either date in the span, or the id among the span's comments' ticket
    ids, hashed): its indexes hold no id, so each branch of the union read the rows of its
    range from the table only to take their ids, before the join read them again.

    With ``open_at``, SQLite's opened and closed branches keep only the tickets open at
    that moment, read from the covering time indexes (``0008``), so the tickets closed
    since are never read from the table; the caller still filters what the comments add.
    """
    created, closed = tickets.c.created_at, tickets.c.closed_at
    commented = (
        select(comments.c.ticket_id)
        .where(comments.c.created_at >= start, comments.c.created_at < end)
        .correlate(None)  # its own ``comments``, not the thread joined outside
    )
    if postgres:
        return tickets, [
            or_(
                and_(created >= start, created < end),
                and_(closed >= start, closed < end),
                tickets.c.id.in_(commented),
            )
        ]
    still: list[ColumnElement[bool]] = []
    if open_at is not None:
        still = [created < open_at, or_(closed.is_(None), closed >= open_at)]
    touched = union(
        select(tickets.c.id).where(created >= start, created < end, *still),
        select(tickets.c.id).where(closed >= start, closed < end, *still),
        commented,
    ).cte("touched")
    return touched.join(tickets, tickets.c.id == touched.c.id), []


def _serial(conn: Connection, postgres: bool) -> None:
    """On PostgreSQL, no parallel workers and room to sort in memory for the rest of
    ``conn``'s transaction (``SET LOCAL``), for a statement filtered by :func:`_touched`.

    A parallel plan gives each worker its own copy of the hashed comment ids, read from
    the whole ``comments`` table once per process; and a year's facts (some 4 MB at 35k
    tickets) spilled their final sort to disk under the default 4 MB ``work_mem``.
    """
    if postgres:
        conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{SORT_MEMORY}'")


def _facts_statement(
    postgres: bool, start: datetime, end: datetime, as_of: datetime, *, open_only: bool
) -> Select[Any]:
    """The ``period_facts`` statement: one row per touched ticket in ``TicketFacts`` order."""
    micros = _pg_micros if postgres else sqlite_micros
    t, c = tickets, comments
    spanned, where = _touched(postgres, start, end, as_of if open_only else None)
    in_span = and_(c.c.created_at >= start, c.c.created_at < end)
    human = and_(in_span, c.c.author_is_bot.is_(False))
    is_team = and_(c.c.author_association.in_(_TEAM), c.c.author_is_bot.is_(False))
    before = c.c.created_at < as_of
    said = func.max(case((and_(human, c.c.author_login == t.c.author_login), 1), else_=0))
    answer = and_(is_team, c.c.author_login != t.c.author_login)
    statement = (
        select(
            t.c.repo,
            t.c.number,
            t.c.state,
            t.c.state_reason,
            t.c.author_is_bot,
            micros(t.c.created_at),
            micros(t.c.closed_at),
            t.c.reactions,
            func.count(case((human, 1))),
            func.count(distinct(case((human, c.c.author_login)))),
            func.coalesce(said, 0) == 1,
            micros(func.max(case((in_span, c.c.created_at)))),
            micros(func.min(case((answer, c.c.created_at)))),
            micros(func.max(case((before, c.c.created_at)))),
            _last_is_team(postgres, is_team, before),
        )
        .select_from(spanned.outerjoin(c, c.c.ticket_id == t.c.id))
        .where(*where)
        .group_by(t.c.id)
        .order_by(*_by_key(postgres))
    )
    if open_only:
        statement = statement.where(
            t.c.created_at < as_of, or_(t.c.closed_at.is_(None), t.c.closed_at >= as_of)
        )
    return statement


def _last_is_team(
    postgres: bool, is_team: ColumnElement[bool], before: ColumnElement[bool]
) -> ColumnElement[bool]:
    """True if the latest comment before ``as_of`` (the highest id among those at the same
    instant) is the team's; False if none.

    PostgreSQL takes the first of the thread's team flags ordered newest first. SQLite (no
    ``ORDER BY`` in aggregates before 3.44) takes the ``MAX`` of the stored time, the id
    zero-padded to 20 digits (GitHub's ids are positive) and the flag, and reads the flag
    back from the last character; the stored time is fixed-width text, so text order is
    time order.
    """
    c = comments.c
    if postgres:
        # the PostgreSQL dialect costs 35 ms to import: only a PostgreSQL store pays it
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        flags = func.array_agg(
            aggregate_order_by(is_team, c.created_at.desc(), c.id.desc())
        ).filter(before)
        first = type_coerce(flags, ARRAY(Boolean()))[1]
        return func.coalesce(first, False)
    flag = case((is_team, "1"), else_="0")
    packed = type_coerce(c.created_at, String()) + func.printf("%020d", c.id) + flag
    return func.coalesce(func.substr(func.max(case((before, packed))), -1), "0") == "1"


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where ``condition`` holds, else 0: a flag to sum."""
    return case((condition, 1), else_=0)


def _pg_micros(column: Any) -> ColumnElement[int]:
    """A PostgreSQL ``timestamptz`` as whole microseconds since 1970, exactly (``extract``
    gives ``numeric`` seconds since PostgreSQL 14)."""
    return cast(extract("epoch", column) * 1_000_000, BigInteger)


def sqlite_micros(column: Any) -> ColumnElement[int]:
    """A SQLite time as whole microseconds since 1970, exactly.

    SQLite keeps ``YYYY-MM-DD HH:MM:SS.ffffff`` text; its date functions keep milliseconds
    only, so the whole seconds come from ``strftime('%s')`` of the first 19 characters and
    the microseconds from the digits after the point (``'000000'`` pads a shorter fraction
    or none).
    """
    raw = type_coerce(column, String())
    whole = cast(func.strftime("%s", func.substr(raw, 1, 19)), Integer)
    fraction = cast(func.substr(raw.concat("000000"), 21, 6), Integer)
    return whole * 1_000_000 + fraction
