"""The composition root: reads ``Settings`` once and builds every object a command runs with.

Nothing else wires adapters together. Front ends (``cli.py``) ask this module for an
:class:`App` (store, service, delivery log) and, for ``chatbot serve``, for the platforms
and components to run::

    settings ─▶ build_app ─▶ App(store, service, deliveries)
                   │
    build_platforms(app) ─▶ [SlackBot, ...]     one factory per platform in PLATFORMS
    build_schedule_book(app, schedules) ─▶ ChatScheduleBook   the file's + the chat's
    build_components(app, schedules, platforms) ─▶ [scheduler, github-sync]
    serve(app) ─▶ chatbot.server.run_server(platforms, components, health=store probe)

Adapters get plain values or ports from here, never ``Settings``. A new platform is a
folder under ``chatbot/delivery/`` and one entry in :data:`PLATFORMS`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chatbot.config import Settings
from chatbot.core.periods import utc_now
from chatbot.core.ports import DeliveryLog, ReportPoster, ScheduleBook
from chatbot.lazylog import get_logger
from chatbot.service import ReportService
from chatbot.sources.demo import ensure_demo
from chatbot.store import SQLAlchemyTicketStore, exclusive, open_store
from chatbot.store.answers import SQLAlchemyAnswerCache
from chatbot.store.deliveries import SQLAlchemyDeliveryLog

if TYPE_CHECKING:  # the serve-only modules load when serving, to keep the CLI's start quick
    from chatbot.delivery.slack import SlackBot, SlackConfig
    from chatbot.delivery.slack.poster import ThreadFiles
    from chatbot.llm import ModelRefiner
    from chatbot.scheduling.chat import ChatScheduleBook
    from chatbot.scheduling.schedules import Schedule
    from chatbot.server import Component, Platform
    from chatbot.sources.github import GitHubConfig

log = get_logger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class App:
    """The objects one process works with."""

    settings: Settings
    store: SQLAlchemyTicketStore
    service: ReportService
    deliveries: DeliveryLog = field(repr=False)


def build_app(settings: Settings, *, demo: bool = True) -> App:
    """Open the store and build the service; with no GitHub repos set, load the demo."""
    store = open_store(settings.database_url)
    if demo and not settings.github_repos:
        with exclusive(store.engine, "support-report:demo"):
            if ensure_demo(store, utc_now(), settings.tz):
                log.info("demo_loaded", tickets=store.count_tickets())
    service = ReportService(
        store,
        tz=settings.tz,
        week_start=settings.week_start_index,
        top=settings.top_tickets,
        refine=build_refiner(settings, store),
        theme_cache=SQLAlchemyAnswerCache(store.engine),  # replicas share the themes' groupings
    )
    return App(
        settings=settings,
        store=store,
        service=service,
        deliveries=SQLAlchemyDeliveryLog(store.engine),
    )


def build_refiner(
    settings: Settings, store: SQLAlchemyTicketStore | None = None
) -> ModelRefiner | None:
    """The model's refine hook, or None without ``OPENAI_API_KEY`` (offline analysis only).

    With a ``store``, its answers are kept in the store's cache, shared by every replica;
    without one, in this process only.
    """
    if settings.openai_api_key is None:
        return None
    from chatbot.llm import ModelClient, ModelConfig, ModelRefiner

    config = ModelConfig(
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key.get_secret_value(),
        model=settings.openai_model,
        timeout=settings.openai_timeout,
        max_retries=settings.openai_max_retries,
    )
    cache = SQLAlchemyAnswerCache(store.engine) if store is not None else None
    return ModelRefiner(ModelClient(config), cache=cache)


# -- platforms ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class PlatformContext:
    """What a platform factory may use beyond the settings.

    ``charts`` attaches each report's chart (Slack: a file in its thread; Discord:
    ``chart.png`` shown in the first embed); ``serve`` turns it on. ``thread_files`` replaces
    the Slack thread's files altogether (tests use it). ``schedules`` is the book the
    ``schedule`` commands use (one is built from the app when it is not given).
    """

    thread_files: ThreadFiles | None = None
    charts: bool = False
    schedules: ScheduleBook | None = None


#: A platform plug-in: builds its platform from the app, or None when it is not configured.
PlatformFactory = Callable[[App, PlatformContext], "Platform | None"]


def slack_config(settings: Settings) -> SlackConfig:
    """The Slack plug-in's settings, as plain values."""
    from chatbot.delivery.slack import SlackConfig

    secret = settings.slack_signing_secret
    return SlackConfig(
        bot_token=settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None,
        signing_secret=secret.get_secret_value() if secret else None,
        app_token=settings.slack_app_token.get_secret_value() if settings.slack_app_token else None,
        api_url=settings.slack_api_url,
    )


