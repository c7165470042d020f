"""The Slack platform plug-in: the Bolt app, in HTTP mode or Socket Mode, with its listeners.

The mode follows the tokens that are set:

- ``SLACK_BOT_TOKEN`` + ``SLACK_APP_TOKEN``: Socket Mode (no public URL; requests unsigned);
- ``SLACK_BOT_TOKEN`` + ``SLACK_SIGNING_SECRET``: HTTP mode, requests on ``/slack/events``;
- no ``SLACK_BOT_TOKEN``: Slack is off.

In HTTP mode :meth:`SlackBot.handle_http` is the door: :mod:`chatbot.delivery.slack.gate`
checks size, signature and shape on the raw bytes, a replayed slash command (the same
signature again, on any replica) is acked with an empty 200, and only then does Bolt see the
request (its own signature check is off, since nothing unsigned reaches it).

The Web API is reached at ``SLACK_API_URL`` with a client that waits out 429s
(``Retry-After``) and retries dropped connections; a 5xx is not retried, since a post that
failed with one may still have gone through.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from chatbot.core.errors import ConfigError
from chatbot.core.ports import ReportPoster, ScheduleBook
from chatbot.delivery.inflight import Inflight
from chatbot.delivery.slack import listeners
from chatbot.delivery.slack.deps import SlackDeps
from chatbot.delivery.slack.gate import Rejection, RejectionLog, admit
from chatbot.delivery.slack.messages import STORE_UNAVAILABLE
from chatbot.delivery.slack.middleware import (
    RecentEvents,
    SeenOnce,
    SharedEvents,
    drop_duplicate_events,
)
from chatbot.delivery.slack.poster import SlackPoster, ThreadFiles
from chatbot.delivery.slack.scheduled import SlackReportPoster
from chatbot.lazylog import get_logger
from chatbot.service import ReportService

log = get_logger(__name__)

SlackMode = Literal["http", "socket"]
EVENTS_PATH = "/slack/events"
RATE_LIMIT_RETRIES = 3
AUTHORIZE_FAILED = (
    "Slack refused my token (auth.test failed). Whoever runs the bot needs to check"
    " SLACK_BOT_TOKEN (reinstall the app if it was revoked)."
)


@dataclass(frozen=True, kw_only=True, slots=True)
class SlackConfig:
    """What the Slack plug-in needs to know, as plain values (the composition root fills it)."""

    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str = "https://slack.com/api/"


def slack_mode(config: SlackConfig) -> SlackMode | None:
    """Which way Slack reaches the bot, from the tokens set; ``None`` when Slack is off."""
    bot, secret, app_token = config.bot_token, config.signing_secret, config.app_token
    if bot is None:
        if app_token is not None or secret is not None:
            raise ConfigError(["SLACK_BOT_TOKEN: needed with SLACK_APP_TOKEN/SLACK_SIGNING_SECRET"])
        return None
    if app_token is not None:
        if not app_token.startswith("xapp-"):
            raise ConfigError(["SLACK_APP_TOKEN: an app-level token starts with xapp-"])
        return "socket"
    if secret is not None:
        return "http"
    raise ConfigError(
        [
            "SLACK_SIGNING_SECRET: needed for HTTP mode"
            " (or set SLACK_APP_TOKEN for Socket Mode); see docs/slack.md"
        ]
    )


#: Bolt messages that quote the request body, and what is logged instead.
_BODY_QUOTING = {
    "Invalid request signature detected": "slack request with an invalid signature",
    "Unhandled request": "slack request that no listener handles",
    "A global middleware": "slack request a middleware left unanswered",
}


class _BoltLogFilter(logging.Filter):
    """Drop Bolt's notice that a given client wins over ``SLACK_BOT_TOKEN`` (it is the same);
    replace every Bolt message that would quote a request body by a short line without it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "`token` will be unused" in message:
            return False
        for prefix, short in _BODY_QUOTING.items():
            if message.startswith(prefix):
                record.msg, record.args = short, None
        return True


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("slack_bolt.support_report")
    if not any(isinstance(f, _BoltLogFilter) for f in logger.filters):
        logger.addFilter(_BoltLogFilter())
    return logger


