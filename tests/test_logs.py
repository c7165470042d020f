"""Logs keep tracebacks but never the local variables in them (tokens, ticket text)."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys

import pytest
import structlog

from chatbot.logs import configure_logging


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_traceback_without_locals(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An exception is logged with its type and place, never with the values of locals."""
    configure_logging("info", fmt)
    token = "-".join(["xoxb", "built", "at", "run", "time"])  # not in the source text
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        structlog.get_logger("test").exception("job_failed", job="sync")
    err = capsys.readouterr().err
    assert "RuntimeError" in err
    assert "job_failed" in err
    assert token not in err
    logging.getLogger().handlers.clear()
    structlog.reset_defaults()


FRESH = """
import logging, sys
from chatbot.lazylog import get_logger
from chatbot.logs import configure_logging

log = get_logger("job").bind(job="sync")
configure_logging("info", sys.argv[1])
print("structlog" in sys.modules, "rich" in sys.modules, flush=True)
logging.getLogger("sqlalchemy.pool").warning("pool_warned")
token = "-".join(["xoxb", "built", "at", "run", "time"])
try:
    raise RuntimeError("boom")
except RuntimeError:
    log.exception("job_failed")
"""


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_configuring_loads_structlog_only_for_the_first_event(fmt: str) -> None:
    """In a fresh interpreter, configuring imports neither structlog nor rich; the first
    event, through a logger made before the configuration, still gets its renderer (no
    locals) and its bound values, and a library's record goes through the same handler."""
    done = subprocess.run(
        [sys.executable, "-c", FRESH, fmt], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "False False\n"
    err = done.stderr
    assert "RuntimeError" in err
    assert "xoxb-built" not in err
    if fmt == "json":
        library, event = (json.loads(line) for line in err.splitlines()[:2])
        assert library["event"] == "pool_warned"
        assert library["level"] == "warning"
        assert (event["event"], event["job"], event["level"]) == ("job_failed", "sync", "error")
        assert event["exception"][0]["exc_type"] == "RuntimeError"
    else:
        assert "pool_warned" in err
        assert "job_failed" in err
        assert "job=sync" in re.sub(r"\x1b\[[0-9;]*m", "", err)  # without its colours
