"""The delivery runner: scheduled posts, exactly once, through the delivery log.

Every tick a replica (1) plans the firings that came due since the schedule's horizon
(inserting them; older than the catch-up window they are recorded as skipped), (2) claims
due rows with a lease, and (3) for each claimed row builds the report of the schedule's
period as of the fire time, stores the rendered message on the row, posts it with the
delivery key in its metadata, and marks it posted while it still holds the claim. A row
tried before may already have gone out (the replica died between posting and marking), so
such a retry first asks the channel for a message carrying its key; if it finds one, the
poster finishes what came after that message (``resume``: Slack's chart upload) before the
row is marked posted.

The runner knows ports only: a :class:`~chatbot.core.ports.DeliveryLog`, a
:class:`~chatbot.core.ports.ReportBuilder` and one :class:`~chatbot.core.ports.ReportPoster`
per platform. :mod:`chatbot.scheduling.timer` ticks it. Its schedules are fixed, or read
again each tick from ``current`` (the file's and the chat's, see
:mod:`chatbot.scheduling.chat`); a row whose schedule was removed before it went out fails
with "no longer configured".
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatbot.core.deliveries import Delivery, Status
from chatbot.core.errors import DeliveryFailed
from chatbot.core.periods import utc_now
from chatbot.core.ports import DeliveryLog, ReportBuilder, ReportPoster
from chatbot.lazylog import get_logger
from chatbot.scheduling.schedules import Schedule, parse_target

log = get_logger(__name__)

MAX_BACKOFF = timedelta(minutes=5)


def worker_name() -> str:
    """A name for this process in the delivery log: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, kw_only=True, slots=True)
class RunnerOptions:
    """Timing of the delivery runner."""

    lease: timedelta = timedelta(seconds=30)
    catch_up: timedelta = timedelta(hours=6)
    tick: timedelta = timedelta(seconds=1)
    backoff: timedelta = timedelta(seconds=2)
    batch: int = 20


