"""SQLAlchemyChatSchedules: the schedules made in chats, on SQLite or PostgreSQL.

Adding inserts with ON CONFLICT DO NOTHING on the name, so two replicas making the same
name at once get one row and one refusal; listing is one small query, run every tick.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Engine, delete, select

from chatbot.core.schedule_requests import ChatSchedule
from chatbot.store.connections import dialect_of
from chatbot.store.tables import chat_schedules


def _schedule(row: Any) -> ChatSchedule:
    """The row as the core's value: the table's columns are its fields."""
    return ChatSchedule(**row._mapping)


class SQLAlchemyChatSchedules:
    """The ``chat_schedules`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = dialect_of(engine)

    def add_schedule(self, schedule: ChatSchedule) -> bool:
        """Keep ``schedule``; False (and nothing changed) if its name is taken."""
        statement = (
            self._dialect.insert(chat_schedules)
            .values(**asdict(schedule))
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(chat_schedules.c.name)
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).first() is not None

    def chat_schedules(self) -> list[ChatSchedule]:
        """Every chat schedule, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(chat_schedules).order_by(chat_schedules.c.name)).all()
        return [_schedule(r) for r in rows]

    def remove_schedule(self, name: str) -> ChatSchedule | None:
        """Delete the schedule called ``name``; the removed one, or None."""
        statement = (
            delete(chat_schedules)
            .where(chat_schedules.c.name == name)
            .returning(*chat_schedules.c)
        )
        with self.engine.begin() as conn:
            row = conn.execute(statement).first()
        return _schedule(row) if row is not None else None
