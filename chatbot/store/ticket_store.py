"""SQLAlchemyTicketStore: the ticket store on SQLite or PostgreSQL.

Period queries run in SQL over the ``created_at``, ``closed_at`` and comment
``created_at`` indexes: answering a week reads the tickets that week touched, never the
whole history.
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from itertools import islice
from operator import attrgetter
from typing import Any, Final, TypeVar

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CompoundSelect,
    DateTime,
    Engine,
    Float,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    extract,
    func,
    or_,
    select,
    text,
    type_coerce,
    union,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from chatbot.core.facts import TEXT_COMMENTS
from chatbot.core.models import (
    TEAM_ASSOCIATIONS,
    Comment,
    Person,
    Ticket,
    trusted_comment,
    trusted_ticket,
)
from chatbot.core.ports import DEMO_META_KEY, SaveStats
from chatbot.core.report import Figures
from chatbot.core.stats import median, percentile
from chatbot.lazylog import get_logger
from chatbot.store.connections import dialect_of, exclusive, lock_key, writing
from chatbot.store.period_source import PeriodQueries, sqlite_micros
from chatbot.store.tables import comments, form_fields, labels, meta, tickets

log = get_logger(__name__)

BATCH = 2000
"""Tickets per write transaction: other writers wait for one at most (a few tenths of a
second; readers never wait). Each commit writes every index page its tickets touched, and
tickets land on random pages of the date indexes, so a bigger batch shares those pages among
more tickets: on SQLite at 100k tickets, 10k more wrote 244 MB in batches of 500, 130 MB in 2000."""
ANALYZE_AFTER = 1000
"""Once this process has saved this many new tickets, and they are a tenth of the store or
more, the store runs ``ANALYZE`` (``VACUUM (ANALYZE)`` on PostgreSQL): PostgreSQL plans from
statistics, and to it a table never analysed looks like one where any ``IN`` list matches
most rows (so it scans them all)."""
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


class SQLAlchemyTicketStore(PeriodQueries):
    """Tickets, comments, labels and form fields in a SQL database.

    Every write is an upsert (``INSERT ... ON CONFLICT``), so writers running at once
    never fail on each other's rows. Writes go in transactions of :data:`BATCH` tickets;
    when the database refuses a batch, its tickets are saved one by one and only the
    refused ones are left out (logged by reference and error class, never their text).
    It is also a ``PeriodSource``: the period's facts and counts come from
    :class:`~chatbot.store.period_source.PeriodQueries`.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._dialect: Any = dialect_of(engine)
        self._fresh = 0
        """New tickets saved by this process since the last ``ANALYZE`` (or its start)."""
        self._analyze_at = ANALYZE_AFTER

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
        self._after_saving(new)
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

    def _after_saving(self, new: int) -> None:
        """Refresh the planner's statistics once new tickets are a tenth of the store.

        Counted across calls, so a sync saving a page at a time gets there too. Geometric
        in the store's size (like PostgreSQL's autovacuum, which may not run before the next
        sync), so the analyses of a load in steps add up to linear time. SQLite's is capped
        by ``analysis_limit`` to a sample of each index.
        """
        self._fresh += new
        if self._fresh < self._analyze_at:
            return
        size = self.count_tickets()
        if self._fresh * 10 < size:
            self._analyze_at = max(ANALYZE_AFTER, size // 10)
            return
        if self._postgres:
            # VACUUM runs outside a transaction; it also marks the new pages all-visible, so
            # the counts of a report (backlog, figures) are index-only scans at once, not
            # reads of every row's page until autovacuum comes by.
            tables = "tickets, comments, ticket_labels, ticket_fields"
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f"VACUUM (ANALYZE) {tables}"))
        else:
            with writing(self.engine) as conn:
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                conn.exec_driver_sql("ANALYZE")
        log.info("store_analyzed", tickets=size, new_tickets=self._fresh)
        self._fresh, self._analyze_at = 0, max(ANALYZE_AFTER, size // 10)

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
        """Insert the batch's new tickets, then update the others, by the (repo, number) key.

        Both statements find existing rows through the unique ``(repo, number)`` index (the
        ``ON CONFLICT`` arbiter), never through a planned query, so their cost per ticket
        does not grow with the store. Only updated tickets can have labels, fields and
        comments to replace; new ones have none to delete.
        """
        if not batch:
            return SaveStats()
        rows = {t.key: _ticket_row(t, demo) for t in batch}
        inserting, params = self._insert(tickets, list(rows.values()))
        ids = {
            (repo, number): tid
            for tid, repo, number in conn.execute(
                inserting.on_conflict_do_nothing(index_elements=["repo", "number"]).returning(
                    tickets.c.id, tickets.c.repo, tickets.c.number
                ),
                params,
            )
        }
        fresh = len(ids)
        existing = [row for key, row in rows.items() if key not in ids]
        if existing:
            updating, params = self._insert(tickets, existing)
            statement = updating.on_conflict_do_update(
                index_elements=["repo", "number"],
                set_={
                    c.name: updating.excluded[c.name]
                    for c in tickets.c
                    if c.name not in ("id", "repo", "number")
                },
            ).returning(tickets.c.id, tickets.c.repo, tickets.c.number)
            updated = {(repo, number): tid for tid, repo, number in conn.execute(statement, params)}
            ids.update(updated)
            replaced = list(updated.values())
            conn.execute(delete(labels).where(self._one_of(replaced)(labels.c.ticket_id)))
            conn.execute(delete(form_fields).where(self._one_of(replaced)(form_fields.c.ticket_id)))
            if with_comments:
                conn.execute(delete(comments).where(self._one_of(replaced)(comments.c.ticket_id)))
        label_rows = [
            {"ticket_id": ids[t.key], "name": name}
            for t in batch
            for name in dict.fromkeys(t.labels)
        ]
        if label_rows:
            adding, params = self._insert(labels, label_rows)
            conn.execute(
                adding.on_conflict_do_nothing(index_elements=["ticket_id", "name"]), params
            )
        field_rows = [
            {"ticket_id": ids[t.key], "position": i, "name": name, "value": value}
            for t in batch
            for i, (name, value) in enumerate(t.form_fields)
        ]
        if field_rows:
            fields, params = self._insert(form_fields, field_rows)
            conn.execute(
                fields.on_conflict_do_update(
                    index_elements=["ticket_id", "position"],
                    set_={"name": fields.excluded.name, "value": fields.excluded.value},
                ),
                params,
            )
        saved_comments = 0
        if with_comments:
            comment_rows = {c.id: comment_row(ids[t.key], c) for t in batch for c in t.comments}
            saved_comments = self._upsert_comments(conn, list(comment_rows.values()))
        return SaveStats(new=fresh, updated=len(rows) - fresh, comments=saved_comments)

    def _insert(self, table: Table, rows: list[dict[str, Any]]) -> tuple[Any, Any]:
        """An ``INSERT`` of ``rows`` (dicts with the same keys) into ``table``, and the
        parameters to execute it with; add the ``ON CONFLICT`` clause to the statement.

        On PostgreSQL it is one statement that selects from ``unnest`` of one array per
        column: a few parameters, where a multi-row ``VALUES`` list has thousands, each
        row's text parsed again by the driver (half the cost of a load). Elsewhere it is an
        ``executemany`` of the rows, which SQLite runs in-process.
        """
        if not self._postgres:
            return self._dialect.insert(table), rows
        names = list(rows[0])
        arrays = [
            bindparam(
                f"all_{name}", value=[row[name] for row in rows], type_=ARRAY(table.c[name].type)
            )
            for name in names
        ]
        source = func.unnest(*arrays).table_valued(*names).render_derived(name="source")
        return self._dialect.insert(table).from_select(names, select(*source.c)), None

    def _upsert_comments(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        statement, params = self._insert(comments, rows)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={c.name: statement.excluded[c.name] for c in comments.c if c.name != "id"},
            ),
            params,
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
        """The row ids of the tickets with these keys that the store holds.

        One probe of the unique ``(repo, number)`` index per key. On PostgreSQL a scalar
        subquery per number says so whatever the statistics (a ``number IN (...)`` list on a
        table never analysed is planned as a scan of the whole repository).
        """
        found: dict[tuple[str, int], int] = {}
        by_repo: dict[str, list[int]] = defaultdict(list)
        for repo, number in keys:
            by_repo[repo].append(number)
        for repo, numbers in by_repo.items():
            if self._postgres:
                wanted = (
                    func.unnest(bindparam("numbers", value=numbers, type_=ARRAY(BigInteger)))
                    .table_valued("number")
                    .render_derived(name="wanted")
                )
                row_id = (
                    select(tickets.c.id)
                    .where(tickets.c.repo == repo, tickets.c.number == wanted.c.number)
                    .scalar_subquery()
                )
                rows = conn.execute(select(row_id, wanted.c.number))
            else:
                rows = conn.execute(
                    select(tickets.c.id, tickets.c.number).where(
                        tickets.c.repo == repo, tickets.c.number.in_(numbers)
                    )
                )
            found.update({(repo, number): tid for tid, number in rows if tid is not None})
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
        return self._load(touched)

    def ticket_texts(
        self, keys: Sequence[tuple[str, int]], max_chars: int
    ) -> dict[tuple[str, int], str]:
        """Body and the first :data:`TEXT_COMMENTS` human comments of each ticket of ``keys``.

        Each part is cut to ``max_chars`` in SQL (``substr``), so a ticket with a huge body or
        thread costs no more to read than a short one. Two queries, each with its keys or
        ids bound as one parameter (:meth:`_key_table`, :meth:`_id_table`), over the
        ``(repo, number)`` key and the ``ticket_id`` index. Unknown keys are absent.
        """
        wanted = self._key_table(list(dict.fromkeys(keys)))
        cut_body = func.substr(tickets.c.body, 1, max_chars)
        found = select(tickets.c.id, tickets.c.repo, tickets.c.number, cut_body).join_from(
            tickets,
            wanted,
            and_(tickets.c.repo == wanted.c.repo, tickets.c.number == wanted.c.number),
        )
        parts: dict[int, list[str]] = {}
        owner: dict[int, tuple[str, int]] = {}
        with self.engine.connect() as conn:
            for tid, repo, number, body in conn.execute(found):
                owner[tid] = (repo, number)
                parts[tid] = [body or ""]
            if not parts:
                return {}
            chosen = self._id_table(list(parts))
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
                .join_from(comments, chosen, comments.c.ticket_id == chosen.c.id)
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

    def period_figures(
        self, start: datetime, end: datetime, *, until: datetime | None = None
    ) -> Figures:
        """The summary figures of ``[start, end)`` (cut at ``until``) from aggregate queries.

        The same figures as ``compute_figures`` over :meth:`tickets_touched`, without loading
        a ticket: the counts and the backlog are one statement of counts over the
        ``created_at`` and ``closed_at`` indexes; each ticket's first response is a ``MIN``
        over its team comments (joined on the ``ticket_id`` index). PostgreSQL takes the
        medians (``percentile_cont``) and the nearest-rank p90s (``percentile_disc``) itself;
        SQLite, which has neither, returns one column of whole microseconds per duration and
        they are taken here with the same functions as the analysis (``core.stats``).
        """
        cutoff = end if until is None else min(until, end)
        created, closed = tickets.c.created_at, tickets.c.closed_at
        new = (created >= start, created < cutoff)
        done = (closed >= start, closed < cutoff)

        def counted(*where: ColumnElement[bool]) -> Any:
            return select(func.count()).select_from(tickets).where(*where).scalar_subquery()

        counts = select(
            counted(*new),
            counted(*new, or_(closed.is_(None), closed >= cutoff)),
            counted(*done),
            counted(created < cutoff) - counted(closed < cutoff),
        )
        team = [
            comments.c.author_association.in_(sorted(TEAM_ASSOCIATIONS)),
            comments.c.author_is_bot.is_(False),
            comments.c.author_login != tickets.c.author_login,
        ]
        if until is not None:  # a reply after the cut-off was not there yet
            team.append(comments.c.created_at < cutoff)
        answers = (
            select(created.label("opened"), func.min(comments.c.created_at).label("answered"))
            .join_from(tickets, comments, comments.c.ticket_id == tickets.c.id)
            .where(*new, *team)
            .group_by(tickets.c.id, created)
            .subquery("answers")
        )
        spans = [
            (answers, answers.c.answered, answers.c.opened, ()),
            (tickets, closed, created, done),
        ]
        with self.engine.connect() as conn:
            received, still_open, resolved, backlog = conn.execute(counts).one()
            hours = [
                self._hours_stats(conn, source, later, earlier, where)
                for source, later, earlier, where in spans
            ]
        (answered, median_response, p90_response), (_, median_resolution, p90_resolution) = hours
        return Figures(
            received=int(received),
            resolved=int(resolved),
            still_open=int(still_open),
            backlog=int(backlog),
            answered=answered,
            median_first_response_hours=median_response,
            median_resolution_hours=median_resolution,
            p90_first_response_hours=p90_response,
            p90_resolution_hours=p90_resolution,
        )

    def _hours_stats(
        self,
        conn: Connection,
        source: Any,
        later: Any,
        earlier: Any,
        where: Sequence[ColumnElement[bool]],
    ) -> tuple[int, float | None, float | None]:
        """How many rows of ``source`` match ``where``, and the median and nearest-rank p90
        of the hours from ``earlier`` to ``later`` over them.

        Each duration is exact to the microsecond and becomes hours the way the analysis
        makes them (seconds as a float, over 3600), so a p90 (always one of the durations)
        is the very float ``compute_figures`` gives; a median of two may differ in its last
        bit on PostgreSQL, which interpolates as ``a + (b - a) / 2``.
        """
        if self._postgres:
            seconds = extract("epoch", later) - extract("epoch", earlier)
            hours = (cast(seconds, Float) / 3600).label("hours")
            durations = select(hours).select_from(source).where(*where).subquery("durations")
            count, middle, p90 = conn.execute(
                select(
                    func.count(),
                    func.percentile_cont(0.5).within_group(durations.c.hours),
                    func.percentile_disc(0.9).within_group(durations.c.hours),
                )
            ).one()
            return (
                int(count),
                None if middle is None else float(middle),
                None if p90 is None else float(p90),
            )
        micros = sqlite_micros(later) - sqlite_micros(earlier)
        values = [
            us / 1_000_000 / 3600
            for us in conn.execute(select(micros).select_from(source).where(*where))
            .scalars()
            .all()
        ]
        return len(values), median(values), percentile(values)

    def find_tickets(self, number: int, repo: str | None = None) -> list[Ticket]:
        """Tickets with that number, in ``repo`` if given."""
        chosen = select(tickets.c.id).where(tickets.c.number == number)
        if repo:
            chosen = chosen.where(func.lower(tickets.c.repo) == repo.lower())
        return self._load(chosen, bodies=True)

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
        if self._postgres:
            array = bindparam("ids", value=values, type_=ARRAY(BigInteger()))
            return lambda column: column == any_(array)
        return lambda column: column.in_(values)

    def _load(
        self, chosen: Select[Any] | CompoundSelect[Any], *, bodies: bool = False
    ) -> list[Ticket]:
        """The tickets whose ids ``chosen`` selects, with labels, fields and comments
        (bodies if asked), sorted by repository and number.

        ``chosen`` runs once; its ids go back as one parameter, joined to each table on the
        primary key or the ``ticket_id`` index (:meth:`_id_table`), all in one read
        transaction (one snapshot). Times are read as the driver returns them and made
        aware once per column; rows become tickets without the constructor's checks (they
        were checked when saved); authors are shared; the cyclic garbage collector, which
        the many new objects would set off again and again to find nothing, waits until the
        tickets are built.
        """
        times = self._raw_times
        ticket_columns = [  # the order _build reads them in
            tickets.c.id,
            tickets.c.repo,
            tickets.c.number,
            tickets.c.title,
            tickets.c.state,
            tickets.c.state_reason,
            tickets.c.author_login,
            tickets.c.author_association,
            tickets.c.author_is_bot,
            tickets.c.url,
            tickets.c.reactions,
            tickets.c.comment_count,
            times(tickets.c.created_at),
            times(tickets.c.updated_at),
            times(tickets.c.closed_at),
            *([tickets.c.body] if bodies else []),
        ]
        comment_columns = [  # the order _build reads them in
            comments.c.ticket_id,
            comments.c.id,
            comments.c.author_login,
            comments.c.author_association,
            comments.c.author_is_bot,
            times(comments.c.created_at),
            *([comments.c.body] if bodies else []),
        ]
        with self.engine.connect() as conn, _collector_paused():
            ids = conn.execute(chosen).scalars().all()
            if not ids:
                return []
            touched = self._id_table(ids)
            key = touched.c.id
            ticket_rows = conn.execute(
                select(*ticket_columns).join_from(tickets, touched, tickets.c.id == key)
            ).all()
            label_map: dict[int, list[str]] = defaultdict(list)
            for tid, name in conn.execute(
                select(labels.c.ticket_id, labels.c.name)
                .join_from(labels, touched, labels.c.ticket_id == key)
                .order_by(labels.c.ticket_id, labels.c.name)
            ):
                label_map[tid].append(name)
            field_map: dict[int, list[tuple[str, str]]] = defaultdict(list)
            for tid, name, value in conn.execute(
                select(form_fields.c.ticket_id, form_fields.c.name, form_fields.c.value)
                .join_from(form_fields, touched, form_fields.c.ticket_id == key)
                .order_by(form_fields.c.ticket_id, form_fields.c.position)
            ):
                field_map[tid].append((name, value))
            comment_rows = conn.execute(
                select(*comment_columns)
                .join_from(comments, touched, comments.c.ticket_id == key)
                .order_by(comments.c.ticket_id, comments.c.created_at, comments.c.id)
            ).all()
            return self._build(ticket_rows, comment_rows, label_map, field_map, bodies=bodies)

    def _build(
        self,
        ticket_rows: Sequence[Any],
        comment_rows: Sequence[Any],
        label_map: dict[int, list[str]],
        field_map: dict[int, list[tuple[str, str]]],
        *,
        bodies: bool,
    ) -> list[Ticket]:
        """Tickets from the rows :meth:`_load` read (columns in the order it selects them)."""
        people: dict[tuple[str, str, bool], Person] = {}

        def person(login: str, association: str, is_bot: bool) -> Person:
            found = people.get((login, association, is_bot))
            if found is None:
                found = Person(login=login, association=association, is_bot=is_bot)
                people[(login, association, is_bot)] = found
            return found

        aware = self._aware
        comment_map: dict[int, list[Comment]] = defaultdict(list)
        if comment_rows:
            columns = list(zip(*comment_rows, strict=True))
            created = aware(columns[5])
            bodies_of = columns[6] if bodies else [""] * len(created)
            for (tid, cid, login, association, is_bot, *_), at, body in zip(
                comment_rows, created, bodies_of, strict=True
            ):
                comment_map[tid].append(
                    trusted_comment(cid, person(login, association, bool(is_bot)), at, body)
                )
        if not ticket_rows:
            return []
        columns = list(zip(*ticket_rows, strict=True))
        created, updated, closed = (aware(columns[i]) for i in (12, 13, 14))
        bodies_of = columns[15] if bodies else [""] * len(created)
        found: list[Ticket] = []
        for row, created_at, updated_at, closed_at, body in zip(
            ticket_rows, created, updated, closed, bodies_of, strict=True
        ):
            tid, repo, number, title, state, reason, login, association, is_bot = row[:9]
            url, reactions, count = row[9:12]
            found.append(
                trusted_ticket(
                    # in Ticket's field order
                    repo,
                    number,
                    title,
                    state,
                    person(login, association, bool(is_bot)),
                    created_at,
                    updated_at,
                    closed_at,
                    reason,
                    body,
                    url,
                    tuple(label_map.get(tid, ())),
                    tuple(field_map.get(tid, ())),
                    reactions,
                    count,
                    tuple(comment_map.get(tid, ())),
                )
            )
        found.sort(key=_TICKET_ORDER)
        return found

    def _id_table(self, ids: Sequence[int]) -> Any:
        """``ids`` as a table with one column, ``id``, bound as a single parameter.

        PostgreSQL unnests an array; SQLite reads a JSON array with ``json_each``. Either
        way a year's tens of thousands of ids cost one parameter, not chunks of ``IN``
        lists, and each row is then found by an index lookup.
        """
        if self._postgres:
            array = bindparam("touched_ids", value=list(ids), type_=ARRAY(BigInteger()))
            return func.unnest(array).table_valued("id").render_derived(name="touched")
        values = bindparam("touched_ids", value=json.dumps(list(ids)), type_=String())
        table = func.json_each(values).table_valued("value").alias("touched")
        return select(table.c.value.label("id")).subquery("touched_ids")

    def _key_table(self, keys: Sequence[tuple[str, int]]) -> Any:
        """``keys`` as a table of ``repo`` and ``number``, bound as one parameter or two.

        As :meth:`_id_table`: PostgreSQL unnests two arrays, SQLite reads a JSON array of
        ``[repo, number]`` pairs; either way no list of thousands of parameters.
        """
        if self._postgres:
            repos = bindparam("wanted_repos", value=[r for r, _ in keys], type_=ARRAY(String()))
            numbers = bindparam(
                "wanted_numbers", value=[n for _, n in keys], type_=ARRAY(BigInteger())
            )
            return (
                func.unnest(repos, numbers)
                .table_valued("repo", "number")
                .render_derived(name="wanted")
            )
        pairs = bindparam("wanted_keys", value=json.dumps([list(k) for k in keys]), type_=String())
        table = func.json_each(pairs).table_valued("value").alias("pairs")
        return select(
            func.json_extract(table.c.value, "$[0]").label("repo"),
            func.json_extract(table.c.value, "$[1]").label("number"),
        ).subquery("wanted")

    def _raw_times(self, column: Any) -> ColumnElement[Any]:
        """``column`` as the driver returns it: SQLite's text, PostgreSQL's aware datetime
        (no per-value decorator; :meth:`_aware` converts the whole column at once)."""
        raw = DateTime(timezone=True) if self._postgres else String()
        return type_coerce(column, raw).label(column.name)

    def _aware(self, values: Sequence[Any]) -> list[datetime | None]:
        """A column of :meth:`_raw_times` values as aware UTC datetimes (None stays None)."""
        if self._postgres:
            return [None if v is None else v.astimezone(UTC) for v in values]
        parse = datetime.fromisoformat
        return [None if v is None else parse(v + "+00:00") for v in values]


_TICKET_ORDER = attrgetter("repo", "number")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block, if it was running.

    Building tens of thousands of tickets, comments and tuples triggers it every few
    hundred allocations to walk all of them and free nothing (they hold no cycles).
    Nested or concurrent pauses are safe: only the one that paused it starts it again.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()

