"""Structured logs with structlog: JSON when not on a terminal, readable on one.

Library loggers (SQLAlchemy, slack_bolt, discord) go through the same processors. No issue
bodies and no secrets are ever logged.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "info", fmt: str = "auto") -> None:
    """Set up structlog and the standard library's logging once, at start-up."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderers: list[structlog.typing.Processor] = (
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
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # not cached: a module's logger used before this call (or before a later one) must
        # still take the processors configured now, never stale ones
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # apscheduler's executor and scheduler write two INFO lines per tick ("Running job",
    # "executed successfully"); the delivery runner logs what it posts instead.
    for noisy in ("alembic", "sqlalchemy.engine", "httpx", "urllib3", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
