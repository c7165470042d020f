"""SQLAlchemyTicketStore: the ticket store on SQLite or PostgreSQL.

Period queries run in SQL over the ``created_at``, ``closed_at`` and comment
``created_at`` indexes: answering a week reads the tickets that week touched, never the
whole history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import (
    Engine,
    Integer,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from chatbot.core.models import Comment, Person, Ticket
from chatbot.core.ports import SaveStats
from chatbot.store.tables import comments, form_fields, labels, meta, tickets

BATCH = 500
LOAD_CHUNK = 5000


def _batches(items: Iterable[Ticket], size: int = BATCH) -> Iterator[list[Ticket]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _ticket_row(ticket: Ticket) -> dict[str, Any]:
    return {
        "repo": ticket.repo,
        "number": ticket.number,
        "title": ticket.title,
        "body": ticket.body,
        "state": ticket.state,
        "state_reason": ticket.state_reason,
        "author_login": ticket.author.login,
        "author_association": ticket.author.association,
        "author_is_bot": ticket.author.is_bot,
        "url": ticket.url,
        "reactions": ticket.reactions,
        "comment_count": ticket.comment_count,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "closed_at": ticket.closed_at,
    }


def comment_row(ticket_id: int, comment: Comment) -> dict[str, Any]:
    """The ``comments`` row of one comment of the ticket with id ``ticket_id``."""
    return {
        "id": comment.id,
        "ticket_id": ticket_id,
        "author_login": comment.author.login,
        "author_association": comment.author.association,
        "author_is_bot": comment.author.is_bot,
        "created_at": comment.created_at,
        "body": comment.body,
    }


class SQLAlchemyTicketStore:
    """Tickets, comments, labels and form fields in a SQL database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writing ---------------------------------------------------------------------

    def save_tickets(self, items: Iterable[Ticket], *, with_comments: bool = True) -> SaveStats:
        """Insert or replace tickets; their labels and fields always, comments if asked."""
        new = updated = saved_comments = 0
        with self.engine.begin() as conn:
            for batch in _batches(items):
                unique = {t.key: t for t in batch}
                ids = self._ids(conn, list(unique))
                fresh = [t for k, t in unique.items() if k not in ids]
                if fresh:
                    conn.execute(insert(tickets), [_ticket_row(t) for t in fresh])
                    ids.update(self._ids(conn, [t.key for t in fresh]))
                existing = [t for k, t in unique.items() if k not in {f.key for f in fresh}]
                for ticket in existing:
                    conn.execute(
                        update(tickets)
                        .where(tickets.c.id == ids[ticket.key])
                        .values(**_ticket_row(ticket))
                    )
                touched = [ids[k] for k in unique]
                conn.execute(delete(labels).where(labels.c.ticket_id.in_(touched)))
                conn.execute(delete(form_fields).where(form_fields.c.ticket_id.in_(touched)))
                label_rows = [
                    {"ticket_id": ids[t.key], "name": name}
                    for t in unique.values()
                    for name in dict.fromkeys(t.labels)
                ]
                field_rows = [
                    {"ticket_id": ids[t.key], "position": i, "name": name, "value": value}
                    for t in unique.values()
                    for i, (name, value) in enumerate(t.form_fields)
                ]
                if label_rows:
                    conn.execute(insert(labels), label_rows)
                if field_rows:
                    conn.execute(insert(form_fields), field_rows)
                if with_comments:
                    conn.execute(delete(comments).where(comments.c.ticket_id.in_(touched)))
                    rows = {
                        c.id: comment_row(ids[t.key], c)
                        for t in unique.values()
                        for c in t.comments
                    }
                    if rows:
                        conn.execute(delete(comments).where(comments.c.id.in_(list(rows))))
                        conn.execute(insert(comments), list(rows.values()))
                    saved_comments += len(rows)
                new += len(fresh)
                updated += len(existing)
        return SaveStats(new=new, updated=updated, comments=saved_comments)

    def save_comments(self, repo: str, items: Iterable[tuple[int, Comment]]) -> int:
        """Insert or replace comments given as (issue number, comment) of ``repo``.

        Comments of issues the store does not hold (pull requests, issues not synced yet)
        are skipped; returns how many were saved.
        """
        pairs = list(items)
        if not pairs:
            return 0
        saved = 0
        with self.engine.begin() as conn:
            for start in range(0, len(pairs), BATCH):
                chunk = pairs[start : start + BATCH]
                ids = self._ids(conn, [(repo, number) for number, _ in chunk])
                rows = {
                    c.id: comment_row(ids[(repo, number)], c)
                    for number, c in chunk
                    if (repo, number) in ids
                }
                if rows:
                    conn.execute(delete(comments).where(comments.c.id.in_(list(rows))))
                    conn.execute(insert(comments), list(rows.values()))
                saved += len(rows)
        return saved

    def _ids(self, conn: Connection, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
        found: dict[tuple[str, int], int] = {}
        by_repo: dict[str, list[int]] = defaultdict(list)
        for repo, number in keys:
            by_repo[repo].append(number)
        for repo, numbers in by_repo.items():
            rows = conn.execute(
                select(tickets.c.id, tickets.c.number).where(
                    tickets.c.repo == repo, tickets.c.number.in_(numbers)
                )
            )
            found.update({(repo, number): tid for tid, number in rows})
        return found

    def clear(self, repos: Sequence[str] | None = None) -> None:
        """Delete every ticket, or those of ``repos``, with their comments."""
        with self.engine.begin() as conn:
            chosen = select(tickets.c.id)
            if repos is not None:
                chosen = chosen.where(tickets.c.repo.in_(list(repos)))
            for table in (comments, labels, form_fields):
                conn.execute(delete(table).where(table.c.ticket_id.in_(chosen)))
            if repos is None:
                conn.execute(delete(tickets))
            else:
                conn.execute(delete(tickets).where(tickets.c.repo.in_(list(repos))))

    # -- reading ---------------------------------------------------------------------

    def tickets_touched(self, start: datetime, end: datetime) -> list[Ticket]:
        """Tickets opened, closed or commented on in ``[start, end)``, with all comments.

        Bodies are left out (reports do not read them); :meth:`find_tickets` has them.
        """
        touched = union(
            select(tickets.c.id).where(tickets.c.created_at >= start, tickets.c.created_at < end),
            select(tickets.c.id).where(tickets.c.closed_at >= start, tickets.c.closed_at < end),
            select(comments.c.ticket_id).where(
                comments.c.created_at >= start, comments.c.created_at < end
            ),
        )
        with self.engine.connect() as conn:
            ids = list(conn.execute(touched).scalars())
        return self._load(ids)

    def backlog(self, at: datetime) -> int:
        """How many tickets were open at ``at``: opened before it, minus closed before it.

        Two counts over the ``created_at`` and ``closed_at`` indexes rather than one scan of
        the table; a ticket is always opened before it is closed.
        """
        opened = select(func.count()).where(tickets.c.created_at < at).scalar_subquery()
        closed = select(func.count()).where(tickets.c.closed_at < at).scalar_subquery()
        with self.engine.connect() as conn:
            return int(conn.execute(select(opened - closed)).scalar_one())

    def find_tickets(self, number: int, repo: str | None = None) -> list[Ticket]:
        """Tickets with that number, in ``repo`` if given."""
        chosen = select(tickets.c.id).where(tickets.c.number == number)
        if repo:
            chosen = chosen.where(func.lower(tickets.c.repo) == repo.lower())
        with self.engine.connect() as conn:
            return self._load(list(conn.execute(chosen).scalars()), bodies=True)

    def repos(self) -> list[str]:
        """Repositories with tickets in the store, sorted.

        One index lookup per repository (a loose index scan over the ``(repo, number)``
        key) rather than a scan of every ticket.
        """
        found: list[str] = []
        with self.engine.connect() as conn:
            while True:
                query = select(func.min(tickets.c.repo))
                if found:
                    query = query.where(tickets.c.repo > found[-1])
                repo = conn.execute(query).scalar()
                if repo is None:
                    return found
                found.append(repo)

    def count_tickets(self) -> int:
        """How many tickets the store holds."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(tickets)).scalar_one())

    def get_meta(self, key: str) -> str | None:
        """A value the store keeps about itself."""
        with self.engine.connect() as conn:
            value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
            return None if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key``, replacing any earlier value."""
        with self.engine.begin() as conn:
            conn.execute(delete(meta).where(meta.c.key == key))
            conn.execute(insert(meta).values(key=key, value=value))

    def _one_of(self, ids: Sequence[int]) -> Callable[[Any], Any]:
        """A condition builder: ``column = ANY(:ids)`` (one array parameter) on PostgreSQL,
        ``column IN (...)`` elsewhere; thousands of separate parameters cost more to send
        than the query takes to run."""
        values = list(ids)
        if self.engine.dialect.name == "postgresql":
            array = bindparam("ids", value=values, type_=ARRAY(Integer))
            return lambda column: column == any_(array)
        return lambda column: column.in_(values)

    def _load(self, ids: Sequence[int], *, bodies: bool = False) -> list[Ticket]:
        """The tickets with these ids, with labels, fields and comments (bodies if asked).

        Read in chunks by primary key and ``ticket_id`` index, so a week costs a few index
        lookups and a year stays under SQLite's limit of bound parameters.
        """
        ticket_columns = [c for c in tickets.c if bodies or c.name != "body"]
        comment_columns = [c for c in comments.c if bodies or c.name != "body"]
        rows: list[Any] = []
        label_map: dict[int, list[str]] = defaultdict(list)
        field_map: dict[int, list[tuple[str, str]]] = defaultdict(list)
        comment_map: dict[int, list[Comment]] = defaultdict(list)
        with self.engine.connect() as conn:
            for begin in range(0, len(ids), LOAD_CHUNK):
                chunk = self._one_of(ids[begin : begin + LOAD_CHUNK])
                rows += conn.execute(select(*ticket_columns).where(chunk(tickets.c.id))).all()
                for tid, name in conn.execute(
                    select(labels.c.ticket_id, labels.c.name)
                    .where(chunk(labels.c.ticket_id))
                    .order_by(labels.c.ticket_id, labels.c.name)
                ):
                    label_map[tid].append(name)
                for tid, name, value in conn.execute(
                    select(form_fields.c.ticket_id, form_fields.c.name, form_fields.c.value)
                    .where(chunk(form_fields.c.ticket_id))
                    .order_by(form_fields.c.ticket_id, form_fields.c.position)
                ):
                    field_map[tid].append((name, value))
                for row in conn.execute(
                    select(*comment_columns)
                    .where(chunk(comments.c.ticket_id))
                    .order_by(comments.c.ticket_id, comments.c.created_at, comments.c.id)
                ):
                    comment_map[row.ticket_id].append(
                        Comment(
                            id=row.id,
                            author=Person(
                                login=row.author_login,
                                association=row.author_association,
                                is_bot=row.author_is_bot,
                            ),
                            created_at=row.created_at,
                            body=row.body if bodies else "",
                        )
                    )
        return [
            Ticket(
                repo=row.repo,
                number=row.number,
                title=row.title,
                body=row.body if bodies else "",
                state=row.state,
                state_reason=row.state_reason,
                author=Person(
                    login=row.author_login,
                    association=row.author_association,
                    is_bot=row.author_is_bot,
                ),
                url=row.url,
                reactions=row.reactions,
                comment_count=row.comment_count,
                created_at=row.created_at,
                updated_at=row.updated_at,
                closed_at=row.closed_at,
                labels=tuple(label_map.get(row.id, ())),
                form_fields=tuple(field_map.get(row.id, ())),
                comments=tuple(comment_map.get(row.id, ())),
            )
            for row in sorted(rows, key=lambda r: (r.repo, r.number))
        ]