def build_web_client(config: SlackConfig) -> AsyncWebClient:
    """The Web API client: ``SLACK_API_URL``, the bot token, 429 and connection retries."""
    return AsyncWebClient(
        token=config.bot_token,
        base_url=config.api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


@dataclass(kw_only=True)
class SlackBot:
    """The running pieces of the Slack front end: a platform of ``chatbot serve``."""

    name = "slack"
    bolt: AsyncApp
    client: AsyncWebClient
    poster: SlackPoster
    deps: SlackDeps
    mode: SlackMode
    seen: SeenOnce = field(default_factory=lambda: SeenOnce(RecentEvents()))
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    rejections: RejectionLog = field(default_factory=RejectionLog, repr=False)
    _socket: AsyncSocketModeHandler | None = field(default=None, repr=False)

    @property
    def inflight(self) -> Inflight:
        """The answers being built right now."""
        return self.deps.inflight

    @property
    def status(self) -> str:
        """``http`` or ``socket``."""
        return self.mode

    def routes(self) -> Sequence[web.RouteDef]:
        """``POST /slack/events`` in HTTP mode; Socket Mode dials out and needs none."""
        return [web.post(EVENTS_PATH, self.handle_http)] if self.mode == "http" else []

    async def drain(self, grace: float) -> int:
        """Let answers in flight finish for up to ``grace`` s; returns how many were cut."""
        return await self.inflight.drain(grace)

    def scheduled_poster(self, post_timeout: float) -> ReportPoster:
        """The poster of scheduled reports: each post ends within ``post_timeout`` s."""
        return SlackReportPoster(self.poster, post_timeout=post_timeout)

    async def handle_http(self, request: web.Request) -> web.Response:
        """aiohttp handler for ``POST /slack/events``: verify, drop replays, dispatch, answer."""
        admitted = (
            await admit(request, self.signing_secret.encode())
            if self.signing_secret
            else Rejection(status=401, reason="no_signing_secret")
        )
        if isinstance(admitted, Rejection):
            self.rejections.note(admitted.status, admitted.reason)
            return admitted.response()
        if admitted.form:
            # Slash commands carry no id of their own; the signature (of timestamp and body)
            # is one, and Slack never sends the same one twice.
            try:
                fresh = await self.seen.first_time("sig:" + admitted.signature.removeprefix("v0="))
            except Exception as exc:
                log.warning("slack_replay_check_failed", platform="slack", error=type(exc).__name__)
                return web.json_response({"response_type": "ephemeral", "text": STORE_UNAVAILABLE})
            if not fresh:
                self.rejections.note(200, "replayed")
                return web.Response(status=200, body=b"")
        bolt_request = AsyncBoltRequest(
            body=admitted.bolt_text, query=request.query_string, headers=dict(request.headers)
        )
        response = await self.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    async def start(self) -> None:
        """Connect to Slack in Socket Mode (nothing to do in HTTP mode)."""
        if self.mode == "socket" and self._socket is None:
            if not self.app_token:
                raise ConfigError(["SLACK_APP_TOKEN: needed for Socket Mode"])
            # The SDK retries a refused connection forever; ask once ourselves so that a bad
            # app token stops start-up with a clear message instead.
            try:
                await self.client.apps_connections_open(app_token=self.app_token)
            except SlackApiError as exc:
                code = exc.response.get("error", "error")
                raise ConfigError(
                    [f"SLACK_APP_TOKEN: Slack refused to open a Socket Mode connection ({code})"]
                ) from None
            handler = AsyncSocketModeHandler(self.bolt, self.app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            self._socket = handler
            log.info("slack_connected", platform="slack", mode="socket")

    async def stop(self) -> None:
        """Disconnect Socket Mode, if connected."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None


def build_slack_bot(
    config: SlackConfig,
    *,
    service: ReportService,
    shared_events: SharedEvents | None = None,
    client: AsyncWebClient | None = None,
    thread_files: ThreadFiles | None = None,
    recent_events: int = 10_000,
    schedules: ScheduleBook | None = None,
    schedule_admins: frozenset[str] = frozenset(),
) -> SlackBot | None:
    """The Slack bot for ``config``, or ``None`` when no Slack token is set.

    Args:
        config: tokens and the Web API URL.
        service: the report use cases the listeners call.
        shared_events: the event ids and signatures seen by every replica (the store's).
        client: a Web API client to use instead of one built from ``config``.
        thread_files: files to upload into each report's thread.
        recent_events: how many event ids and signatures to remember in this process.
        schedules: the schedules the ``schedule`` commands make, list and remove.
        schedule_admins: user ids that may change schedules besides workspace admins.
    """
    mode = slack_mode(config)
    if mode is None:
        return None
    client = client or build_web_client(config)
    bolt = AsyncApp(
        name="support-report",
        logger=_bolt_logger(),
        client=client,
        signing_secret=config.signing_secret or "",
        process_before_response=False,
        user_facing_authorize_error_message=AUTHORIZE_FAILED,
        # handle_http verifies every request on its raw bytes before Bolt sees it; Socket
        # Mode requests are unsigned. (Bolt's own check would log bodies it refuses.)
        request_verification_enabled=False,
    )
    seen = SeenOnce(RecentEvents(recent_events), shared_events)
    bolt.use(drop_duplicate_events(seen))
    poster = SlackPoster(client, thread_files=thread_files)
    deps = SlackDeps(
        service=service, poster=poster, schedules=schedules, schedule_admins=schedule_admins
    )
    listeners.register(bolt, deps)
    return SlackBot(
        bolt=bolt,
        client=client,
        poster=poster,
        deps=deps,
        mode=mode,
        seen=seen,
        signing_secret=config.signing_secret,
        app_token=config.app_token,
    )
