"""Real `chatbot` processes for tests, and a wait for a condition in the database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool


def chatbot(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen[str]:
    """Start `chatbot ARGS` as a user would, with ``env`` added to the environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "chatbot", *args],
        env={**os.environ, **env},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str, str]:
    """Wait for ``process``: exit status, stdout, stderr."""
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds saying ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def query(url: str, sql: str) -> object:
    """The first value of ``sql`` at ``url``, or None if the tables are not there yet."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text(sql)).scalar()
    except Exception:  # the file may be half created; ask again
        return None
    finally:
        engine.dispose()
