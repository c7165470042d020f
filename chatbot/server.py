"""``chatbot serve``: one asyncio loop running the web endpoints, the platforms and background work.

The loop holds an aiohttp web app (``GET /healthz`` always, plus the routes each platform
mounts, such as Slack's ``POST /slack/events``), the :class:`Platform` s (the chat platform
plug-ins the composition root built: Slack, Discord) and any number of
:class:`Component` s: things with ``start()`` and ``stop()`` (the scheduler, a periodic
GitHub sync). This module imports no platform: a platform is anything with the
:class:`Platform` shape::

    await run_server([slack_bot], [scheduler, periodic("sync", sync, seconds=900)], ...)

Setting ``stopping`` (SIGTERM or SIGINT, see :func:`install_signal_handlers`) stops accepting
requests, lets in-flight answers finish (up to ``grace`` seconds), stops the components in
reverse order, then the platforms.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from chatbot.core.ports import ReportPoster
from chatbot.lazylog import get_logger

log = get_logger(__name__)

DEFAULT_GRACE = 10.0

#: ``await health()``: True while the store answers.
HealthCheck = Callable[[], Awaitable[bool]]


class Component(Protocol):
    """Something that runs inside the serve loop between start-up and shutdown."""

    name: str

    async def start(self) -> None:
        """Begin work; return once running (long work goes into tasks)."""

    async def stop(self) -> None:
        """Stop work; called once at shutdown, in reverse order of starting."""


class Platform(Component, Protocol):
    """A chat platform plug-in (Slack, Discord): answers requests, posts scheduled reports.

    Its scheduled poster (the :class:`~chatbot.core.ports.ReportPoster` role) is handed to
    the scheduler by the composition root; the serve loop only runs it.
    """

    @property
    def status(self) -> str:
        """How it is connected, for ``/healthz`` and the start-up line (``http``, ``socket``)."""
        ...

    def routes(self) -> Sequence[web.RouteDef]:
        """The HTTP routes to mount on the web app (none for a platform that dials out)."""
        ...

    async def drain(self, grace: float) -> int:
        """Let answers in flight finish for up to ``grace`` s; returns how many were cut."""
        ...

    def scheduled_poster(self, post_timeout: float) -> ReportPoster | None:
        """The poster of scheduled reports (each post within ``post_timeout`` s), if any."""
        ...


class BackgroundTask:
    """A component running one coroutine until shutdown cancels it; a crash is logged."""

    def __init__(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self._run = run
        self._task: asyncio.Task[None] | None = None

    async def _guarded(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background_task_failed", task=self.name)

    async def start(self) -> None:
        """Start the coroutine as a task."""
        self._task = asyncio.create_task(self._guarded(), name=self.name)

    async def stop(self) -> None:
        """Cancel the task and wait for it to end."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def periodic(name: str, job: Callable[[], Awaitable[None]], *, seconds: float) -> BackgroundTask:
    """A component running ``job`` every ``seconds`` (first run at once); errors are logged."""

    async def loop() -> None:
        while True:
            try:
                await job()
            except Exception:
                log.exception("periodic_job_failed", job=name)
            await asyncio.sleep(seconds)

    return BackgroundTask(name, loop)


def build_web_app(
    platforms: Sequence[Platform], stopping: asyncio.Event, health: HealthCheck | None = None
) -> web.Application:
    """The aiohttp app: ``/healthz``, and each platform's routes."""
    web_app = web.Application()

    async def healthz(_request: web.Request) -> web.Response:
        status, state = 200, "ok"
        if stopping.is_set():
            status, state = 503, "stopping"
        elif health is not None and not await health():
            # no URL, host or path: the store is down, and that is all a probe needs
            status, state = 503, "store unavailable"
        body = {"status": state, **{p.name: p.status for p in platforms}}
        return web.json_response(body, status=status)

    web_app.router.add_get("/healthz", healthz)
    for platform in platforms:
        web_app.router.add_routes(platform.routes())
    return web_app


@dataclass(kw_only=True)
class Listening:
    """A started web server: where it listens, and how to stop it."""

    runner: web.AppRunner
    host: str
    port: int

    async def close(self) -> None:
        """Stop listening and close open connections."""
        await self.runner.cleanup()


async def start_web(web_app: web.Application, *, host: str, port: int) -> Listening:
    """Listen on ``host``:``port`` (0 picks a free port); returns the actual port."""
    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = port
    for address in runner.addresses:
        if isinstance(address, tuple):
            bound = int(address[1])
            break
    return Listening(runner=runner, host=host, port=bound)


async def run_server(
    platforms: Sequence[Platform],
    components: Sequence[Component] = (),
    *,
    stopping: asyncio.Event,
    health: HealthCheck | None = None,
    host: str = "0.0.0.0",  # noqa: S104 - a server in a container listens on every interface
    port: int = 3000,
    grace: float = DEFAULT_GRACE,
    on_ready: Callable[[Listening], None] | None = None,
) -> None:
    """Serve until ``stopping`` is set; then shut everything down in order."""
    listening = await start_web(
        build_web_app(platforms, stopping, health), host=host, port=port
    )
    running: list[Component] = []
    try:
        for platform in platforms:
            await platform.start()
            running.append(platform)
        first_component = len(running)
        for component in components:
            await component.start()
            running.append(component)
            log.info("component_started", component=component.name)
        log.info(
            "server_ready",
            host=host,
            port=listening.port,
            platforms={p.name: p.status for p in platforms} or "off",
            components=[c.name for c in running[first_component:]],
        )
        if on_ready is not None:
            on_ready(listening)
        await stopping.wait()
    finally:
        log.info("server_stopping")
        stopping.set()
        await listening.close()
        for platform in platforms:
            if platform in running:
                left = await platform.drain(grace)
                if left:
                    log.warning("answers_cancelled", platform=platform.name, count=left)
        for component in reversed(running):
            try:
                await component.stop()
            except Exception:
                log.exception("component_stop_failed", component=component.name)
        log.info("server_stopped")


def install_signal_handlers(stopping: asyncio.Event) -> None:
    """SIGTERM and SIGINT set ``stopping`` (call inside the running loop)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, stopping.set)
