"""The Discord front end: a discord.py client with ``/support-report`` and a mention handler.

:class:`DiscordBot` is built from plain values (token, REST base, optional guild id) and a
:class:`DiscordDeps` (the calendar and "build the report of this period"); it never reads
settings. ``await bot.start()`` logs in (a refused token raises
:class:`~chatbot.delivery.discord.errors.DiscordTokenRefused`, once, no retry loop), takes the
gateway URL from ``GET {api_url}/gateway/bot``, syncs the command (to the guild, at once; or
globally), and connects in a background task; ``await bot.stop()`` closes it.

The client asks for the ``guilds`` and ``guild_messages`` intents only: never the privileged
``message_content``, since Discord delivers the content of messages that mention the bot.

Handlers stay thin: parse with the shared grammar (a period, or a question such as
``waiting`` or ``explain #723``, see :mod:`chatbot.core.questions`), answer or defer at once,
build the report or answer off the loop, render with :mod:`chatbot.render.discord_embeds`
or :mod:`chatbot.render.answers_discord`, send with mentions off. Both handlers route on the
question's kind in the same order: ``schedule`` to
:func:`~chatbot.delivery.discord.schedule_commands.answer_schedule` (a mention is pointed to
the command, which carries the member's permissions), ``help``, a report, then every other
question through ``DiscordDeps.ask``.
With a ``chart`` in the deps, every report (command, mention, scheduled post) carries its
chart as ``chart.png``, shown in the first embed; a chart that fails to draw is logged and
the report goes out without it.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import discord
import structlog
import yarl
from aiohttp import web
from discord import app_commands

from chatbot.core.answers import Answer
from chatbot.core.errors import UserInputError
from chatbot.core.grammar import Calendar
from chatbot.core.periods import Period
from chatbot.core.ports import ReportPoster, ScheduleBook
from chatbot.core.questions import Question, parse_question
from chatbot.core.report import Report
from chatbot.delivery.discord.errors import (
    DiscordTokenRefused,
    DiscordUnavailable,
    answering,
)
from chatbot.delivery.discord.messages import (
    APOLOGY,
    COMMAND,
    COMMON_PERIODS,
    OPTION,
    PRIVATE_MENTION,
    SCHEDULE_BY_COMMAND,
    bad_request_text,
    help_text,
)
from chatbot.delivery.discord.poster import DiscordReportPoster
from chatbot.delivery.discord.schedule_commands import answer_schedule
from chatbot.delivery.inflight import Inflight
from chatbot.lazylog import get_logger
from chatbot.render.answers_discord import render_answer_discord
from chatbot.render.chart import CHART_FILENAME
from chatbot.render.discord_embeds import DiscordMessage, render_discord_message
from chatbot.service import ReportService, SharedBuilds, answer_question

log = get_logger(__name__)

DEFAULT_API_URL = "https://discord.com/api/v10"
#: A 429 asking for a longer wait than this raises instead of sleeping (the poster then gives
#: the post back to the delivery runner, which waits and checks the channel).
MAX_RATELIMIT_WAIT = 10.0
NONE = discord.AllowedMentions.none()


def use_api_url(api_url: str) -> None:
    """Send every REST call of this process to ``api_url`` (``DISCORD_API_URL``).

    discord.py keeps the REST base in one class attribute, ``discord.http.Route.BASE``, read
    when each route is built (interaction callbacks and follow-ups included); this is the
    one place that sets it.
    """
    discord.http.Route.BASE = api_url.rstrip("/")


def intents() -> discord.Intents:
    """``guilds`` and ``guild_messages``: mentions arrive, no privileged intent is asked."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_messages = True
    return chosen


