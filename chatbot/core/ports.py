"""Ports: the roles that adapters play for the core. Adapters satisfy them without inheriting."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chatbot.core.models import Comment, Ticket
from chatbot.core.report import Report

DEMO_META_KEY = "demo_loaded_at"
"""Store meta: when the demo was loaded; empty once real tickets came; absent if never."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SaveStats:
    """What saving a batch of tickets changed.

    ``rejected`` holds (repo, number, error class) of tickets the database refused; every
    other ticket of their batch was saved.
    """

    new: int = 0
    updated: int = 0
    comments: int = 0
    rejected: tuple[tuple[str, int, str], ...] = ()


class TicketStore(Protocol):
    """Where tickets live between a sync and a report."""

    def save_tickets(self, tickets: Iterable[Ticket]) -> SaveStats:
        """Insert or replace tickets (with their comments, labels and form fields)."""
        ...

    def save_comments(self, repo: str, items: Iterable[tuple[int, Comment]]) -> int:
        """Insert or replace comments given as (issue number, comment); unknown issues skipped."""
        ...

    def tickets_touched(self, start: datetime, end: datetime) -> list[Ticket]:
        """Tickets opened, closed or commented on in ``[start, end)``, with all their comments."""
        ...

    def backlog(self, at: datetime) -> int:
        """How many tickets were open at ``at``."""
        ...

    def find_tickets(self, number: int, repo: str | None = None) -> list[Ticket]:
        """Tickets with that number (in ``repo`` if given), with their comments."""
        ...

    def repos(self) -> list[str]:
        """The repositories the store holds tickets of."""
        ...

    def count_tickets(self) -> int:
        """How many tickets the store holds."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A stored setting of the store itself (sync cursors, demo load time)."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting of the store itself."""
        ...

    def clear(self, repos: Sequence[str] | None = None) -> None:
        """Delete every ticket (of ``repos`` if given)."""
        ...


class ReportPoster(Protocol):
    """Posts rendered reports to one platform's channels (Slack, Discord)."""

    platform: str

    def render(self, report: Report) -> str:
        """The message(s) for ``report``, as the JSON text kept on the delivery row."""
        ...

    async def find_posted(self, channel: str, key: str, since: datetime) -> str | None:
        """The id of a message already posted with delivery ``key`` since ``since``, if any."""
        ...

    async def post(self, channel: str, payload: str, key: str) -> str:
        """Post ``payload`` tagged with ``key``; returns the message id.

        Raises:
            DeliveryFailed: with ``permanent`` set for errors a retry cannot fix.
        """
        ...
