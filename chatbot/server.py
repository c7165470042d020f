"""``chatbot serve``: one asyncio loop running the web endpoints, Slack and background work.

The loop holds an aiohttp web app (``GET /healthz`` always, 503 while stopping or when a new
connection to the store fails within 2 s; ``POST /slack/events`` in Slack HTTP mode), the
Slack Socket Mode connection when that mode is chosen, and any number of :class:`Component` s:
things with ``start()`` and ``stop()`` (an APScheduler
``AsyncIOScheduler``, a Discord client, a periodic GitHub sync). Components are made by
*extensions*, callables that receive the :class:`Runtime` (settings, store, service and the
Slack bot with its poster) once it exists::

    def scheduler(runtime: Runtime) -> Component: ...
    await serve_app(app_objects, extensions=[scheduler, periodic("sync", sync, seconds=900)])

SIGTERM or SIGINT stops accepting requests, lets in-flight answers finish (up to
``grace`` seconds), stops the components in reverse order and closes Slack.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from aiohttp import web

from chatbot.delivery.slack.app import EVENTS_PATH, SlackBot, build_slack_bot
from chatbot.delivery.slack.poster import ThreadFiles
from chatbot.store.health import StoreProbe
from chatbot.wiring import App

log = structlog.get_logger(__name__)

DEFAULT_GRACE = 10.0


class Component(Protocol):
    """Something that runs inside the serve loop between start-up and shutdown."""

    name: str

    async def start(self) -> None:
        """Begin work; return once running (long work goes into tasks)."""

    async def stop(self) -> None:
        """Stop work; called once at shutdown, in reverse order of starting."""


@dataclass(kw_only=True)
class Runtime:
    """What extensions get: the app's objects, the Slack bot (or None), the stop signal."""

    app: App
    slack: SlackBot | None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


Extension = Callable[[Runtime], Component]


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


def periodic(name: str, job: Callable[[], Awaitable[None]], *, seconds: float) -> Extension:
    """An extension running ``job`` every ``seconds`` (first run at once); errors are logged."""

    async def loop() -> None:
        while True:
            try:
                await job()
            except Exception:
                log.exception("periodic_job_failed", job=name)
            await asyncio.sleep(seconds)

    return lambda _runtime: BackgroundTask(name, loop)


def build_web_app(runtime: Runtime) -> web.Application:
    """The aiohttp app: ``/healthz``, and ``/slack/events`` when Slack is in HTTP mode."""
    web_app = web.Application()
    slack = runtime.slack
    probe = StoreProbe(runtime.app.store.engine)

    async def healthz(_request: web.Request) -> web.Response:
        if runtime.stopping.is_set():
            status = "stopping"
        elif not await probe.check():
            status = "store unavailable"
        else:
            status = "ok"
        body = {"status": status, "slack": slack.mode if slack else "off"}
        return web.json_response(body, status=200 if status == "ok" else 503)

    async def close_probe(_app: web.Application) -> None:
        probe.dispose()

    web_app.router.add_get("/healthz", healthz)
    web_app.on_cleanup.append(close_probe)
    if slack is not None and slack.mode == "http":
        web_app.router.add_post(EVENTS_PATH, slack.handle_http)
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
    runtime: Runtime,
    *,
    extensions: Sequence[Extension] = (),
    host: str = "0.0.0.0",  # noqa: S104 - a server in a container listens on every interface
    port: int | None = None,
    grace: float = DEFAULT_GRACE,
    on_ready: Callable[[Listening], None] | None = None,
) -> None:
    """Serve until ``runtime.stopping`` is set; then shut everything down in order."""
    settings = runtime.app.settings
    listening = await start_web(
        build_web_app(runtime), host=host, port=settings.port if port is None else port
    )
    slack = runtime.slack
    started: list[Component] = []
    try:
        if slack is not None:
            await slack.start()
        for extension in extensions:
            component = extension(runtime)
            await component.start()
            started.append(component)
            log.info("component_started", component=component.name)
        log.info(
            "server_ready",
            host=host,
            port=listening.port,
            slack=slack.mode if slack else "off",
            components=[c.name for c in started],
        )
        if on_ready is not None:
            on_ready(listening)
        await runtime.stopping.wait()
    finally:
        log.info("server_stopping")
        runtime.stopping.set()
        await listening.close()
        if slack is not None:
            left = await slack.inflight.drain(grace)
            if left:
                log.warning("answers_cancelled", count=left)
        for component in reversed(started):
            try:
                await component.stop()
            except Exception:
                log.exception("component_stop_failed", component=component.name)
        if slack is not None:
            await slack.stop()
        log.info("server_stopped")


async def serve_app(
    app_objects: App,
    *,
    extensions: Sequence[Extension] = (),
    host: str = "0.0.0.0",  # noqa: S104
    port: int | None = None,
    grace: float = DEFAULT_GRACE,
    thread_files: ThreadFiles | None = None,
) -> None:
    """Build the Slack bot, serve until SIGTERM or SIGINT, shut down cleanly.

    Args:
        app_objects: settings, store and service (:func:`chatbot.wiring.build_app`).
        extensions: make the components to run beside Slack (scheduler, periodic sync).
        host: the interface to listen on.
        port: the port; ``None`` takes ``PORT`` from the settings.
        grace: seconds to let answers in flight finish at shutdown.
        thread_files: files to upload into each report's thread (the chart).
    """
    slack = build_slack_bot(app_objects, thread_files=thread_files)
    runtime = Runtime(app=app_objects, slack=slack)
    if runtime.slack is None:
        log.warning(
            "slack_off", hint="set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN"
        )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, runtime.stopping.set)
    await run_server(runtime, extensions=extensions, host=host, port=port, grace=grace)