@dataclass(frozen=True, kw_only=True)
class DiscordDeps:
    """What the handlers need: the team calendar, a way to build a period's report,
    (optionally) a way to draw its chart, and a way to answer questions (``waiting``…)."""

    calendar: Callable[[], Calendar]
    build_report: Callable[[Period], Awaitable[Report]]
    chart: Callable[[Report], bytes] | None = None
    ask: Callable[[Question], Awaitable[Answer]] | None = None
    #: the chat's schedules (``schedule …`` commands), and who may change them besides admins
    schedules: ScheduleBook | None = None
    schedule_admins: frozenset[str] = frozenset()
    #: the answers being built, which shutdown lets finish (see :meth:`DiscordBot.drain`)
    inflight: Inflight = field(default_factory=Inflight, repr=False)
    _last: list[tuple[Report, DiscordMessage]] = field(default_factory=list, repr=False)

    def render(self, report: Report, *, with_chart: bool = True) -> DiscordMessage:
        """The message of ``report``; the report just rendered (a shared build) is reused.

        With a chart (and ``with_chart``), the first embed shows ``attachment://chart.png``.
        """
        image = CHART_FILENAME if self.chart is not None and with_chart else None
        if self._last and self._last[0][0] is report and with_chart:
            return self._last[0][1]
        message = render_discord_message(report, image=image)
        if with_chart:
            self._last[:] = [(report, message)]
        return message

    async def attach(self, report: Report) -> tuple[DiscordMessage, list[discord.File]]:
        """The message of ``report`` and the files it carries (its chart, if one is drawn)."""
        if self.chart is None:
            return self.render(report), []
        try:
            png = await asyncio.to_thread(self.chart, report)
        except Exception:  # a chart is a bonus: the report goes out without it
            log.exception("discord_chart_failed", platform="discord")
            return self.render(report, with_chart=False), []
        return self.render(report), [discord.File(io.BytesIO(png), filename=CHART_FILENAME)]

    @classmethod
    def for_service(
        cls,
        service: ReportService,
        *,
        chart: Callable[[Report], bytes] | None = None,
        schedules: ScheduleBook | None = None,
        schedule_admins: frozenset[str] = frozenset(),
    ) -> DiscordDeps:
        """Deps over a :class:`ReportService` (see :class:`SharedBuilds`)."""
        builds = SharedBuilds(service)

        async def ask(question: Question) -> Answer:
            return await answer_question(service, builds.build, question)

        return cls(
            calendar=service.calendar,
            build_report=builds.build,
            chart=chart,
            ask=ask,
            schedules=schedules,
            schedule_admins=schedule_admins,
        )


def _embeds(message: DiscordMessage) -> list[discord.Embed]:
    return [discord.Embed.from_dict(dict(e)) for e in message["embeds"]]


class ReportTree(app_commands.CommandTree[discord.Client]):
    """The command tree; an error no handler caught is logged and answered with an apology."""

    async def on_error(
        self, interaction: discord.Interaction[discord.Client], error: app_commands.AppCommandError
    ) -> None:
        """Log with the traceback; tell the person something went wrong (never the trace)."""
        log.error("discord_command_failed", platform="discord", exc_info=error)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(APOLOGY, ephemeral=True, allowed_mentions=NONE)
            else:
                await interaction.response.send_message(
                    APOLOGY, ephemeral=True, allowed_mentions=NONE
                )
        except discord.HTTPException:
            log.warning("discord_reply_failed", platform="discord")


class SupportReportClient(discord.Client):
    """The discord.py client: command tree, mention handler, gateway from the REST base."""

    def __init__(
        self, deps: DiscordDeps, *, guild_id: int | None = None, guild_ready_timeout: float = 2.0
    ) -> None:
        # The bot never joins voice: no start-up warning about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=intents(),
            allowed_mentions=NONE,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            guild_ready_timeout=guild_ready_timeout,
        )
        self.deps = deps
        self.guild_id = guild_id
        self.tree = ReportTree(self)
        self.tree.add_command(_command(deps))

    async def setup_hook(self) -> None:
        """Take the gateway URL from ``GET /gateway/bot``; sync ``/support-report``."""
        _, url, _ = await self.http.get_bot_gateway()
        # discord.py dials this class attribute (and returns to it after an invalid session).
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        guild = discord.Object(id=self.guild_id) if self.guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.HTTPException as exc:
            log.error(
                "discord_command_sync_failed",
                platform="discord",
                guild=self.guild_id,
                status=exc.status,
                code=exc.code,
                hint="check DISCORD_GUILD_ID; invite the bot with the applications.commands scope",
            )
            return
        log.info(
            "discord_commands_synced",
            platform="discord",
            scope="guild" if guild else "global",
            guild=self.guild_id,
            commands=[c.name for c in synced],
        )

    async def on_message(self, message: discord.Message) -> None:
        """Answer a message that mentions the bot; ignore everything else."""
        if self.user is None or message.author.bot or not self._mentions_me(message):
            return
        await answer_mention(self.deps, message)

    def _mentions_me(self, message: discord.Message) -> bool:
        me = self.user
        if me is None:
            return False
        if any(user.id == me.id for user in message.mentions):
            return True
        own = message.guild.self_role if message.guild is not None else None
        return own is not None and own in message.role_mentions


