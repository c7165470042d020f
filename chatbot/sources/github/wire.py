"""The GitHub REST wire as the sync sees it: one answer, the transport that fetches it.

The engine talks to a :class:`Transport`; :mod:`chatbot.sources.github.transport`
provides the PyGithub one, tests may provide their own. Mapping the JSON of issues and
comments to tickets stays in :mod:`chatbot.sources.rest`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from chatbot.core.errors import SupportReportError

FeedName = Literal["issues", "comments"]
_LINK = re.compile(r'<(?P<url>[^>]+)>\s*;\s*rel="(?P<rel>[^"]+)"')


@dataclass(frozen=True, kw_only=True, slots=True)
class Response:
    """One GitHub answer: status, lower-cased headers and the parsed JSON body."""

    status: int
    headers: Mapping[str, str]
    data: Any = None

    def link(self, rel: str) -> str | None:
        """The URL of the ``Link`` header's relation ``rel`` (``next``, ``last``), if any."""
        for match in _LINK.finditer(self.headers.get("link", "")):
            if match.group("rel") == rel:
                return match.group("url")
        return None

    @property
    def message(self) -> str:
        """The ``message`` of an error body, or ``""``."""
        if isinstance(self.data, Mapping):
            return str(self.data.get("message") or "")
        return ""


class TransportError(SupportReportError, RuntimeError):
    """The request did not get an HTTP answer (connection refused, reset, timed out).

    The engine retries it and, when retries run out, raises
    :class:`~chatbot.core.errors.SourceUnavailable` naming the API root.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Transport(Protocol):
    """Sends GET requests to the GitHub REST API; never raises for an HTTP status."""

    @property
    def api_url(self) -> str:
        """The API root, e.g. ``https://api.github.com``; sync states are tied to it."""
        ...

    def get(
        self, path: str, params: Mapping[str, str] | None = None, etag: str | None = None
    ) -> Response:
        """GET ``path`` (relative to the API root, or a full URL from a ``Link`` header).

        Raises:
            TransportError: if no HTTP answer came back.
        """
        ...


def format_time(moment: datetime) -> str:
    """A time as GitHub writes it: ``2025-04-21T09:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
