"""MemoryDeliveryLog: the delivery log in one process's memory, for tests and trials.

It keeps the same rules as the database log (see :class:`~chatbot.core.ports.DeliveryLog`):
planning is idempotent per (schedule, target, fire time), a claim holds until its lease runs
out, and every later step needs the claim. A lock makes it safe across threads, as the runner
calls the log from worker threads.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from chatbot.core.deliveries import Delivery, Status


class MemoryDeliveryLog:
    """A :class:`~chatbot.core.ports.DeliveryLog` in a dict."""

    def __init__(self) -> None:
        self._rows: dict[int, Delivery] = {}
        self._keys: dict[tuple[str, str, datetime], int] = {}
        self._horizons: dict[str, datetime] = {}
        self._not_before: dict[int, datetime] = {}  # the row's back-off, kept beside it
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def plan(self, firings: Iterable[tuple[str, str, datetime, Status]], now: datetime) -> int:
        """Add the rows that are not there yet; returns how many were added."""
        added = 0
        with self._lock:
            for schedule, target, fire_time, status in firings:
                if (schedule, target, fire_time) in self._keys:
                    continue
                row = Delivery(
                    id=next(self._ids),
                    schedule=schedule,
                    target=target,
                    fire_time=fire_time,
                    status=status,
                    attempts=0,
                )
                self._rows[row.id] = row
                self._keys[(schedule, target, fire_time)] = row.id
                added += 1
        return added

    def claim(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        limit: int = 10,
        exclude: Sequence[int] = (),
    ) -> list[Delivery]:
        """Claim up to ``limit`` due rows, oldest fire time first."""
        with self._lock:
            due = sorted(
                (
                    row
                    for row in self._rows.values()
                    if row.id not in exclude and row.fire_time <= now and self._due(row, now)
                ),
                key=lambda row: (row.fire_time, row.id),
            )[:limit]
            claimed = [
                dataclasses.replace(
                    row,
                    status="claimed",
                    claimed_by=worker,
                    lease_until=now + lease,
                    attempts=row.attempts + 1,
                )
                for row in due
            ]
            for row in claimed:
                self._rows[row.id] = row
        return claimed

    def _due(self, row: Delivery, now: datetime) -> bool:
        if row.status == "pending":
            not_before = self._not_before.get(row.id)
            return not_before is None or not_before <= now
        return row.status == "claimed" and row.lease_until is not None and row.lease_until < now

    def _while_claimed(self, delivery_id: int, worker: str, now: datetime, **values: Any) -> bool:
        with self._lock:
            row = self._rows.get(delivery_id)
            if (
                row is None
                or row.status != "claimed"
                or row.claimed_by != worker
                or row.lease_until is None
                or row.lease_until < now
            ):
                return False
            not_before = values.pop("not_before", None)
            if not_before is not None:
                self._not_before[delivery_id] = not_before
            self._rows[delivery_id] = dataclasses.replace(row, **values)
            return True

    def save_payload(self, delivery_id: int, worker: str, now: datetime, payload: str) -> bool:
        """Keep the rendered message on the row."""
        return self._while_claimed(delivery_id, worker, now, payload=payload)

    def extend(self, delivery_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
        """Renew the lease."""
        return self._while_claimed(delivery_id, worker, now, lease_until=now + lease)

    def mark_posted(self, delivery_id: int, worker: str, now: datetime, message_id: str) -> bool:
        """Posted."""
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
        """Back to pending until ``not_before``."""
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
        """Failed for good."""
        return self._while_claimed(
            delivery_id, worker, now, status="failed", lease_until=None, error=error
        )

    def horizon(self, schedule: str) -> datetime | None:
        """The latest fire time of ``schedule`` already planned."""
        with self._lock:
            return self._horizons.get(schedule)

    def advance_horizon(self, schedule: str, moment: datetime) -> None:
        """Forward only."""
        with self._lock:
            current = self._horizons.get(schedule)
            if current is None or current < moment:
                self._horizons[schedule] = moment

    def recent(self, limit: int = 50, schedule: str | None = None) -> list[Delivery]:
        """The newest rows first."""
        with self._lock:
            rows = [r for r in self._rows.values() if schedule is None or r.schedule == schedule]
        rows.sort(key=lambda r: (r.fire_time, r.id), reverse=True)
        return rows[:limit]

    def all(self) -> list[Delivery]:
        """Every row, oldest first."""
        with self._lock:
            rows = list(self._rows.values())
        return sorted(rows, key=lambda r: (r.fire_time, r.id))

    def counts(self) -> dict[str, int]:
        """Rows per status."""
        with self._lock:
            return dict(Counter(row.status for row in self._rows.values()))
