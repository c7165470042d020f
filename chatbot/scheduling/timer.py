"""The timer: APScheduler ticks the delivery runner inside the serve loop.

APScheduler is each process's clock only; which post goes out is decided by the delivery log
(:mod:`chatbot.scheduling.runner`). The tick is quiet: :func:`chatbot.logs.configure_logging`
keeps APScheduler at WARNING, and the runner logs what it posts.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from chatbot.lazylog import get_logger
from chatbot.scheduling.runner import DeliveryRunner

log = get_logger(__name__)


def start_scheduler(runner: DeliveryRunner) -> AsyncIOScheduler:
    """An AsyncIOScheduler ticking the runner; call inside the running event loop."""
    scheduler = AsyncIOScheduler()
    scheduler.add_job(
        runner.run_once,
        "interval",
        seconds=runner.options.tick.total_seconds(),
        id="deliveries",
        max_instances=1,
        coalesce=True,
        # APScheduler keeps real time; the runner's own clock decides what is due
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    return scheduler


class SchedulerComponent:
    """The scheduler as a component of ``chatbot serve``: starts and stops with it."""

    name = "scheduler"

    def __init__(self, runner: DeliveryRunner) -> None:
        self.runner = runner
        self._scheduler: AsyncIOScheduler | None = None

    async def start(self) -> None:
        """Start ticking."""
        await asyncio.to_thread(self.runner.refresh)
        self._scheduler = start_scheduler(self.runner)
        log.info(
            "scheduler_started",
            schedules=sorted(self.runner.schedules),
            worker=self.runner.worker,
            platforms=sorted(self.runner.posters),
        )

    async def stop(self) -> None:
        """Stop ticking; a delivery in progress keeps its lease and is finished or taken over."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
