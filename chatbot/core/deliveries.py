"""Deliveries: one scheduled post of one report to one target at one fire time.

A delivery is identified by its key ``<schedule>/<target>/<fire time, ISO 8601 UTC>``; the
delivery log holds one row per key, so a post is planned once however many replicas plan it.
Statuses::

    pending ──claim──▶ claimed ──post──▶ posted
       ▲                  │  └──permanent error──▶ failed
       └──transient error─┘        (a lease that runs out makes it claimable again)
    skipped: missed while every replica was down, older than the catch-up window
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Status = Literal["pending", "claimed", "posted", "failed", "skipped"]


def delivery_key(schedule: str, target: str, fire_time: datetime) -> str:
    """``daily-support/slack:#support/2025-04-22T07:00:00Z``."""
    moment = fire_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{schedule}/{target}/{moment}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Delivery:
    """One row of the delivery log."""

    id: int
    schedule: str
    target: str
    fire_time: datetime
    status: Status
    attempts: int
    claimed_by: str | None = None
    lease_until: datetime | None = None
    payload: str | None = None
    message_id: str | None = None
    error: str | None = None
    posted_at: datetime | None = None

    @property
    def key(self) -> str:
        """The delivery key carried in the posted message's metadata."""
        return delivery_key(self.schedule, self.target, self.fire_time)
