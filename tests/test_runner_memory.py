"""The delivery runner on the in-memory log: the exactly-once rules without a database.

The runner depends on ports only (a DeliveryLog, a ReportBuilder, a ReportPoster per
platform), so these tests run it with :class:`MemoryDeliveryLog` and a poster that keeps what
it is sent, as a channel would.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chatbot.core.errors import DeliveryFailed
from chatbot.core.report import Report
from chatbot.render import render_json
from chatbot.scheduling.memory_log import MemoryDeliveryLog
from chatbot.scheduling.runner import DeliveryRunner, RunnerOptions
from chatbot.scheduling.schedules import parse_schedules
from chatbot.service import ReportService
from chatbot.store import open_store
from tests.factories import Clock

START = datetime(2026, 3, 24, 6, 0, tzinfo=UTC)
SCHEDULES = """
[[schedules]]
name = "hourly"
cron = "0 * * * *"
timezone = "UTC"
period = "yesterday"
targets = ["chan:a", "chan:b"]
"""


class Channel:
    """A poster that keeps every message; it can lose the answer to one post."""

    platform = "chan"

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []  # (channel, key)
        self.lose_next_answer = False

    def render(self, report: Report) -> str:
        return render_json(report)

    async def find_posted(self, channel: str, key: str, since: datetime) -> str | None:
        return f"m-{key}" if (channel, key) in self.messages else None

    async def post(self, channel: str, payload: str, key: str) -> str:
        await asyncio.sleep(0)  # let another worker run in between
        self.messages.append((channel, key))
        if self.lose_next_answer:
            self.lose_next_answer = False
            raise DeliveryFailed(f"chan:{channel}", "connection reset", permanent=False)
        return f"m-{key}"

    async def resume(self, channel: str, payload: str, message_id: str) -> None:
        """A post is one message: nothing comes after it."""


@pytest.fixture
def service(tmp_path: Path) -> ReportService:
    return ReportService(open_store(f"sqlite:///{tmp_path / 'store.db'}"))


def runner(
    log: MemoryDeliveryLog, service: ReportService, channel: Channel, clock: Clock, worker: str
) -> DeliveryRunner:
    return DeliveryRunner(
        deliveries=log,
        service=service,
        schedules=parse_schedules(SCHEDULES, START),
        posters={"chan": channel},
        options=RunnerOptions(backoff=timedelta(seconds=1)),
        worker=worker,
        clock=clock,
    )


async def test_two_workers_on_one_log_post_each_firing_once(service: ReportService) -> None:
    log, channel, clock = MemoryDeliveryLog(), Channel(), Clock(START)
    first = runner(log, service, channel, clock, "first")
    second = runner(log, service, channel, clock, "second")
    await first.run_once()  # a new schedule starts now
    clock.now = START + timedelta(hours=3, seconds=1)
    await asyncio.gather(first.run_once(), second.run_once(), first.run_once())
    keys = sorted(key for _channel, key in channel.messages)
    assert keys == sorted(
        f"hourly/chan:{c}/2026-03-24T0{h}:00:00Z" for c in "ab" for h in (7, 8, 9)
    )
    assert log.counts() == {"posted": 6}


async def test_a_post_whose_answer_was_lost_is_found_not_repeated(
    service: ReportService,
) -> None:
    log, channel, clock = MemoryDeliveryLog(), Channel(), Clock(START)
    worker = runner(log, service, channel, clock, "w")
    await worker.run_once()
    channel.lose_next_answer = True
    clock.now = START + timedelta(hours=1, seconds=1)
    await worker.run_once()
    assert log.counts() == {"pending": 1, "posted": 1}
    clock.now += timedelta(seconds=2)  # past the back-off
    await worker.run_once()
    assert log.counts() == {"posted": 2}
    assert len(channel.messages) == 2  # the lost answer's post was found, not sent again