def _command(deps: DiscordDeps) -> app_commands.Command[app_commands.Group, ..., None]:
    @app_commands.command(
        name=COMMAND, description="A support report for a period, a question, or a schedule"
    )
    @app_commands.describe(
        request="last-week, 2025-04-21..2025-04-27 … (add private); waiting, trend, help…"
    )
    async def support_report(interaction: discord.Interaction, request: str = "") -> None:
        await answer_command(deps, interaction, request)

    @support_report.autocomplete(OPTION)
    async def complete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return period_choices(current)

    return support_report


def period_choices(current: str) -> list[app_commands.Choice[str]]:
    """The common periods and questions that contain what was typed so far (all when nothing)."""
    typed = current.strip().lower()
    found = [p for p in COMMON_PERIODS if typed in p] or list(COMMON_PERIODS)
    return [app_commands.Choice(name=p, value=p) for p in found[:25]]


async def answer_command(deps: DiscordDeps, interaction: discord.Interaction, text: str) -> None:
    """Parse; answer a bad period or help at once; else defer, build, follow up with embeds."""
    channel = str(interaction.channel_id or "")
    started = time.perf_counter()
    with (
        structlog.contextvars.bound_contextvars(
            platform="discord", channel=channel, command=f"/{COMMAND}"
        ),
        deps.inflight.track(),
    ):
        try:
            request = parse_question(text, deps.calendar(), free_text=False)
        except UserInputError as exc:
            await interaction.response.send_message(
                bad_request_text(str(exc)), ephemeral=True, allowed_mentions=NONE
            )
            log.info("discord_command_done", outcome="bad_request", problem=str(exc))
            return
        if request.kind == "schedule":
            await answer_schedule(
                deps.schedules, deps.schedule_admins, deps.calendar(), interaction, text
            )
            log.info("discord_command_done", outcome="schedule")
            return
        if request.kind == "help" or (request.period is None and request.kind != "waiting"):
            await interaction.response.send_message(
                help_text(), ephemeral=True, allowed_mentions=NONE
            )
            log.info("discord_command_done", outcome="help")
            return
        await interaction.response.defer(ephemeral=request.private, thinking=True)
        deferred_ms = round((time.perf_counter() - started) * 1000)

        async def say(line: str) -> None:
            await interaction.followup.send(line, ephemeral=request.private, allowed_mentions=NONE)

        outcome = "failed"
        period = request.period
        async with answering(say):
            if request.kind != "report" or period is None:
                answer = render_answer_discord(await _ask(deps, request))
                await interaction.followup.send(
                    embeds=_embeds(answer), ephemeral=request.private, allowed_mentions=NONE
                )
                outcome = "answered"
            else:
                message, files = await deps.attach(await deps.build_report(period))
                await interaction.followup.send(
                    embeds=_embeds(message),
                    files=files or discord.utils.MISSING,
                    ephemeral=request.private,
                    allowed_mentions=NONE,
                )
                outcome = "posted"
        log.info(
            "discord_command_done",
            outcome=outcome,
            question=request.kind,
            period=None if period is None else period.label,
            private=request.private,
            deferred_ms=deferred_ms,
            ms=round((time.perf_counter() - started) * 1000),
        )


