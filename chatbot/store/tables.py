"""SQLAlchemy tables of the ticket store; Alembic migrations create them (store/migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql import false
from sqlalchemy.types import TypeDecorator

ID = BigInteger().with_variant(Integer(), "sqlite")
"""GitHub ids and our row ids: ``BIGINT`` (SQLite's ``INTEGER`` is 64-bit already)."""


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every database.

    PostgreSQL keeps ``timestamp with time zone``; SQLite keeps naive UTC text, which sorts
    and compares correctly because every value is in the same zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("repo", String(200), nullable=False),
    Column("number", ID, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False, default=""),
    Column("state", String(10), nullable=False),
    Column("state_reason", String(30)),
    Column("author_login", String(100), nullable=False),
    Column("author_association", String(40), nullable=False),
    Column("author_is_bot", Boolean, nullable=False),
    Column("url", Text, nullable=False, default=""),
    Column("reactions", Integer, nullable=False, default=0),
    Column("comment_count", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("demo", Boolean, nullable=False, default=False, server_default=false()),
    UniqueConstraint("repo", "number"),
    # both times first, each with the other time (and what a period's reads need): 0008
    Index("ix_tickets_created_at_closed_at", "created_at", "closed_at", "author_login", "id"),
    Index("ix_tickets_closed_at_created_at", "closed_at", "created_at", "id"),
    Index("ix_tickets_number", "number"),
)

labels = Table(
    "ticket_labels",
    metadata,
    Column("ticket_id", ID, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(200), primary_key=True),
)

form_fields = Table(
    "ticket_fields",
    metadata,
    Column("ticket_id", ID, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("value", Text, nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("ticket_id", ID, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("author_login", String(100), nullable=False),
    Column("author_association", String(40), nullable=False),
    Column("author_is_bot", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("body", Text, nullable=False, default=""),
    Index("ix_comments_created_at_ticket_id", "created_at", "ticket_id"),
    # a thread's every column but the body, so its aggregates read the index alone: 0008
    Index(
        "ix_comments_ticket_id_thread",
        "ticket_id",
        "created_at",
        "id",
        "author_association",
        "author_is_bot",
        "author_login",
    ),
)

meta = Table(
    "store_meta",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schedule", String(100), nullable=False),
    Column("target", String(300), nullable=False),
    Column("fire_time", UTCDateTime, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(100)),
    Column("lease_until", UTCDateTime),
    Column("not_before", UTCDateTime),
    Column("payload", Text),
    Column("message_id", String(100)),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("posted_at", UTCDateTime),
    UniqueConstraint("schedule", "target", "fire_time"),
    Index("ix_deliveries_status_fire_time", "status", "fire_time"),
)

seen_events = Table(
    "seen_events",
    metadata,
    Column("event_id", String(200), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
    Index("ix_seen_events_seen_at", "seen_at"),
)

model_answers = Table(
    "model_answers",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("answer", Text),
    Column("claimed_by", String(100)),
    Column("lease_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)
"""The model's checked answers by (model, period, prompt hash); a row without an answer is a
claim: one replica is asking the model, until ``lease_until``."""

chat_schedules = Table(
    "chat_schedules",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("cron", String(200), nullable=False),
    Column("timezone", String(100), nullable=False),
    Column("period", String(200), nullable=False),
    Column("platform", String(40), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
"""Schedules made in a chat (``/support-report schedule …``), beside those of the TOML file;
every replica's runner reads them each tick."""
