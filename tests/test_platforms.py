"""Platforms are plug-ins: one written here, in the test, runs inside ``chatbot serve``.

Nothing in ``server.py`` or the scheduler knows it; the composition root's ``serve`` is
handed it like the platforms it builds from the settings, and a scheduled report reaches it
exactly once through the delivery log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from chatbot.app import build_app, serve
from chatbot.config import load_settings
from chatbot.core.ports import ReportPoster
from chatbot.core.report import Report
from chatbot.render import render_json
from tests.factories import Clock

FIRE = datetime(2026, 3, 24, 9, 0, tzinfo=UTC)
SCHEDULE = """
[[schedules]]
name = "daily"
cron = "0 9 * * *"
timezone = "UTC"
period = "yesterday"
targets = ["echo:room-1"]
"""


class EchoPoster:
    """Keeps what it is asked to post, as a channel would."""

    platform = "echo"

    def __init__(self) -> None:
        self.posted: list[tuple[str, str, str]] = []
        self.arrived = asyncio.Event()

    def render(self, report: Report) -> str:
        return render_json(report)

    async def find_posted(self, channel: str, key: str, since: datetime) -> str | None:
        found = [i for i, (c, _p, k) in enumerate(self.posted) if (c, k) == (channel, key)]
        return f"echo-{found[0]}" if found else None

    async def post(self, channel: str, payload: str, key: str) -> str:
        self.posted.append((channel, payload, key))
        self.arrived.set()
        return f"echo-{len(self.posted) - 1}"

    async def resume(self, channel: str, payload: str, message_id: str) -> None:
        """A post is one message: nothing comes after it."""


class EchoPlatform:
    """A whole platform in a few lines: the shape ``chatbot serve`` runs."""

    name = "echo"
    status = "listening"

    def __init__(self) -> None:
        self.poster = EchoPoster()
        self.events: list[str] = []

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")

    def routes(self) -> Sequence[web.RouteDef]:
        return []

    async def drain(self, grace: float) -> int:
        return 0

    def scheduled_poster(self, post_timeout: float) -> ReportPoster:
        return self.poster


async def until(condition: Callable[[], bool], server: asyncio.Task[None]) -> None:
    """Wait for ``condition`` while serve runs (a readiness poll, not a sleep to hide a race)."""
    deadline = asyncio.get_running_loop().time() + 30
    while not condition():
        assert not server.done(), server
        assert asyncio.get_running_loop().time() < deadline, "serve never got there"
        await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_a_platform_plugged_into_serve_gets_its_scheduled_report_once(
    tmp_path: Path,
) -> None:
    config = tmp_path / "chatbot.toml"
    config.write_text(SCHEDULE, encoding="utf-8")
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        chatbot_config=config,
        scheduler_tick_seconds=0.05,
    )
    app = build_app(settings)
    clock = Clock(FIRE - timedelta(seconds=1))
    echo = EchoPlatform()
    stopping = asyncio.Event()
    server = asyncio.create_task(
        serve(app, host="127.0.0.1", port=0, extra_platforms=[echo], clock=clock, stopping=stopping)
    )
    try:
        await until(lambda: app.deliveries.horizon("daily") is not None, server)  # first tick
        clock.now = FIRE + timedelta(seconds=1)
        await asyncio.wait_for(echo.poster.arrived.wait(), 30)
        await until(lambda: app.deliveries.counts() == {"posted": 1}, server)
        # ten more ticks at the same moment (each reads the clock) plan and post nothing more
        reads = clock.reads
        await until(lambda: clock.reads >= reads + 20, server)
    finally:
        stopping.set()
        await asyncio.wait_for(server, 15)
        app.store.engine.dispose()
    [(channel, payload, key)] = echo.poster.posted
    assert (channel, key) == ("room-1", "daily/echo:room-1/2026-03-24T09:00:00Z")
    assert "2026-03-23" in payload  # yesterday, as of the fire time
    [row] = app.deliveries.all()
    assert (row.status, row.message_id) == ("posted", "echo-0")
    assert echo.events == ["start", "stop"]