async def answer_mention(deps: DiscordDeps, message: discord.Message) -> None:
    """Reply to a mention with the report of the period it names, or with help."""
    started = time.perf_counter()

    async def say(line: str) -> None:
        await message.reply(line, allowed_mentions=NONE, mention_author=False)

    with (
        structlog.contextvars.bound_contextvars(
            platform="discord", channel=str(message.channel.id), command="mention"
        ),
        deps.inflight.track(),
    ):
        outcome = "failed"
        period_label: str | None = None
        async with answering(say):
            request = parse_question(message.content, deps.calendar(), free_text=True)
            if request.kind == "schedule":  # changes need the command's permissions
                await say(SCHEDULE_BY_COMMAND)
                outcome = "schedule_by_command"
            elif request.kind == "help":
                await say(help_text())
                outcome = "help"
            elif request.private:
                await say(PRIVATE_MENTION)
                outcome = "private_refused"
            elif request.kind != "report" or request.period is None:
                answer = render_answer_discord(await _ask(deps, request))
                await message.reply(
                    embeds=_embeds(answer), allowed_mentions=NONE, mention_author=False
                )
                outcome = "answered"
            else:
                period_label = request.period.label
                rendered, files = await deps.attach(await deps.build_report(request.period))
                await message.reply(
                    embeds=_embeds(rendered),
                    files=files or discord.utils.MISSING,
                    allowed_mentions=NONE,
                    mention_author=False,
                )
                outcome = "posted"
        log.info(
            "discord_mention_done",
            outcome=outcome,
            period=period_label,
            ms=round((time.perf_counter() - started) * 1000),
        )


async def _ask(deps: DiscordDeps, question: Question) -> Answer:
    if deps.ask is None:
        raise RuntimeError("these Discord deps answer no question; build them with for_service")
    return await deps.ask(question)


class DiscordBot:
    """The Discord plug-in's lifecycle: ``start`` (login, sync, connect) and ``stop``.

    It has the shape of a platform of ``chatbot serve`` (:class:`chatbot.server.Platform`):
    it dials out to the gateway, so it mounts no HTTP route.
    """

    name = "discord"
    platform = "discord"

    def __init__(
        self,
        *,
        token: str,
        deps: DiscordDeps,
        api_url: str = DEFAULT_API_URL,
        guild_id: int | None = None,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        """Build the client; nothing is sent before :meth:`start`.

        ``guild_ready_timeout`` is how long discord.py waits after the last GUILD_CREATE
        before it says ready (its own default, 2 s).
        """
        self._token = token
        self.api_url = api_url
        self.client = SupportReportClient(
            deps, guild_id=guild_id, guild_ready_timeout=guild_ready_timeout
        )
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"DiscordBot(api_url={self.api_url!r}, guild_id={self.client.guild_id!r})"

    async def start(self) -> None:
        """Log in, sync the command, and connect to the gateway in a background task.

        Raises:
            DiscordTokenRefused: Discord answered 401 to the token (never retried).
            DiscordUnavailable: Discord could not be reached (network, 5xx after retries).
        """
        use_api_url(self.api_url)
        try:
            await self.client.login(self._token)
        except discord.LoginFailure:
            await self.client.close()
            raise DiscordTokenRefused() from None
        except (discord.HTTPException, discord.GatewayNotFound, OSError) as exc:
            await self.client.close()
            raise DiscordUnavailable(type(exc).__name__) from None
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="discord")

    async def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the gateway said READY; re-raise if the connection ended first."""
        if self._task is None:
            raise RuntimeError("start() the bot first")
        ready = asyncio.ensure_future(self.client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._task}, timeout=timeout, return_when="FIRST_COMPLETED"
        )
        if ready not in done:
            ready.cancel()
            if self._task in done:
                self._task.result()
            raise TimeoutError("Discord gateway did not say READY")

    @property
    def status(self) -> str:
        """``gateway`` once READY, ``connecting`` before."""
        return "gateway" if self.client.is_ready() else "connecting"

    def routes(self) -> Sequence[web.RouteDef]:
        """None: Discord is reached through the gateway the bot dials."""
        return []

    async def drain(self, grace: float) -> int:
        """Let the answers being built finish for up to ``grace`` s (the gateway stays up to
        send them); returns how many were cut short."""
        return await self.client.deps.inflight.drain(grace)

    def scheduled_poster(self, post_timeout: float) -> ReportPoster:
        """The poster of scheduled reports: each post ends within ``post_timeout`` s."""
        return DiscordReportPoster(
            self.client, post_timeout=post_timeout, chart=self.client.deps.chart
        )

    @property
    def connection(self) -> asyncio.Task[None] | None:
        """The gateway task: it ends (raising) if the connection fails for good."""
        return self._task

    async def stop(self) -> None:
        """Close the gateway and the HTTP session; wait for the connection task to end."""
        await self.client.close()
        if self._task is not None:
            try:
                await self._task
            except Exception as exc:  # the connection's own failure, already over
                log.info("discord_connection_ended", platform="discord", error=type(exc).__name__)
