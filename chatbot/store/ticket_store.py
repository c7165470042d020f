"""SQLAlchemyTicketStore: the ticket store on SQLite or PostgreSQL.

Period queries run in SQL over the ``created_at``, ``closed_at`` and comment
``created_at`` indexes: answering a week reads the tickets that week touched, never the
whole history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from itertools import islice
from typing import Any, Final, TypeVar

import structlog
from sqlalchemy import (
    BigInteger,
    Engine,
    any_,
    bindparam,
    delete,
    func,
    select,
    union,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from chatbot.core.models import Comment, Person, Ticket
from chatbot.core.ports import DEMO_META_KEY, SaveStats
from chatbot.store.connections import exclusive, lock_key, writing
from chatbot.store.tables import comments, form_fields, labels, meta, tickets

log = structlog.get_logger(__name__)

BATCH = 500
"""Tickets per write transaction: readers and other writers never wait long."""
LOAD_CHUNK = 5000
TEXT_COMMENTS = 8
"""Comments per ticket read for the themes: the thread's start says what it is about."""
DEMO_LOCK = "support-report:demo-write"
ANY_MARK: Final = object()
"""``replace_demo(expect=ANY_MARK)``: load whatever the demo mark says."""

T = TypeVar("T")


def _batches(items: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _refused(exc: BaseException) -> bool:
    """True for errors a single bad row causes; False for a lost or locked database."""
    if isinstance(exc, OperationalError):
        return False
    return isinstance(exc, SQLAlchemyError | ValueError | OverflowError)


def _ticket_row(ticket: Ticket, demo: bool) -> dict[str, Any]:
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
        "demo": demo,
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
    """Tickets, comments, labels and form fields in a SQL database.

    Every write is an upsert (``INSERT ... ON CONFLICT``), so writers running at once
    never fail on each other's rows. Writes go in transactions of :data:`BATCH` tickets;
    when the database refuses a batch, its tickets are saved one by one and only the
    refused ones are left out (logged by reference and error class, never their text).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._dialect: Any = postgresql if self._postgres else sqlite

    # -- locking ---------------------------------------------------------------------

    def exclusive(
        self, name: str, *, wait: bool = True, on_wait: Callable[[], None] | None = None
    ) -> AbstractContextManager[bool]:
        """A lock held by one process at a time (see :func:`connections.exclusive`)."""
        return exclusive(self.engine, name, wait=wait, on_wait=on_wait)

    # -- writing ---------------------------------------------------------------------

    def save_tickets(
        self, items: Iterable[Ticket], *, with_comments: bool = True, demo: bool = False
    ) -> SaveStats:
        """Insert or replace tickets; their labels and fields always, comments if asked.

        Real tickets (``demo`` False) take the store out of the demo in the same
        transaction as the first of them: the demo mark is emptied and the demo rows
        deleted, so a store never holds both and never loses a real ticket to the demo.
        """
        new = updated = saved_comments = 0
        rejected: list[tuple[str, int, str]] = []
        for batch in _batches(items):
            unique = list({t.key: t for t in batch}.values())
            for stats in self._in_batch(
                unique,
                lambda part: self._write_tickets(part, with_comments=with_comments, demo=demo),
                lambda t: (t.repo, t.number),
                rejected,
            ):
                new, updated = new + stats.new, updated + stats.updated
                saved_comments += stats.comments
        return SaveStats(
            new=new, updated=updated, comments=saved_comments, rejected=tuple(rejected)
        )

    def _in_batch(
        self,
        items: list[T],
        save: Callable[[list[T]], SaveStats],
        key: Callable[[T], tuple[str, int]],
        rejected: list[tuple[str, int, str]],
    ) -> Iterator[SaveStats]:
        """Save ``items`` in one transaction, or one by one if the database refuses it."""
        try:
            whole = save(items)
        except Exception as exc:
            if not _refused(exc):
                raise
            if len(items) == 1:
                self._reject(key(items[0]), exc, rejected)
                return
        else:
            yield whole
            return
        for item in items:
            try:
                one = save([item])
            except Exception as exc:
                if not _refused(exc):
                    raise
                self._reject(key(item), exc, rejected)
            else:
                yield one

    @staticmethod
    def _reject(
        key: tuple[str, int], exc: BaseException, rejected: list[tuple[str, int, str]]
    ) -> None:
        repo, number = key
        error = type(exc).__name__
        log.warning("ticket_not_saved", ticket=f"{repo}#{number}", error=error)
        rejected.append((repo, number, error))

    def _write_tickets(
        self, batch: Sequence[Ticket], *, with_comments: bool, demo: bool
    ) -> SaveStats:
        with writing(self.engine) as conn:
            if not demo:
                self._leave_demo(conn)
            return self._upsert_tickets(conn, batch, with_comments=with_comments, demo=demo)

    def _upsert_tickets(
        self, conn: Connection, batch: Sequence[Ticket], *, with_comments: bool, demo: bool
    ) -> SaveStats:
        if not batch:
            return SaveStats()
        before = self._ids(conn, [t.key for t in batch])
        statement = self._dialect.insert(tickets)
        statement = statement.on_conflict_do_update(
            index_elements=["repo", "number"],
            set_={
                c.name: statement.excluded[c.name]
                for c in tickets.c
                if c.name not in ("id", "repo", "number")
            },
        ).returning(tickets.c.id, tickets.c.repo, tickets.c.number)
        ids = {
            (repo, number): tid
            for tid, repo, number in conn.execute(statement, [_ticket_row(t, demo) for t in batch])
        }
        touched = list(ids.values())
        conn.execute(delete(labels).where(labels.c.ticket_id.in_(touched)))
        conn.execute(delete(form_fields).where(form_fields.c.ticket_id.in_(touched)))
        label_rows = [
            {"ticket_id": ids[t.key], "name": name}
            for t in batch
            for name in dict.fromkeys(t.labels)
        ]
        if label_rows:
            conn.execute(
                self._dialect.insert(labels).on_conflict_do_nothing(
                    index_elements=["ticket_id", "name"]
                ),
                label_rows,
            )
        field_rows = [
            {"ticket_id": ids[t.key], "position": i, "name": name, "value": value}
            for t in batch
            for i, (name, value) in enumerate(t.form_fields)
        ]
        if field_rows:
            fields = self._dialect.insert(form_fields)
            conn.execute(
                fields.on_conflict_do_update(
                    index_elements=["ticket_id", "position"],
                    set_={"name": fields.excluded.name, "value": fields.excluded.value},
                ),
                field_rows,
            )
        saved_comments = 0
        if with_comments:
            conn.execute(delete(comments).where(comments.c.ticket_id.in_(touched)))
            rows = {c.id: comment_row(ids[t.key], c) for t in batch for c in t.comments}
            saved_comments = self._upsert_comments(conn, list(rows.values()))
        fresh = sum(1 for t in batch if t.key not in before)
        return SaveStats(new=fresh, updated=len(batch) - fresh, comments=saved_comments)

    def _upsert_comments(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        statement = self._dialect.insert(comments)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={c.name: statement.excluded[c.name] for c in comments.c if c.name != "id"},
            ),
            rows,
        )
        return len(rows)

    def save_comments(self, repo: str, items: Iterable[tuple[int, Comment]]) -> int:
        """Insert or replace comments given as (issue number, comment) of ``repo``.

        Comments of issues the store does not hold (pull requests, issues not synced yet)
        are skipped; returns how many were saved.
        """
        saved = 0
        rejected: list[tuple[str, int, str]] = []
        for batch in _batches(items):
            for stats in self._in_batch(
                batch,
                lambda part: self._write_comments(repo, part),
                lambda pair: (repo, pair[0]),
                rejected,
            ):
                saved += stats.comments
        return saved

    def _write_comments(self, repo: str, pairs: list[tuple[int, Comment]]) -> SaveStats:
        with writing(self.engine) as conn:
            self._leave_demo(conn)
            ids = self._ids(conn, [(repo, number) for number, _ in pairs])
            rows = {
                c.id: comment_row(ids[(repo, number)], c)
                for number, c in pairs
                if (repo, number) in ids
            }
            return SaveStats(comments=self._upsert_comments(conn, list(rows.values())))

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

    # -- the demo --------------------------------------------------------------------

    def _demo_lock(self, conn: Connection, *, shared: bool) -> None:
        """On PostgreSQL, writers of real tickets share this lock and the demo load takes
        it alone, so the two never interleave (SQLite's BEGIN IMMEDIATE does that)."""
        if self._postgres:
            lock = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
            conn.execute(select(lock(lock_key(DEMO_LOCK))))

    def _leave_demo(self, conn: Connection) -> None:
        """Mark the store as holding real tickets, and drop the demo rows if any."""
        self._demo_lock(conn, shared=True)
        mark = conn.execute(select(meta.c.value).where(meta.c.key == DEMO_META_KEY)).scalar()
        if mark == "":
            return
        self._delete_demo_rows(conn)
        self._set_meta(conn, DEMO_META_KEY, "")
        if mark:
            log.info("demo_cleared", reason="real tickets arrived")

    def _delete_demo_rows(self, conn: Connection) -> None:
        demo_ids = select(tickets.c.id).where(tickets.c.demo.is_(True))
        for table in (comments, labels, form_fields):
            conn.execute(delete(table).where(table.c.ticket_id.in_(demo_ids)))
        conn.execute(delete(tickets).where(tickets.c.demo.is_(True)))

    def replace_demo(
        self, items: Sequence[Ticket], loaded_at: str, *, expect: object = ANY_MARK
    ) -> bool:
        """Replace the demo tickets with ``items`` in one transaction; True if it did.

        Refused (False) when the store holds any real ticket, or when ``expect`` is given
        and the demo mark is no longer that value (another process got there first).
        Only demo rows are ever deleted.
        """
        with writing(self.engine) as conn:
            self._demo_lock(conn, shared=False)
            mark = conn.execute(select(meta.c.value).where(meta.c.key == DEMO_META_KEY)).scalar()
            if expect is not ANY_MARK and mark != expect:
                return False
            real = conn.execute(select(tickets.c.id).where(tickets.c.demo.is_(False)).limit(1))
            if real.first() is not None:
                return False
            self._delete_demo_rows(conn)
            self._upsert_tickets(conn, items, with_comments=True, demo=True)
            self._set_meta(conn, DEMO_META_KEY, loaded_at)
        return True

    def clear(self, repos: Sequence[str] | None = None) -> None:
        """Delete every ticket, or those of ``repos``, with their comments."""
        with writing(self.engine) as conn:
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

    def ticket_texts(
        self, keys: Sequence[tuple[str, int]], max_chars: int
    ) -> dict[tuple[str, int], str]:
        """Body and the first :data:`TEXT_COMMENTS` human comments of each ticket of ``keys``.

        Each part is cut to ``max_chars`` in SQL (``substr``), so a ticket with a huge body or
        thread costs no more to read than a short one: two queries per chunk of keys, over
        the ``(repo, number)`` key and the ``ticket_id`` index. Unknown keys are absent.
        """
        by_repo: dict[str, list[int]] = defaultdict(list)
        for repo, number in dict.fromkeys(keys):
            by_repo[repo].append(number)
        parts: dict[int, list[str]] = {}
        owner: dict[int, tuple[str, int]] = {}
        with self.engine.connect() as conn:
            for repo, numbers in sorted(by_repo.items()):
                for begin in range(0, len(numbers), LOAD_CHUNK):
                    chunk = numbers[begin : begin + LOAD_CHUNK]
                    found = conn.execute(
                        select(
                            tickets.c.id,
                            tickets.c.number,
                            func.substr(tickets.c.body, 1, max_chars),
                        ).where(tickets.c.repo == repo, self._one_of(chunk)(tickets.c.number))
                    ).all()
                    ids = [tid for tid, _, _ in found]
                    for tid, number, body in found:
                        owner[tid] = (repo, number)
                        parts[tid] = [body or ""]
                    if not ids:
                        continue
                    position = (
                        func.row_number()
                        .over(
                            partition_by=comments.c.ticket_id,
                            order_by=(comments.c.created_at, comments.c.id),
                        )
                        .label("position")
                    )
                    human = (
                        select(
                            comments.c.ticket_id,
                            func.substr(comments.c.body, 1, max_chars).label("body"),
                            position,
                        )
                        .where(self._one_of(ids)(comments.c.ticket_id))
                        .where(comments.c.author_is_bot.is_(False))
                        .subquery()
                    )
                    for tid, body in conn.execute(
                        select(human.c.ticket_id, human.c.body)
                        .where(human.c.position <= TEXT_COMMENTS)
                        .order_by(human.c.ticket_id, human.c.position)
                    ):
                        if body:
                            parts[tid].append(body)
        return {owner[tid]: "\n\n".join(texts) for tid, texts in parts.items()}

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
        with writing(self.engine) as conn:
            self._set_meta(conn, key, value)

    def _set_meta(self, conn: Connection, key: str, value: str) -> None:
        statement = self._dialect.insert(meta).values(key=key, value=value)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["key"], set_={"value": statement.excluded.value}
            )
        )

    def _one_of(self, ids: Sequence[int]) -> Callable[[Any], Any]:
        """A condition builder: ``column = ANY(:ids)`` (one array parameter) on PostgreSQL,
        ``column IN (...)`` elsewhere; thousands of separate parameters cost more to send
        than the query takes to run."""
        values = list(ids)
        if self.engine.dialect.name == "postgresql":
            array = bindparam("ids", value=values, type_=ARRAY(BigInteger))
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