def build_slack(app: App, context: PlatformContext | None = None) -> SlackBot | None:
    """The Slack platform, or None without ``SLACK_BOT_TOKEN``."""
    from chatbot.delivery.slack import build_slack_bot
    from chatbot.delivery.slack.poster import chart_files
    from chatbot.store.events import SQLAlchemySeenEvents

    context = context or PlatformContext()
    return build_slack_bot(
        slack_config(app.settings),
        service=app.service,
        shared_events=SQLAlchemySeenEvents(app.store.engine),
        thread_files=context.thread_files or (chart_files if context.charts else None),
        schedules=context.schedules or build_schedule_book(app),
        schedule_admins=app.settings.schedule_admins,
    )


def build_discord(app: App, context: PlatformContext | None = None) -> Platform | None:
    """The Discord platform, or None without ``DISCORD_TOKEN``."""
    settings = app.settings
    if settings.discord_token is None:
        return None
    from chatbot.delivery.discord import DiscordBot, DiscordDeps
    from chatbot.render.chart import render_chart

    charts = context is not None and context.charts
    book = (context.schedules if context is not None else None) or build_schedule_book(app)
    return DiscordBot(
        token=settings.discord_token.get_secret_value(),
        api_url=settings.discord_api_url,
        guild_id=settings.discord_guild_id,
        deps=DiscordDeps.for_service(
            app.service,
            chart=render_chart if charts else None,
            schedules=book,
            schedule_admins=settings.schedule_admins,
        ),
    )


#: Every platform plug-in, by the name schedule targets use (``slack:#support``).
PLATFORMS: dict[str, PlatformFactory] = {
    "slack": build_slack,
    "discord": build_discord,
}


def build_platforms(app: App, context: PlatformContext | None = None) -> list[Platform]:
    """The configured platforms; one line says which are off."""
    context = context or PlatformContext()
    built: list[Platform] = []
    for name, factory in PLATFORMS.items():
        platform = factory(app, context)
        if platform is None:
            log.info("platform_off", platform=name, hint="its token is not set")
        else:
            built.append(platform)
    return built


def schedules_for(
    settings: Settings, now: datetime, extra_platforms: Sequence[str] = ()
) -> list[Schedule]:
    """The schedules of ``CHATBOT_CONFIG``; targets must name a platform plug-in."""
    from chatbot.scheduling.schedules import load_schedules  # APScheduler: not for reports

    return load_schedules(
        settings.chatbot_config, now, platforms=(*PLATFORMS, *extra_platforms)
    )


