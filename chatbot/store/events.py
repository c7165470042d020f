"""SQLAlchemySeenEvents: event ids shared by every replica, so each event is answered once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql, sqlite

from chatbot.store.tables import seen_events

PRUNE_EVERY = 500


class SQLAlchemySeenEvents:
    """A table of event ids; the first replica to insert one answers the event."""

    def __init__(self, engine: Engine, keep: timedelta = timedelta(days=1)) -> None:
        self.engine = engine
        self.keep = keep
        self._dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._calls = 0

    def first_time(self, event_id: str, now: datetime) -> bool:
        """True for the one caller that records ``event_id`` first, on any replica."""
        statement = (
            self._dialect.insert(seen_events)
            .values(event_id=event_id, seen_at=now)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(seen_events.c.event_id)
        )
        self._calls += 1
        if self._calls % PRUNE_EVERY == 0:
            self.forget_before(now - self.keep)
        with self.engine.begin() as conn:
            return conn.execute(statement).first() is not None

    def forget_before(self, moment: datetime) -> int:
        """Drop ids seen before ``moment`` (Slack stops retrying after minutes)."""
        with self.engine.begin() as conn:
            return conn.execute(delete(seen_events).where(seen_events.c.seen_at < moment)).rowcount
