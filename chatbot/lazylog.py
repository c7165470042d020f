"""Loggers that import structlog on their first call, not when their module is imported.

``import structlog`` loads its console renderer and with it rich and pygments: 65-97 ms of a
``chatbot report`` that logs nothing (issue 13). Modules take ``log = get_logger(__name__)``
from here instead, and ``chatbot.logs`` hands its structlog set-up to
:func:`configure_on_load`, so that set-up is applied before the first event and costs
nothing when there is none.

This module imports nothing of the product, so the model adapter (which may not import
``chatbot.logs``) can log through it too.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

_lock = threading.RLock()  # a set-up that logs reaches load() again
_pending: Callable[[], None] | None = None


def configure_on_load(setup: Callable[[], None]) -> None:
    """Run ``setup`` (which configures structlog) now if structlog is already imported, else
    just before the first logger call imports it; a later call replaces a pending set-up."""
    global _pending
    loaded = "structlog" in sys.modules
    with _lock:
        _pending = None if loaded else setup
    if loaded:
        setup()


def load() -> None:
    """Import structlog and apply the pending set-up, if any; what a first log call does."""
    global _pending
    import structlog  # noqa: F401  -- the point: imported here, on first use

    with _lock:
        setup, _pending = _pending, None
        if setup is not None:
            setup()


class LazyLogger:
    """Stands for ``structlog.get_logger(name, **context)`` until a method is called.

    The real logger is structlog's own lazy proxy, which reads the configuration on every
    call (``cache_logger_on_first_use=False`` in ``chatbot.logs``), so a later
    ``configure_logging`` or a test's ``capture_logs`` still applies to it.
    """

    __slots__ = ("_context", "_logger", "_name")

    def __init__(self, name: str, context: dict[str, Any] | None = None) -> None:
        self._name = name
        self._context = context or {}
        self._logger: Any = None

    def _real(self) -> Any:
        if self._logger is None:
            load()
            import structlog

            self._logger = structlog.get_logger(self._name, **self._context)
        return self._logger

    def bind(self, **values: Any) -> LazyLogger:
        """A logger with ``values`` added to every event; still imports nothing."""
        return LazyLogger(self._name, {**self._context, **values})

    def debug(self, event: str, *args: Any, **kw: Any) -> None:
        self._real().debug(event, *args, **kw)

    def info(self, event: str, *args: Any, **kw: Any) -> None:
        self._real().info(event, *args, **kw)

    def warning(self, event: str, *args: Any, **kw: Any) -> None:
        self._real().warning(event, *args, **kw)

    def error(self, event: str, *args: Any, **kw: Any) -> None:
        self._real().error(event, *args, **kw)

    def exception(self, event: str, *args: Any, **kw: Any) -> None:
        """Log at error level with the exception being handled (its traceback, no locals)."""
        self._real().exception(event, *args, **kw)


def get_logger(name: str) -> LazyLogger:
    """A logger for ``name`` (a module's ``__name__``) that loads structlog when first used."""
    return LazyLogger(name)
