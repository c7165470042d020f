"""StoreProbe: can a new connection reach the store and read it, within a short timeout?

``/healthz`` asks it. Each probe opens a connection of its own (not one from the pool, which
may hold a connection to a SQLite file since deleted, or hide a database that no longer
accepts new ones) and runs one trivial query: ``SELECT 1`` on PostgreSQL, a read of the schema
on SQLite (whose ``SELECT 1`` never touches the file). A SQLite file is opened read-write
without being created, so a missing file is unhealthy rather than a new empty store. One probe
runs at a time; while one hangs, the others answer "unreachable" at once.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from chatbot.lazylog import get_logger

log = get_logger(__name__)

DEFAULT_TIMEOUT = 2.0


class StoreProbe:
    """Checks that the store behind ``engine`` answers, in a thread, within ``timeout`` s."""

    def __init__(self, engine: Engine, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        url = engine.url
        options: dict[str, Any] = {"poolclass": NullPool}
        self._query = "SELECT 1"
        if url.get_backend_name() == "sqlite":
            self._query = "SELECT count(*) FROM sqlite_master"
            database = url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                uri = Path(database).expanduser().absolute().as_uri() + "?mode=rw"
                options["creator"] = lambda: sqlite3.connect(
                    uri, uri=True, timeout=timeout, check_same_thread=False
                )
        elif url.get_backend_name() == "postgresql":
            options["connect_args"] = {"connect_timeout": max(2, math.ceil(timeout))}
        self._engine = create_engine(url, **options)
        self._busy = threading.Lock()
        self._healthy: bool | None = None

    def reachable(self) -> bool:
        """Open a connection and run the query; False on any failure (blocking)."""
        if not self._busy.acquire(blocking=False):
            return False
        try:
            with self._engine.connect() as conn:
                conn.execute(text(self._query))
        except Exception as exc:
            self._changed(False, type(exc).__name__)
            return False
        finally:
            self._busy.release()
        self._changed(True, None)
        return True

    async def check(self) -> bool:
        """:meth:`reachable` off the loop, ``False`` if it takes longer than ``timeout``."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.reachable), self.timeout)
        except TimeoutError:
            self._changed(False, "TimeoutError")
            return False

    def dispose(self) -> None:
        """Close what the probe holds (nothing stays open between probes)."""
        self._engine.dispose()

    def _changed(self, healthy: bool, error: str | None) -> None:
        # One line when the store comes or goes, not one per probe: the class of the error
        # only, never its text (which may name the host, database or user).
        if not healthy and self._healthy is not False:
            log.warning("store_unreachable", error=error)
        elif healthy and self._healthy is False:
            log.info("store_reachable")
        self._healthy = healthy
