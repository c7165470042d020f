"""Structured logs with structlog: JSON when not on a terminal, readable on one.

Library loggers (SQLAlchemy, slack_bolt, discord) go through the same processors. No issue
bodies and no secrets are ever logged.

Configuring imports no structlog (nor rich, which its console renderer loads): the standard
library's handler builds its formatter on the first record, and structlog's own set-up waits
in :mod:`chatbot.lazylog` for the first event, so a command that logs nothing never pays for
them (issue 13).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from chatbot import lazylog

if TYPE_CHECKING:
    from structlog.typing import Processor


def configure_logging(level: str = "info", fmt: str = "auto") -> None:
    """Set up structlog and the standard library's logging once, at start-up."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_FirstRecordFormatter(use_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # apscheduler's executor and scheduler write two INFO lines per tick ("Running job",
    # "executed successfully"); the delivery runner logs what it posts instead.
    for noisy in ("alembic", "sqlalchemy.engine", "httpx", "urllib3", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    lazylog.configure_on_load(_configure_structlog)


class _FirstRecordFormatter(logging.Formatter):
    """Formats with structlog's ``ProcessorFormatter``, built when the first record comes."""

    def __init__(self, use_json: bool) -> None:
        super().__init__()
        self._use_json = use_json
        self._formatter: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        if self._formatter is None:
            lazylog.load()
            self._formatter = _processor_formatter(self._use_json)
        return self._formatter.format(record)


def _shared() -> list[Processor]:
    import structlog

    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _configure_structlog() -> None:
    import structlog

    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # not cached: a module's logger used before this call (or before a later one) must
        # still take the processors configured now, never stale ones
        cache_logger_on_first_use=False,
    )


def _processor_formatter(use_json: bool) -> logging.Formatter:
    import structlog

    renderers: list[Processor] = (
        [
            # tracebacks as data, never with local variables (tokens, ticket text)
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            structlog.processors.JSONRenderer(),
        ]
        if use_json
        else [
            structlog.dev.ConsoleRenderer(
                exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False)
            )
        ]
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
    )
