"""The Slack bot through the real protocol: signed HTTP requests in, Web API calls out.

Each test starts ``run_server`` on 127.0.0.1 (a free port) with the demo tickets and a
fake Slack Web API (``tests/fakes/slack_api.py``) reached through ``SLACK_API_URL``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio
import structlog
from slack_sdk.signature import SignatureVerifier
from structlog.testing import LogCapture, capture_logs
from structlog.typing import EventDict

from chatbot.app import App, PlatformContext, build_app, build_slack, slack_config
from chatbot.config import Settings, load_settings
from chatbot.core.errors import ConfigError
from chatbot.core.grammar import parse_period
from chatbot.core.report import Report
from chatbot.delivery.slack import SlackBot, ThreadFile, delivery_metadata, slack_mode
from chatbot.server import Listening, periodic, run_server
from chatbot.store import make_engine
from chatbot.store.events import SQLAlchemySeenEvents
from tests.fakes.slack_api import APP_TOKEN, BOT_USER_ID, TOKEN, Call, FakeSlack, FakeSocketMode

SECRET = "test-signing-secret"
CHANNEL = "C0REPORTS"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file with the demo tickets, loaded once for the module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('slack') / 'demo.db'}"
    build_app(load_settings(None, database_url=url)).store.engine.dispose()
    return url


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A fresh fake Slack Web API."""
    with FakeSlack() as server:
        yield server


@dataclass
class Runtime:
    """One serve loop of these tests: the app, its Slack platform, the stop signal."""

    app: App
    slack: SlackBot | None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def serve(self, **options: Any) -> Any:
        """``run_server`` with this Slack bot as the one platform."""
        platforms = [self.slack] if self.slack is not None else []
        return run_server(platforms, stopping=self.stopping, host="127.0.0.1", port=0, **options)


