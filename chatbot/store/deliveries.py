"""SQLAlchemyDeliveryLog: the delivery table that makes scheduled posts exactly-once.

Planning inserts with ON CONFLICT DO NOTHING, so every replica may plan the same firing.
Claiming picks due rows with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite serializes
writers, which gives the same result for one process) and stamps them with the worker's
name and a lease. Every later step checks that the worker still holds the claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update

from chatbot.core.deliveries import Delivery, Status
from chatbot.store.connections import dialect_of
from chatbot.store.tables import deliveries, meta


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        schedule=row.schedule,
        target=row.target,
        fire_time=row.fire_time,
        status=row.status,
        attempts=row.attempts,
        claimed_by=row.claimed_by,
        lease_until=row.lease_until,
        payload=row.payload,
        message_id=row.message_id,
        error=row.error,
        posted_at=row.posted_at,
    )


class SQLAlchemyDeliveryLog:
    """The delivery log on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = dialect_of(engine)

    def plan(self, firings: Iterable[tuple[str, str, datetime, Status]], now: datetime) -> int:
        """Insert (schedule, target, fire time, status) rows that are not there yet."""
        rows = [
            {
                "schedule": s,
                "target": t,
                "fire_time": f,
                "status": st,
                "attempts": 0,
                "created_at": now,
            }
            for s, t, f, st in firings
        ]
        if not rows:
            return 0
        statement = (
            self._dialect.insert(deliveries)
            .on_conflict_do_nothing(index_elements=["schedule", "target", "fire_time"])
            .returning(deliveries.c.id)
        )
        with self.engine.begin() as conn:
            return len(conn.execute(statement, rows).all())

    def claim(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        limit: int = 10,
        exclude: Sequence[int] = (),
    ) -> list[Delivery]:
        """Claim up to ``limit`` due rows: pending ones, and claimed ones whose lease ran out.

        Rows whose ids are in ``exclude`` (already handled by the caller) are left alone.
        """
        due = (
            select(deliveries.c.id)
            .where(
                deliveries.c.fire_time <= now,
                or_(
                    and_(
                        deliveries.c.status == "pending",
                        or_(deliveries.c.not_before.is_(None), deliveries.c.not_before <= now),
                    ),
                    and_(deliveries.c.status == "claimed", deliveries.c.lease_until < now),
                ),
            )
            .where(deliveries.c.id.not_in(list(exclude)))
            .order_by(deliveries.c.fire_time, deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(deliveries)
            .where(deliveries.c.id.in_(due.scalar_subquery()))
            .values(
                status="claimed",
                claimed_by=worker,
                lease_until=now + lease,
                attempts=deliveries.c.attempts + 1,
            )
            .returning(*deliveries.c)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(statement).all()
        return sorted((_delivery(r) for r in rows), key=lambda d: (d.fire_time, d.id))

    def _while_claimed(self, delivery_id: int, worker: str, now: datetime, **values: Any) -> bool:
        statement = (
            update(deliveries)
            .where(
                deliveries.c.id == delivery_id,
                deliveries.c.status == "claimed",
                deliveries.c.claimed_by == worker,
                deliveries.c.lease_until >= now,
            )
            .values(**values)
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).rowcount == 1

    def save_payload(self, delivery_id: int, worker: str, now: datetime, payload: str) -> bool:
        """Keep the rendered message on the row, so a retry posts the same thing."""
        return self._while_claimed(delivery_id, worker, now, payload=payload)

    def extend(self, delivery_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
        """Renew the lease before a slow step; False if the claim was lost."""
        return self._while_claimed(delivery_id, worker, now, lease_until=now + lease)

    def mark_posted(self, delivery_id: int, worker: str, now: datetime, message_id: str) -> bool:
        """Posted; only while the worker still holds the claim."""
        return self._while_claimed(
            delivery_id,
            worker,
            now,
            status="posted",
            message_id=message_id,
            posted_at=now,
            lease_until=None,
            error=None,
        )

    def retry_later(
        self, delivery_id: int, worker: str, now: datetime, not_before: datetime, error: str
    ) -> bool:
        """A transient failure: back to pending, not to be tried before ``not_before``."""
        return self._while_claimed(
            delivery_id,
            worker,
            now,
            status="pending",
            claimed_by=None,
            lease_until=None,
            not_before=not_before,
            error=error,
        )

    def mark_failed(self, delivery_id: int, worker: str, now: datetime, error: str) -> bool:
        """A permanent failure, with its reason."""
        return self._while_claimed(
            delivery_id, worker, now, status="failed", lease_until=None, error=error
        )

    def recent(self, limit: int = 50, schedule: str | None = None) -> list[Delivery]:
        """The newest rows first."""
        query = select(deliveries).order_by(deliveries.c.fire_time.desc(), deliveries.c.id.desc())
        if schedule:
            query = query.where(deliveries.c.schedule == schedule)
        with self.engine.connect() as conn:
            return [_delivery(r) for r in conn.execute(query.limit(limit))]

    def all(self) -> list[Delivery]:
        """Every row, oldest first (for checks and the soak benchmark)."""
        query = select(deliveries).order_by(deliveries.c.fire_time, deliveries.c.id)
        with self.engine.connect() as conn:
            return [_delivery(r) for r in conn.execute(query)]

    def counts(self) -> dict[str, int]:
        """How many rows have each status."""
        query = select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        with self.engine.connect() as conn:
            return {status: int(n) for status, n in conn.execute(query)}

    def horizon(self, schedule: str) -> datetime | None:
        """The latest fire time of ``schedule`` already planned."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(meta.c.value).where(meta.c.key == f"horizon:{schedule}")
            ).scalar()
        return datetime.fromisoformat(value) if value else None

    def advance_horizon(self, schedule: str, moment: datetime) -> None:
        """Move the planning horizon forward (never back), safely across replicas."""
        key = f"horizon:{schedule}"
        value = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        statement = self._dialect.insert(meta).values(key=key, value=value)
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": statement.excluded.value},
            where=meta.c.value < statement.excluded.value,
        )
        with self.engine.begin() as conn:
            conn.execute(statement)