def build_schedule_book(
    app: App,
    schedules: Sequence[Schedule] | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> ChatScheduleBook:
    """The schedules of the file (``schedules``, or ``CHATBOT_CONFIG``'s) and of the store."""
    from chatbot.scheduling.chat import ChatScheduleBook
    from chatbot.store.chat_schedules import SQLAlchemyChatSchedules

    if schedules is None:
        schedules = schedules_for(app.settings, clock())
    return ChatScheduleBook(
        store=SQLAlchemyChatSchedules(app.store.engine),
        deliveries=app.deliveries,
        file_schedules=schedules,
        timezone=app.settings.tz,
        clock=clock,
    )


# -- sources --------------------------------------------------------------------------------


def github_config(settings: Settings) -> GitHubConfig:
    """The GitHub source's settings, as plain values."""
    from chatbot.sources.github import GitHubConfig

    token = settings.github_token.get_secret_value() if settings.github_token else None
    key = settings.github_app_private_key
    return GitHubConfig(
        repos=settings.github_repos,
        api_url=settings.github_api_url,
        token=token,
        app_id=settings.github_app_id,
        app_private_key=key.get_secret_value() if key else None,
        app_installation_id=settings.github_app_installation_id,
    )


# -- components -----------------------------------------------------------------------------


def build_components(
    app: App,
    schedules: Sequence[Schedule],
    platforms: Sequence[Platform],
    *,
    clock: Callable[[], datetime] = utc_now,
    book: ChatScheduleBook | None = None,
) -> list[Component]:
    """What runs beside the platforms: the scheduler, the periodic sync.

    The scheduler always runs: schedules made in a chat can appear at any time; its runner
    reads the file's and the store's schedules (``book``) every tick.
    """
    from chatbot.scheduling.runner import DeliveryRunner, RunnerOptions
    from chatbot.scheduling.timer import SchedulerComponent
    from chatbot.server import periodic

    settings = app.settings
    components: list[Component] = []
    book = book or build_schedule_book(app, schedules, clock=clock)
    if not schedules:
        log.info(
            "no_schedules",
            config=str(settings.chatbot_config),
            hint="no schedules in this file (see chatbot.example.toml); schedules made in a"
            " chat (/support-report schedule …) still run",
        )
    # a post must end well before the lease it is made under runs out
    timeout = settings.delivery_lease_seconds / 2
    posters: dict[str, ReportPoster] = {
        p.name: poster
        for p in platforms
        if (poster := p.scheduled_poster(timeout)) is not None
    }
    runner = DeliveryRunner(
        deliveries=app.deliveries,
        service=app.service,
        schedules=schedules,
        posters=posters,
        current=book.schedules,
        options=RunnerOptions(
            lease=timedelta(seconds=settings.delivery_lease_seconds),
            catch_up=timedelta(minutes=settings.catch_up_minutes),
            tick=timedelta(seconds=settings.scheduler_tick_seconds),
        ),
        clock=clock,
    )
    components.append(SchedulerComponent(runner))
    if settings.github_repos:
        from chatbot.sources.github import sync_store

        config = github_config(settings)

        async def sync() -> None:
            # one replica syncs at a time; the others skip this round
            report = await asyncio.to_thread(sync_store, config, app.store, wait=False)
            if not report.skipped:
                log.info("github_synced", summary=report.summary())

        components.append(
            periodic("github-sync", sync, seconds=settings.sync_interval_minutes * 60)
        )
    return components


async def serve(
    app: App,
    *,
    host: str,
    port: int | None = None,
    extra_platforms: Sequence[Platform] = (),
    clock: Callable[[], datetime] = utc_now,
    stopping: asyncio.Event | None = None,
) -> None:
    """``chatbot serve``: the platforms, the scheduler and the sync, until SIGTERM or SIGINT."""
    from chatbot.server import install_signal_handlers, run_server
    from chatbot.store.health import StoreProbe

    settings = app.settings
    schedules = schedules_for(settings, clock(), [p.name for p in extra_platforms])
    book = build_schedule_book(app, schedules, clock=clock)
    context = PlatformContext(charts=True, schedules=book)
    platforms = [*build_platforms(app, context), *extra_platforms]
    components = build_components(app, schedules, platforms, clock=clock, book=book)
    stopping = stopping or asyncio.Event()
    install_signal_handlers(stopping)
    probe = StoreProbe(app.store.engine)
    try:
        await run_server(
            platforms,
            components,
            stopping=stopping,
            health=probe.check,
            host=host,
            port=settings.port if port is None else port,
        )
    finally:
        probe.dispose()
