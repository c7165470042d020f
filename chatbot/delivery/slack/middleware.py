"""Bolt middleware: drop Events API retries and duplicate ``event_id``s before any listener.

Slack re-sends an event (``X-Slack-Retry-Num``) when it did not see a 2xx within 3 s, and
may deliver one event twice. Each ``event_id`` is answered once: the first delivery runs
the listeners, every later one gets ``200`` with ``X-Slack-No-Retry: 1`` and nothing else.
A bounded LRU answers repeats within one process at no cost; with a shared memory (the
``seen_events`` table of the store) an event retried to another replica is dropped there too.
:class:`SeenOnce` holds both, and also serves the replay check of slash commands
(:mod:`chatbot.delivery.slack.app`, keys ``sig:<hex>``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from chatbot.lazylog import get_logger

log = get_logger(__name__)

Middleware = Callable[..., Awaitable[BoltResponse | None]]


class RecentEvents:
    """The last ``size`` event ids seen, oldest forgotten first."""

    def __init__(self, size: int = 10_000) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def first_time(self, event_id: str) -> bool:
        """True the first time ``event_id`` is seen; False for every repeat."""
        if event_id in self._seen:
            self._seen.move_to_end(event_id)
            return False
        self._seen[event_id] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


def _header(request: AsyncBoltRequest, name: str) -> str | None:
    values = request.headers.get(name)
    return values[0] if values else None


class SharedEvents(Protocol):
    """Event ids seen by any replica (``chatbot.store.events.SQLAlchemySeenEvents``)."""

    def first_time(self, event_id: str, now: datetime) -> bool:
        """True for the one caller that records ``event_id`` first."""
        ...


class SeenOnce:
    """Keys (event ids, ``sig:<hex>`` request signatures) let through once, across replicas.

    The local LRU answers repeats within this process at no cost; the shared memory (the
    store's ``seen_events`` table) decides between replicas.
    """

    def __init__(self, recent: RecentEvents, shared: SharedEvents | None = None) -> None:
        self.recent = recent
        self.shared = shared

    async def first_time(self, key: str) -> bool:
        """True for the one caller, on any replica, that sees ``key`` first."""
        if not self.recent.first_time(key):
            return False
        if self.shared is None:
            return True
        return await asyncio.to_thread(self.shared.first_time, key, datetime.now(UTC))


def drop_duplicate_events(seen: SeenOnce) -> Middleware:
    """A global middleware that lets each ``event_id`` through once (across replicas if shared)."""

    async def drop_duplicates(
        body: dict[str, Any], request: AsyncBoltRequest, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and not await seen.first_time(event_id):
            log.info(
                "slack_event_duplicate",
                platform="slack",
                event_id=event_id,
                retry_num=_header(request, "x-slack-retry-num"),
                retry_reason=_header(request, "x-slack-retry-reason"),
            )
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        await next()
        return None

    return drop_duplicates
