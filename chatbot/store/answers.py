"""SQLAlchemyAnswerCache: the model's checked answers in the store, shared by every replica.

One row per key. A row without an answer is a claim: ``claimed_by`` is asking the model
until ``lease_until``. Claiming inserts with ON CONFLICT DO NOTHING (the first inserter
wins), or takes over a row whose claim has lapsed with one conditional UPDATE, so exactly
one caller gets a claim on PostgreSQL (row locks) and on SQLite (one writer at a time).
Putting an answer fills the row (ON CONFLICT DO UPDATE only while it has no answer), so a
kept answer is never replaced, and drops the rows older than :data:`KEEP_DAYS` in the same
transaction, so the table holds what recent reports asked and no more. The themes keep their
groupings here too (keys starting ``themes:``, see ``analysis.themes``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import ModuleType

from sqlalchemy import Engine, delete, or_, select, update

from chatbot.store.tables import model_answers

KEEP_DAYS = 14
"""Answers and groupings older than this many days are dropped when a new one is put."""


class SQLAlchemyAnswerCache:
    """The :class:`~chatbot.core.ports.AnswerCache` port on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def _dialect(self) -> ModuleType:
        # imported when used: PostgreSQL's dialect costs 35 ms a report on SQLite does without
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql
        from sqlalchemy.dialects import sqlite

        return sqlite

    def get(self, key: str) -> str | None:
        """The answer kept under ``key``, or None (never asked, or being asked)."""
        statement = select(model_answers.c.answer).where(
            model_answers.c.key == key, model_answers.c.answer.is_not(None)
        )
        with self.engine.connect() as conn:
            return conn.execute(statement).scalar()

    def claim(self, key: str, worker: str, now: datetime, lease: timedelta) -> bool:
        """True if ``worker`` now holds the claim on ``key``: no answer, no live claim."""
        until = now + lease
        insert = (
            self._dialect.insert(model_answers)
            .values(key=key, answer=None, claimed_by=worker, lease_until=until, created_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(model_answers.c.key)
        )
        take_over = (
            update(model_answers)
            .where(
                model_answers.c.key == key,
                model_answers.c.answer.is_(None),
                or_(model_answers.c.lease_until.is_(None), model_answers.c.lease_until <= now),
            )
            .values(claimed_by=worker, lease_until=until)
        )
        with self.engine.begin() as conn:
            if conn.execute(insert).first() is not None:
                return True
            return conn.execute(take_over).rowcount == 1

    def put(self, key: str, answer: str, now: datetime) -> None:
        """Keep ``answer`` under ``key``, ending any claim; a kept answer is never replaced.

        Rows created more than :data:`KEEP_DAYS` before ``now`` go (claims long lapsed too).
        """
        statement = self._dialect.insert(model_answers).values(
            key=key, answer=answer, claimed_by=None, lease_until=None, created_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"answer": answer, "claimed_by": None, "lease_until": None, "created_at": now},
            where=model_answers.c.answer.is_(None),
        )
        prune = delete(model_answers).where(
            model_answers.c.created_at < now - timedelta(days=KEEP_DAYS)
        )
        with self.engine.begin() as conn:
            conn.execute(prune)
            conn.execute(statement)

    def release(self, key: str, worker: str) -> None:
        """Drop ``worker``'s claim on ``key``, so another replica may ask."""
        statement = delete(model_answers).where(
            model_answers.c.key == key,
            model_answers.c.answer.is_(None),
            model_answers.c.claimed_by == worker,
        )
        with self.engine.begin() as conn:
            conn.execute(statement)