@dataclass
class Bot:
    """The running bot and ways to talk to it as Slack would."""

    app: App
    runtime: Runtime
    fake: FakeSlack
    session: aiohttp.ClientSession
    port: int
    last_ts: int = 2**62

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, dict[str, str]]:
        if timestamp is None:
            # now, or a second before the last: the same body twice in one second is a replay
            timestamp = self.last_ts = min(int(time.time()), self.last_ts - 1)
        ts = str(timestamp)
        signature = str(SignatureVerifier(secret).generate_signature(timestamp=ts, body=body))
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        async with self.session.post(
            f"{self.url}/slack/events", data=body.encode(), headers=sent
        ) as response:
            return response.status, await response.text(), dict(response.headers)

    async def slash(self, text: str, **options: Any) -> tuple[int, str, dict[str, str]]:
        form = {
            "token": "legacy",
            "team_id": "T0001",
            "team_domain": "fake",
            "channel_id": CHANNEL,
            "channel_name": "support",
            "user_id": "U0ASKER",
            "user_name": "asker",
            "command": "/support-report",
            "text": text,
            "api_app_id": "A0001",
            "response_url": self.fake.response_url("r1"),
            "trigger_id": "1.2.3",
        }
        return await self.send(urlencode(form), "application/x-www-form-urlencoded", **options)

    async def mention(
        self,
        text: str,
        *,
        event_id: str = "Ev001",
        ts: str = "1700000100.000100",
        thread_ts: str | None = None,
        **options: Any,
    ) -> tuple[int, str, dict[str, str]]:
        event: dict[str, Any] = {
            "type": "app_mention",
            "user": "U0ASKER",
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": ts,
            "channel": CHANNEL,
            "event_ts": ts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        body = {
            "token": "legacy",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1700000100,
            "authorizations": [{"team_id": "T0001", "user_id": BOT_USER_ID, "is_bot": True}],
        }
        return await self.send(json.dumps(body), "application/json", **options)

    async def idle(self) -> None:
        """Let scheduled listeners start, then wait for every answer in flight."""
        await asyncio.sleep(0.05)
        slack = self.runtime.slack
        assert slack is not None
        assert await slack.inflight.drain(10) == 0

    def report(self, period: str) -> Report:
        return self.app.service.build_report(parse_period(period, self.app.service.calendar()))


def _settings(demo_db: str, fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": demo_db,
        "slack_bot_token": TOKEN,
        "slack_signing_secret": SECRET,
        "slack_api_url": fake.api_url,
        **overrides,
    }
    return load_settings(None, **values)


@pytest_asyncio.fixture
async def start_bot(demo_db: str, fake: FakeSlack) -> AsyncIterator[Callable[..., Any]]:
    """Start the server on a free port; stopped (cleanly) at the end of the test."""
    running: list[tuple[asyncio.Task[None], Runtime]] = []
    session = aiohttp.ClientSession()
    seen = SQLAlchemySeenEvents(make_engine(demo_db))
    seen.forget_before(datetime.now(UTC) + timedelta(days=1))  # each test starts unseen
    seen.engine.dispose()

    async def start(
        thread_files: Callable[[Report], Sequence[ThreadFile]] | None = None,
        socket_url: str | None = None,
        **overrides: Any,
    ) -> Bot:
        if socket_url is not None:
            fake.socket_url = socket_url
        app = build_app(_settings(demo_db, fake, **overrides))
        slack = build_slack(app, PlatformContext(thread_files=thread_files))
        runtime = Runtime(app=app, slack=slack)
        ready: asyncio.Future[Listening] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(runtime.serve(on_ready=ready.set_result))
        running.append((task, runtime))
        listening = await asyncio.wait_for(ready, 10)
        return Bot(app=app, runtime=runtime, fake=fake, session=session, port=listening.port)

    yield start
    for task, runtime in running:
        runtime.stopping.set()
        await asyncio.wait_for(task, 15)
        runtime.app.store.engine.dispose()
    await session.close()


@contextmanager
def logs_with_context() -> Iterator[list[EventDict]]:
    """Like ``capture_logs``, but with the contextvars (platform, channel, command) merged in."""
    capture = LogCapture()
    processors = structlog.get_config()["processors"]
    saved = list(processors)
    processors[:] = [structlog.contextvars.merge_contextvars, capture]
    structlog.configure(processors=processors)
    try:
        yield capture.entries
    finally:
        processors[:] = saved
        structlog.configure(processors=processors)


def _posts(fake: FakeSlack, *, top_level: bool | None = None) -> list[Call]:
    calls = fake.calls("chat.postMessage")
    if top_level is None:
        return calls
    return [c for c in calls if (c.body.get("thread_ts") is None) == top_level]


def _header(call: Call) -> str:
    return str(next(b["text"]["text"] for b in call.blocks if b["type"] == "header"))


@pytest.mark.asyncio
async def test_healthz_answers_ok(start_bot: Callable[..., Any]) -> None:
    """GET /healthz says ok and which Slack mode runs."""
    bot = await start_bot()
    async with bot.session.get(f"{bot.url}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "slack": "http"}


@pytest.mark.asyncio
async def test_slash_command_acks_then_posts_report_to_channel(
    start_bot: Callable[..., Any],
) -> None:
    """A valid command is acked with the resolved dates, then the report lands in the channel."""
    bot = await start_bot()
    status, body, _ = await bot.slash("last-week")
    expected = bot.report("last-week")
    assert status == 200
    ack = json.loads(body)
    assert ack["text"] == f"Working on the report for {expected.period.describe()}…"
    assert ack.get("response_type", "ephemeral") == "ephemeral"
    await bot.fake.wait_for("chat.postMessage", 2)
    await bot.idle()
    [main] = _posts(bot.fake, top_level=True)
    assert main.body["channel"] == CHANNEL
    assert main.headers["authorization"] == f"Bearer {TOKEN}"
    assert expected.period.describe() in _header(main)
    assert f"{expected.figures.received} received" in main.body["text"]
    replies = _posts(bot.fake, top_level=False)
    main_ts = bot.fake.posted(CHANNEL)[0]["ts"]
    assert replies
    assert all(r.body["thread_ts"] == main_ts for r in replies)
    assert "*By label*" in replies[0].text_everywhere()


@pytest.mark.asyncio
async def test_forged_signature_is_refused(start_bot: Callable[..., Any]) -> None:
    """A request signed with another secret gets 401 and reaches no handler."""
    bot = await start_bot()
    status, _, _ = await bot.slash("last-week", secret="not-the-secret")
    await asyncio.sleep(0.2)
    assert status == 401
    assert bot.fake.calls() == []


@pytest.mark.asyncio
async def test_stale_timestamp_is_refused(start_bot: Callable[..., Any]) -> None:
    """A correctly signed request older than five minutes gets 401 and reaches no handler."""
    bot = await start_bot()
    status, _, _ = await bot.slash("last-week", timestamp=int(time.time()) - 301)
    status_event, _, _ = await bot.mention("last week", timestamp=int(time.time()) - 600)
    await asyncio.sleep(0.2)
    assert (status, status_event) == (401, 401)
    assert bot.fake.calls() == []


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["help", "", "  "])
async def test_help_and_empty_list_accepted_forms(start_bot: Callable[..., Any], text: str) -> None:
    """`help` or nothing answers with the accepted periods, and posts nothing."""
    bot = await start_bot()
    status, body, _ = await bot.slash(text)
    await bot.idle()
    assert status == 200
    answer = json.loads(body)["text"]
    assert "`last-week`" in answer
    assert "`YYYY-MM-DD..YYYY-MM-DD`" in answer
    assert "private" in answer
    assert _posts(bot.fake) == []


@pytest.mark.asyncio
async def test_bad_period_says_what_was_wrong(start_bot: Callable[..., Any]) -> None:
    """A bad period gets one line naming the problem and what is accepted; nothing posted."""
    bot = await start_bot()
    status, body, _ = await bot.slash("fortnight <!channel>")
    await bot.idle()
    answer = json.loads(body)["text"]
    assert status == 200
    assert "is not a period" in answer
    assert "Accepted: today, yesterday" in answer
    assert "\n" not in answer
    assert "Traceback" not in answer
    assert "<!channel>" not in answer
    assert _posts(bot.fake) == []


@pytest.mark.asyncio
async def test_private_report_goes_only_to_the_caller(start_bot: Callable[..., Any]) -> None:
    """`private` shows the report through the response_url, ephemeral, and posts nothing."""
    bot = await start_bot()
    await bot.slash("yesterday private")
    await bot.fake.wait_for("response_url", 1)
    await bot.idle()
    responses = bot.fake.calls("response_url")
    assert all(r.body["response_type"] == "ephemeral" for r in responses)
    assert bot.report("yesterday").period.describe() in _header(responses[0])
    assert _posts(bot.fake) == []


@pytest.mark.asyncio
async def test_mention_is_answered_in_its_thread(start_bot: Callable[..., Any]) -> None:
    """ "what happened yesterday?" gets yesterday's report in the mention's thread."""
    bot = await start_bot()
    status, _, _ = await bot.mention("what happened yesterday?", ts="1700000100.000100")
    assert status == 200
    await bot.fake.wait_for("chat.postMessage", 2)
    await bot.idle()
    posts = _posts(bot.fake)
    assert all(p.body["thread_ts"] == "1700000100.000100" for p in posts)
    assert bot.report("yesterday").period.describe() in _header(posts[0])


@pytest.mark.asyncio
async def test_mention_inside_a_thread_answers_in_that_thread(
    start_bot: Callable[..., Any],
) -> None:
    """A mention in a thread is answered in that thread, not a new one."""
    bot = await start_bot()
    await bot.mention("last 14 days please", ts="1700000200.000200", thread_ts="1700000001.000001")
    await bot.fake.wait_for("chat.postMessage", 2)
    await bot.idle()
    posts = _posts(bot.fake)
    assert {p.body["thread_ts"] for p in posts} == {"1700000001.000001"}
    assert bot.report("last-14-days").period.describe() in _header(posts[0])


@pytest.mark.asyncio
async def test_mention_without_a_period_gets_help_in_thread(
    start_bot: Callable[..., Any],
) -> None:
    """A mention with no period is answered with the accepted forms, in its thread."""
    bot = await start_bot()
    await bot.mention("hello there", ts="1700000300.000300")
    [reply] = await bot.fake.wait_for("chat.postMessage", 1)
    await bot.idle()
    assert reply.body["thread_ts"] == "1700000300.000300"
    assert "`last-week`" in reply.body["text"]
    assert len(_posts(bot.fake)) == 1


@pytest.mark.asyncio
async def test_private_mention_is_shown_only_to_its_author(start_bot: Callable[..., Any]) -> None:
    """ "yesterday, privately" shows the report to the author only, in the thread."""
    bot = await start_bot()
    await bot.mention("yesterday, privately please", ts="1700000400.000400")
    shown = await bot.fake.wait_for("chat.postEphemeral", 2)
    await bot.idle()
    assert {c.body["user"] for c in shown} == {"U0ASKER"}
    assert {c.body["thread_ts"] for c in shown} == {"1700000400.000400"}
    assert _posts(bot.fake) == []


@pytest.mark.asyncio
async def test_mention_with_a_bad_period_says_why_in_thread(start_bot: Callable[..., Any]) -> None:
    """ "last 500 days" is answered in the thread with the limit, not silence."""
    bot = await start_bot()
    await bot.mention("report for the last 500 days", ts="1700000500.000500")
    [reply] = await bot.fake.wait_for("chat.postMessage", 1)
    await bot.idle()
    assert reply.body["thread_ts"] == "1700000500.000500"
    assert "N must be 1 to 366" in reply.body["text"]
    assert len(_posts(bot.fake)) == 1


@pytest.mark.asyncio
async def test_url_verification_challenge_is_answered(start_bot: Callable[..., Any]) -> None:
    """Slack's signed url_verification request (app setup) gets its challenge back."""
    bot = await start_bot()
    body = json.dumps({"token": "t", "challenge": "abc123", "type": "url_verification"})
    status, answer, _ = await bot.send(body, "application/json")
    assert status == 200
    assert json.loads(answer) == {"challenge": "abc123"}


@pytest.mark.asyncio
async def test_event_retry_is_answered_once(start_bot: Callable[..., Any]) -> None:
    """Slack's retry of an event (X-Slack-Retry-Num) does not produce a second report."""
    bot = await start_bot()
    await bot.mention("report for this month", event_id="EvRETRY")
    status, _, headers = await bot.mention(
        "report for this month",
        event_id="EvRETRY",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    await bot.fake.wait_for("chat.postMessage", 2)
    await bot.idle()
    assert status == 200
    assert headers.get("x-slack-no-retry") == "1"
    assert len([p for p in _posts(bot.fake) if p.blocks and p.blocks[0]["type"] == "header"]) == 1


@pytest.mark.asyncio
async def test_duplicate_event_id_is_answered_once(start_bot: Callable[..., Any]) -> None:
    """The same event_id delivered twice at once is answered once."""
    bot = await start_bot()
    await asyncio.gather(
        bot.mention("yesterday", event_id="EvDUP"), bot.mention("yesterday", event_id="EvDUP")
    )
    await bot.fake.wait_for("chat.postMessage", 2)
    await bot.idle()
    headers = [p for p in _posts(bot.fake) if p.blocks and p.blocks[0]["type"] == "header"]
    assert len(headers) == 1


@pytest.mark.asyncio
async def test_retry_to_another_replica_is_not_answered_again(
    start_bot: Callable[..., Any],
) -> None:
    """An event answered by one replica and retried to another is answered once."""
    first, second = await start_bot(), await start_bot()
    await first.mention("yesterday", event_id="EvMOVED")
    await first.fake.wait_for("chat.postMessage", 2)
    await first.idle()
    status, _, headers = await second.mention(
        "yesterday", event_id="EvMOVED", headers={"X-Slack-Retry-Num": "1"}
    )
    await second.idle()
    assert status == 200
    assert headers.get("x-slack-no-retry") == "1"
    answers = [p for p in _posts(first.fake) if p.blocks and p.blocks[0]["type"] == "header"]
    assert len(answers) == 1


@pytest.mark.asyncio
async def test_retry_of_an_event_never_seen_is_answered(start_bot: Callable[..., Any]) -> None:
    """A retry whose first delivery never arrived is answered (once)."""
    bot = await start_bot()
    await bot.mention("yesterday", event_id="EvLOST", headers={"X-Slack-Retry-Num": "2"})
    await bot.fake.wait_for("chat.postMessage", 2)
    await bot.idle()
    headers = [p for p in _posts(bot.fake) if p.blocks and p.blocks[0]["type"] == "header"]
    assert len(headers) == 1


@pytest.mark.asyncio
async def test_rate_limit_waits_for_retry_after(start_bot: Callable[..., Any]) -> None:
    """A 429 with Retry-After: 1 delays the post by a second; the report still arrives once."""
    bot = await start_bot()
    bot.fake.fail("chat.postMessage", status=429, retry_after=1)
    await bot.slash("yesterday")
    await bot.fake.wait_for("chat.postMessage", 3)
    await bot.idle()
    first, second = _posts(bot.fake)[:2]
    assert second.at - first.at >= 0.95
    assert len([p for p in _posts(bot.fake) if p.body.get("thread_ts") is None]) == 2
    assert bot.fake.calls("response_url") == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("not_in_channel", "/invite @support-report"),
        ("channel_not_found", "/invite @support-report"),
        ("invalid_auth", "SLACK_BOT_TOKEN"),
    ],
)
async def test_slack_refusal_is_reported_to_the_user(
    start_bot: Callable[..., Any], error: str, words: str
) -> None:
    """An ok:false from chat.postMessage reaches the asker via response_url and the log."""
    bot = await start_bot()
    bot.fake.fail("chat.postMessage", error=error)
    with capture_logs() as logs:
        await bot.slash("yesterday")
        [reply] = await bot.fake.wait_for("response_url", 1)
        await bot.idle()
    assert words in reply.body["text"]
    assert error in reply.body["text"]
    assert reply.body["response_type"] == "ephemeral"
    [line] = [e for e in logs if e["event"] == "slack_api_error"]
    assert line["error"] == error
    assert line["method"] == "chat.postMessage"
    assert TOKEN not in json.dumps(logs, default=str)


