"""Logs keep tracebacks but never the local variables in them (tokens, ticket text)."""

from __future__ import annotations

import logging

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
