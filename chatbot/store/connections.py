"""Engines, write transactions and cross-process locks for SQLite and PostgreSQL.

SQLite files run in WAL mode with a long busy timeout, so readers never wait for a
writer and writers queue for each other instead of failing with "database is locked";
a bigger page cache and temporary data in memory cut what a load reads and writes.
A write transaction (:func:`writing`) starts with ``BEGIN IMMEDIATE`` on SQLite: it takes
the write lock before its first read, so a read-then-write never fails half way. Every
engine hides statement parameters, which hold ticket text, from error messages and logs.
"""

from __future__ import annotations

import fcntl
import importlib
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 32_768
"""Page cache per SQLite connection (SQLite's default is 2 MiB). A load writes into every
index at random keys; at 100k tickets their pages no longer fit 2 MiB, and each miss is a
read back from the file: 376 MB read per 10k tickets at 100k, 122 MB with this cache."""
SQLITE_CHECKPOINT_PAGES = 16_000
"""WAL pages (4 KiB each, so up to 64 MB) between automatic checkpoints. With SQLite's 1,000,
a load checkpointed at nearly every commit, writing each random index page it had touched
back into the file; in a bigger store more pages are touched, so the cost per ticket grew:
loading 100k tickets took 9.1 s and its last 10k cost 1.30-1.37x its first; with this,
7.9-8.1 s and 1.12-1.15x (``benchmarks/load.py --databases sqlite``, quiet machine)."""
_WRITE = "support_report_write"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``; SQLite files get their folder, foreign keys, WAL, busy timeout
    and page cache."""
    options.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        memory = not parsed.database or parsed.database == ":memory:"
        if not memory:
            Path(parsed.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # transactions are begun below
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
                # The undo record of each row an upsert writes (its statement journal) stays
                # in memory: in a temporary file it was 240 MB of writes per 10k tickets.
                cursor.execute("PRAGMA temp_store=MEMORY")
                # Copy the WAL back into the file every SQLITE_CHECKPOINT_PAGES, not SQLite's
                # 1,000: a load's commits rewrite the same random index pages, and each
                # checkpoint wrote them all again (see the constant).
                cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
                if not memory:
                    _use_wal(cursor, Path(parsed.database or "").expanduser())
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get(_WRITE)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **options)


def dialect_of(engine: Engine) -> Any:
    """The SQLAlchemy dialect module of ``engine`` (``sqlalchemy.dialects.sqlite`` or
    ``.postgresql``), for its ``insert(...).on_conflict_do_update``.

    Imported on first use: PostgreSQL's dialect is a twentieth of the CLI's start on SQLite.
    """
    return importlib.import_module(f"sqlalchemy.dialects.{engine.dialect.name}")


def _use_wal(cursor: Any, database: Path) -> None:
    """Put the SQLite file in WAL mode, once for good, one process at a time.

    Two processes switching a new file at once make one of them fail at once with
    "database is locked" (the switch does not wait for the busy timeout), so the switch is
    made under an ``flock`` beside the file; once made it is kept in the file, and every
    later connection only reads it.
    """
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    with database.with_name(f"{database.name}.journal-mode.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: committed at the end, rolled back on error.

    On SQLite it holds the write lock from its start (``BEGIN IMMEDIATE``), waiting up to
    the busy timeout for another writer to commit.
    """
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


def lock_key(name: str) -> int:
    """A stable signed 32-bit key for a PostgreSQL advisory lock called ``name``."""
    return zlib.crc32(name.encode()) - 2**31


def _lock_file(engine: Engine, name: str) -> Path | None:
    """The lock file of ``name`` beside a SQLite database file; None for memory."""
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    path = Path(database).expanduser()
    return path.with_name(f"{path.name}.{slug}.lock")


@contextmanager
def exclusive(
    engine: Engine,
    name: str,
    *,
    wait: bool = True,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[bool]:
    """Run the block in one process at a time, across processes and replicas.

    A session-level advisory lock on PostgreSQL; on SQLite an ``flock`` on a lock file
    beside the database file. Yields True once held; with ``wait`` False, yields False at
    once if another process holds it (the block must then skip its work). ``on_wait`` is
    called before waiting, e.g. to say so in the log.
    """
    if engine.dialect.name == "postgresql":
        key = {"key": lock_key(name)}
        with engine.connect() as conn:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar())
            conn.commit()
            if not held and not wait:
                yield False
                return
            if not held:
                if on_wait is not None:
                    on_wait()
                conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
                conn.commit()
            try:
                yield True
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                conn.commit()
        return
    path = _lock_file(engine, name)
    if path is None:
        yield True
        return
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