@pytest.mark.asyncio
async def test_server_error_is_reported_to_the_user(start_bot: Callable[..., Any]) -> None:
    """A 503 from Slack becomes a "try again" line for the asker, not silence."""
    bot = await start_bot()
    bot.fake.fail("chat.postMessage", status=503)
    await bot.slash("yesterday")
    [reply] = await bot.fake.wait_for("response_url", 1)
    assert "HTTP 503" in reply.body["text"]


@pytest.mark.asyncio
async def test_refused_token_at_start_says_so(demo_db: str, start_bot: Callable[..., Any]) -> None:
    """With a token Slack refuses, the command is answered with what to check."""
    bot = await start_bot(slack_bot_token="xoxb-wrong")
    status, body, _ = await bot.slash("yesterday")
    assert status == 200
    assert "SLACK_BOT_TOKEN" in body
    assert _posts(bot.fake) == []


@pytest.mark.asyncio
async def test_unexpected_error_gets_an_apology_and_a_traceback(
    start_bot: Callable[..., Any],
) -> None:
    """A crash after the ack is logged with its traceback; the asker gets a short apology."""

    def broken_chart(_report: Report) -> Sequence[ThreadFile]:
        raise RuntimeError("chart renderer exploded")

    bot = await start_bot(thread_files=broken_chart)
    with logs_with_context() as logs:
        await bot.slash("yesterday")
        [reply] = await bot.fake.wait_for("response_url", 1)
        await bot.idle()
    assert reply.body["text"].startswith("Sorry, something went wrong")
    assert "exploded" not in reply.body["text"]
    [failure] = [e for e in logs if e["event"] == "slack_request_failed"]
    assert failure["exc_info"] is True
    assert (failure["platform"], failure["channel"], failure["command"]) == (
        "slack",
        CHANNEL,
        "/support-report",
    )