class DeliveryRunner:
    """Plans, claims and posts scheduled reports through the delivery log."""

    def __init__(
        self,
        *,
        deliveries: DeliveryLog,
        service: ReportBuilder,
        schedules: Sequence[Schedule],
        posters: Mapping[str, ReportPoster],
        current: Callable[[], Sequence[Schedule]] | None = None,
        options: RunnerOptions | None = None,
        worker: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.deliveries = deliveries
        self.service = service
        self.schedules = {s.name: s for s in schedules}
        self.current = current
        self.posters = dict(posters)
        self.options = options or RunnerOptions()
        self.worker = worker or worker_name()
        self.clock = clock

    def refresh(self) -> None:
        """Read the schedules again when they can change (the chat's, in the store)."""
        if self.current is not None:
            self.schedules = {s.name: s for s in self.current()}

    def plan(self, now: datetime) -> int:
        """Record every firing due by ``now``; returns how many rows were new.

        With ``current`` given, the schedules are read from it first: a schedule made or
        removed on any replica counts from this tick on.
        """
        self.refresh()
        added = 0
        for schedule in self.schedules.values():
            horizon = self.deliveries.horizon(schedule.name)
            if horizon is None:  # a new schedule starts now; history is not backfilled
                self.deliveries.advance_horizon(schedule.name, now)
                continue
            fires = schedule.fire_times(horizon, now)
            if not fires:
                continue
            rows: list[tuple[str, str, datetime, Status]] = [
                (
                    schedule.name,
                    str(target),
                    fire,
                    "pending" if now - fire <= self.options.catch_up else "skipped",
                )
                for fire in fires
                for target in schedule.targets
            ]
            added += self.deliveries.plan(rows, now)
            self.deliveries.advance_horizon(schedule.name, fires[-1])
        return added

    async def run_once(self) -> list[Delivery]:
        """One tick: plan, then claim and deliver up to ``batch`` rows, one at a time.

        Claiming one row at a time means a replica that dies holds at most the row it was
        posting; the others stay free for the next replica's tick instead of waiting out a
        lease. A row given back during this tick (a transient failure) is not claimed again in
        it, whatever the clock says by then. Returns the rows this worker claimed.
        """
        await asyncio.to_thread(self.plan, self.clock())
        claimed: list[Delivery] = []
        for _ in range(self.options.batch):
            rows = await asyncio.to_thread(
                self.deliveries.claim,
                self.worker,
                self.clock(),
                self.options.lease,
                1,
                [d.id for d in claimed],
            )
            if not rows:
                break
            claimed += rows
            await self.deliver(rows[0])
        return claimed

    async def deliver(self, delivery: Delivery) -> None:
        """Post one claimed row, unless an earlier attempt already did."""
        bound = log.bind(delivery_key=delivery.key, attempt=delivery.attempts)
        schedule = self.schedules.get(delivery.schedule)
        target = parse_target(delivery.target)
        poster = self.posters.get(target.platform)
        if schedule is None or poster is None:
            reason = (
                f"schedule {delivery.schedule!r} is no longer configured"
                if schedule is None
                else f"no {target.platform} connection is configured"
            )
            await self._finish(self.deliveries.mark_failed, delivery, reason)
            bound.warning("delivery_failed", reason=reason)
            return
        if delivery.attempts > 1:
            try:
                found = await poster.find_posted(
                    target.channel, delivery.key, delivery.fire_time - timedelta(minutes=1)
                )
            except DeliveryFailed as exc:
                bound.warning("delivery_error", reason=exc.reason, step="find_posted")
                await self._failed(delivery, exc)
                return
            if found is not None:
                if delivery.payload is not None and await asyncio.to_thread(
                    self.deliveries.extend,
                    delivery.id,
                    self.worker,
                    self.clock(),
                    self.options.lease,
                ):
                    await poster.resume(target.channel, delivery.payload, found)
                await self._finish(self.deliveries.mark_posted, delivery, found)
                bound.info("delivery_found_posted", message_id=found)
                return
        payload = delivery.payload
        if payload is None:
            period = schedule.period_at(delivery.fire_time, self.service.week_start)
            report = await asyncio.to_thread(self.service.build_report, period)
            payload = await asyncio.to_thread(poster.render, report)  # a chart takes a while
            if not await self._finish(self.deliveries.save_payload, delivery, payload):
                bound.warning("delivery_claim_lost", step="render")
                return
        renewed = await asyncio.to_thread(
            self.deliveries.extend, delivery.id, self.worker, self.clock(), self.options.lease
        )
        if not renewed:
            bound.warning("delivery_claim_lost", step="post")
            return
        try:
            message_id = await poster.post(target.channel, payload, delivery.key)
        except DeliveryFailed as exc:
            bound.warning("delivery_error", reason=exc.reason, permanent=exc.permanent)
            await self._failed(delivery, exc)
            return
        except Exception as exc:  # an unknown error is retried, never lost
            bound.exception("delivery_error", reason=type(exc).__name__)
            await self._failed(
                delivery, DeliveryFailed(delivery.target, type(exc).__name__, permanent=False)
            )
            return
        if await self._finish(self.deliveries.mark_posted, delivery, message_id):
            latency = (self.clock() - delivery.fire_time).total_seconds()
            bound.info("report_posted", message_id=message_id, latency_s=round(latency, 3))
        else:
            bound.warning("delivery_claim_lost", step="mark_posted", message_id=message_id)

    async def _failed(self, delivery: Delivery, exc: DeliveryFailed) -> None:
        """Record a failed attempt: failed for good, or given back with a back-off."""
        if exc.permanent:
            await self._finish(self.deliveries.mark_failed, delivery, exc.reason)
            return
        wait = (
            timedelta(seconds=exc.retry_after)
            if exc.retry_after is not None
            else min(self.options.backoff * 2 ** (delivery.attempts - 1), MAX_BACKOFF)
        )
        now = self.clock()
        await asyncio.to_thread(
            self.deliveries.retry_later, delivery.id, self.worker, now, now + wait, exc.reason
        )

    async def _finish(
        self, step: Callable[[int, str, datetime, str], bool], delivery: Delivery, value: str
    ) -> bool:
        return await asyncio.to_thread(step, delivery.id, self.worker, self.clock(), value)
