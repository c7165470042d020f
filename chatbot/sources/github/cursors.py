"""Where each feed of a repository stands between syncs: ``since``, ETag, cursor, seen items.

One JSON value per repository and feed, kept in store meta under :func:`meta_key`. A
state belongs to one API root; a state of another root, or an unreadable one, starts
the feed afresh.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from chatbot.sources.github.wire import FeedName, format_time
from chatbot.sources.rest import parse_time

META_PREFIX = "github.sync"


def meta_key(repo: str, feed: FeedName) -> str:
    """The store meta key that holds one feed's state."""
    return f"{META_PREFIX}:{repo.lower()}:{feed}"


@dataclass(kw_only=True, slots=True)
class FeedState:
    """Where a feed stands: kept as JSON in store meta between syncs.

    Attributes:
        api: the API root the state belongs to; another root starts afresh.
        since: ``since`` of the next sync's first request (None: from the beginning).
        etag: the ``ETag`` of the answer to exactly that request, if it was read whole.
        cursor: the newest ``updated_at`` read and saved.
        seen: ``updated_at`` of the items at or after ``since`` already saved, by key.
    """

    api: str
    since: str | None = None
    etag: str | None = None
    cursor: str | None = None
    seen: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str | None, api: str) -> FeedState:
        """The state stored as ``text``; a fresh one if absent, unreadable or for another API."""
        fresh = cls(api=api)
        if not text:
            return fresh
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return fresh
        if not isinstance(data, dict) or data.get("api") != api:
            return fresh
        seen = data.get("seen")
        return cls(
            api=api,
            since=data.get("since") if isinstance(data.get("since"), str) else None,
            etag=data.get("etag") if isinstance(data.get("etag"), str) else None,
            cursor=data.get("cursor") if isinstance(data.get("cursor"), str) else None,
            seen={str(k): str(v) for k, v in seen.items()} if isinstance(seen, dict) else {},
        )

    def dump(self) -> str:
        """The state as compact JSON."""
        return json.dumps(
            {
                "api": self.api,
                "since": self.since,
                "etag": self.etag,
                "cursor": self.cursor,
                "seen": self.seen,
            },
            separators=(",", ":"),
        )

    def cursor_time(self) -> datetime | None:
        """``cursor`` as a time."""
        return parse_time(self.cursor, "cursor") if self.cursor else None

    def prune(self) -> None:
        """Forget seen items older than ``since``: no later request returns them unchanged."""
        if self.since is None:
            return
        start = parse_time(self.since, "since")
        self.seen = {k: v for k, v in self.seen.items() if parse_time(v, "seen") >= start}


def remember(state: FeedState, handled: Sequence[tuple[str, datetime]]) -> datetime | None:
    """Mark a saved page's items as seen and move the cursor; returns the page's newest."""
    newest = max((moment for _, moment in handled), default=None)
    if newest is not None:
        state.seen.update((key, format_time(moment)) for key, moment in handled)
        if state.cursor is None or newest > parse_time(state.cursor, "cursor"):
            state.cursor = format_time(newest)
    return newest