@pytest.mark.asyncio
async def test_chart_is_uploaded_into_the_report_thread(start_bot: Callable[..., Any]) -> None:
    """Files from the thread_files hook go into the report's thread with files_upload_v2."""
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    bot = await start_bot(
        thread_files=lambda r: [ThreadFile(filename="chart.png", content=png, title="Chart")]
    )
    await bot.slash("last-week")
    [done] = await bot.fake.wait_for("files.completeUploadExternal", 1)
    await bot.idle()
    [main] = _posts(bot.fake, top_level=True)
    ts = bot.fake.posted(CHANNEL)[0]["ts"]
    assert done.body["thread_ts"] == ts
    assert done.body["channel_id"] == CHANNEL
    assert list(bot.fake.uploaded().values()) == [png]
    assert main.body["channel"] == CHANNEL


@pytest.mark.asyncio
async def test_posted_report_is_found_by_its_delivery_key(start_bot: Callable[..., Any]) -> None:
    """A report posted with delivery metadata can be found again in the channel's history."""
    bot = await start_bot()
    slack = bot.runtime.slack
    assert slack is not None
    posted = await slack.poster.post_report(
        bot.report("yesterday"), channel=CHANNEL, metadata=delivery_metadata("daily:C0:2025-04-24")
    )
    assert await slack.poster.find_delivery(CHANNEL, "daily:C0:2025-04-24") == posted.ts
    assert await slack.poster.find_delivery(CHANNEL, "daily:C0:2025-04-25") is None
    history = bot.fake.calls("conversations.history")[0]
    assert history.body["include_all_metadata"] in ("1", "true", True)


@pytest.mark.asyncio
async def test_shutdown_lets_answers_in_flight_finish(start_bot: Callable[..., Any]) -> None:
    """Stopping right after an ack still delivers the report before the server exits."""
    bot = await start_bot()
    await bot.slash("last-week")
    bot.runtime.stopping.set()
    for _ in range(500):
        if len(_posts(bot.fake, top_level=True)) == 1:
            break
        await asyncio.sleep(0.01)
    assert len(_posts(bot.fake, top_level=True)) == 1


@pytest.mark.asyncio
async def test_socket_mode_answers_a_slash_command(start_bot: Callable[..., Any]) -> None:
    """With SLACK_APP_TOKEN the bot connects over Socket Mode, acks the envelope and posts."""
    socket = FakeSocketMode()
    try:
        fake_url = await socket.start()
        bot = await start_bot(slack_app_token=APP_TOKEN, socket_url=fake_url)
        await asyncio.wait_for(socket.connected.wait(), 5)
        await socket.send(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "team_id": "T0001",
                    "channel_id": CHANNEL,
                    "user_id": "U0ASKER",
                    "command": "/support-report",
                    "text": "yesterday",
                    "response_url": bot.fake.response_url("r1"),
                    "trigger_id": "1.2.3",
                },
            }
        )
        ack = await socket.wait_ack("env-1")
        await bot.fake.wait_for("chat.postMessage", 2)
        await bot.idle()
    finally:
        await socket.stop()
    assert ack["payload"]["text"].startswith("Working on the report for")
    open_call = bot.fake.calls("apps.connections.open")[0]
    assert open_call.headers["authorization"] == f"Bearer {APP_TOKEN}"
    assert _posts(bot.fake, top_level=True)[0].body["channel"] == CHANNEL


@pytest.mark.asyncio
async def test_refused_app_token_stops_start_up_with_a_clear_error(
    demo_db: str, fake: FakeSlack
) -> None:
    """A Socket Mode token Slack refuses ends start-up with a ConfigError naming the variable."""
    app = build_app(_settings(demo_db, fake, slack_app_token="xapp-wrong"))
    runtime = Runtime(app=app, slack=build_slack(app))
    with pytest.raises(ConfigError, match=r"SLACK_APP_TOKEN.*invalid_auth"):
        await runtime.serve()
    app.store.engine.dispose()


@pytest.mark.asyncio
async def test_extensions_run_beside_slack_until_shutdown(demo_db: str, fake: FakeSlack) -> None:
    """Components from extensions start after the web server and stop, in reverse, at SIGTERM."""
    events: list[str] = []

    class Recorder:
        def __init__(self, name: str) -> None:
            self.name = name

        async def start(self) -> None:
            events.append(f"start {self.name}")

        async def stop(self) -> None:
            events.append(f"stop {self.name}")

    async def sync_once() -> None:
        events.append("sync")

    app = build_app(_settings(demo_db, fake))
    runtime = Runtime(app=app, slack=build_slack(app))
    server = asyncio.create_task(
        runtime.serve(
            components=[
                Recorder("scheduler"),
                periodic("sync", sync_once, seconds=3600),
                Recorder("discord"),
            ],
        )
    )
    while "sync" not in events or "start discord" not in events:
        await asyncio.sleep(0.01)
    runtime.stopping.set()
    await asyncio.wait_for(server, 10)
    app.store.engine.dispose()
    assert [e for e in events if e != "sync"] == [
        "start scheduler",
        "start discord",
        "stop discord",
        "stop scheduler",
    ]
    assert events.count("sync") == 1


def test_slack_mode_follows_the_tokens() -> None:
    """Bot token + signing secret is HTTP, + app token is Socket Mode, nothing is off."""
    assert slack_mode(slack_config(load_settings(None))) is None
    http = load_settings(None, slack_bot_token="xoxb-1", slack_signing_secret="s")
    assert slack_mode(slack_config(http)) == "http"
    socket = load_settings(None, slack_bot_token="xoxb-1", slack_app_token="xapp-1")
    assert slack_mode(slack_config(socket)) == "socket"
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        slack_mode(slack_config(load_settings(None, slack_bot_token="xoxb-1")))


def test_manifest_declares_command_events_and_scopes() -> None:
    """slack/manifest.yml creates /support-report, app_mention and the scopes the bot uses."""
    text = (Path(__file__).parents[1] / "slack" / "manifest.yml").read_text()
    for needed in ("/support-report", "app_mention", "chat:write", "commands", "files:write"):
        assert needed in text


@pytest.mark.asyncio
async def test_ten_last_week_commands_on_two_replicas_ask_the_model_once(
    start_bot: Callable[..., Any], demo_db: str
) -> None:
    """Ten `/support-report last-week`, spread over two replicas on one store: one model call.

    Every one of the ten posted reports shows the model's analysis, kept in the store.
    """
    from sqlalchemy import delete

    from chatbot.store.tables import model_answers
    from tests.fakes.openai_api import FakeOpenAI

    engine = make_engine(demo_db)
    with engine.begin() as conn:
        conn.execute(delete(model_answers))  # the module's store starts with no answer
    engine.dispose()
    with FakeOpenAI("good") as model:
        model_settings = {
            "openai_api_key": "sk-test",
            "openai_base_url": model.base_url,
            "openai_model": "fake-model",
        }
        bots = [await start_bot(**model_settings), await start_bot(**model_settings)]
        now = int(time.time())  # ten distinct signatures: a repeated one is a replay
        answers = await asyncio.gather(
            *(bots[i % 2].slash("last-week", timestamp=now - i) for i in range(10))
        )
        assert [status for status, _, _ in answers] == [200] * 10
        await bots[0].fake.wait_for("chat.postMessage", 10)
        for bot in bots:
            await bot.idle()
        assert len(model.requests) == 1
    posts = _posts(bots[0].fake, top_level=False) + _posts(bots[0].fake, top_level=True)
    note = "Analysis: Themes and recommendations by the model fake-model"
    assert len(_posts(bots[0].fake, top_level=True)) == 10
    assert sum(note in post.text_everywhere() for post in posts) == 10
