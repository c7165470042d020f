"""Schedules from Slack: signed ``/support-report schedule …`` requests, the fake Web API.

Each test starts ``run_server`` on 127.0.0.1 with an empty store (no demo: no report is
built) and the fake Slack of ``tests/fakes/slack_api.py``, whose ``users.info`` knows
U0ASKER (a member), U0ADMIN (an admin) and U0OWNER (the owner).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio
from slack_sdk.signature import SignatureVerifier
from structlog.testing import capture_logs

from chatbot.app import App, build_app, build_components, build_slack
from chatbot.config import load_settings
from chatbot.scheduling.runner import DeliveryRunner
from chatbot.scheduling.timer import SchedulerComponent
from chatbot.server import Listening, run_server
from chatbot.store.chat_schedules import SQLAlchemyChatSchedules
from tests.factories import Clock
from tests.fakes.slack_api import TOKEN, FakeSlack

SECRET = "test-signing-secret"
CHANNEL = "C0REPORTS"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@dataclass
class Bot:
    app: App
    fake: FakeSlack
    session: aiohttp.ClientSession
    port: int
    last_ts: int = 2**62

    async def slash(
        self, text: str, *, user: str = "U0ASKER", channel: str = CHANNEL
    ) -> dict[str, Any]:
        """A signed slash command; the ack's JSON body."""
        form = {
            "token": "legacy",
            "team_id": "T0001",
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "reports",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/support-report",
            "text": text,
            "api_app_id": "A0001",
            "response_url": self.fake.response_url("r1"),
            "trigger_id": "1.2.3",
        }
        body = urlencode(form)
        # a distinct timestamp each (now, or a second before the last): the same signature
        # again is a replay, and time.time() - count repeats itself when a second passes
        self.last_ts = min(int(time.time()), self.last_ts - 1)
        ts = str(self.last_ts)
        signature = str(SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }
        async with self.session.post(
            f"http://127.0.0.1:{self.port}/slack/events", data=body.encode(), headers=headers
        ) as response:
            assert response.status == 200
            answer: dict[str, Any] = json.loads(await response.text())
            return answer

    def stored(self) -> list[str]:
        return [s.name for s in SQLAlchemyChatSchedules(self.app.store.engine).chat_schedules()]


@pytest_asyncio.fixture
async def start_bot(sqlite_url: str, fake: FakeSlack) -> AsyncIterator[Callable[..., Any]]:
    running: list[tuple[asyncio.Task[None], asyncio.Event, App]] = []
    session = aiohttp.ClientSession()

    async def start(**overrides: Any) -> Bot:
        settings = load_settings(
            None,
            database_url=overrides.pop("database_url", sqlite_url),
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=fake.api_url,
            tz="Europe/Berlin",
            **overrides,
        )
        app = build_app(settings, demo=False)
        slack = build_slack(app)
        assert slack is not None
        stopping = asyncio.Event()
        ready: asyncio.Future[Listening] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            run_server(
                [slack], stopping=stopping, host="127.0.0.1", port=0, on_ready=ready.set_result
            )
        )
        running.append((task, stopping, app))
        listening = await asyncio.wait_for(ready, 10)
        return Bot(app=app, fake=fake, session=session, port=listening.port)

    yield start
    for task, stopping, app in running:
        stopping.set()
        await asyncio.wait_for(task, 15)
        app.store.engine.dispose()
    await session.close()


def users_asked(fake: FakeSlack) -> list[str]:
    return [str(c.body.get("user")) for c in fake.calls("users.info")]


async def test_an_admin_schedules_a_report_for_the_channel(start_bot: Callable[..., Any]) -> None:
    """An admin's request is kept, targets the channel, and is confirmed in the channel."""
    bot = await start_bot()
    with capture_logs() as logs:
        ack = await bot.slash("schedule weekly monday 09:00 last-week", user="U0ADMIN")
    assert ack["response_type"] == "in_channel"
    assert ack["text"].startswith(
        "Scheduled `weekly-mon-0900-last-week`: every Monday at 09:00 (Europe/Berlin),"
        " the report of last-week, posted here. Next: Mon "
    )
    assert "`/support-report unschedule weekly-mon-0900-last-week`" in ack["text"]
    assert users_asked(bot.fake) == ["U0ADMIN"]
    [row] = SQLAlchemyChatSchedules(bot.app.store.engine).chat_schedules()
    assert (row.target, row.cron, row.timezone, row.created_by) == (
        f"slack:{CHANNEL}",
        "0 9 * * 1",
        "Europe/Berlin",
        "U0ADMIN",
    )
    [created] = [e for e in logs if e["event"] == "schedule_created"]
    assert (created["by"], created["platform"], created["channel"]) == ("U0ADMIN", "slack", CHANNEL)


async def test_the_same_request_twice_gets_a_second_name(start_bot: Callable[..., Any]) -> None:
    """A taken name is suffixed -2, and the confirmation shows the name to unschedule."""
    bot = await start_bot()
    await bot.slash("schedule daily 09:00 yesterday", user="U0OWNER")
    ack = await bot.slash("schedule daily 09:00 yesterday", user="U0OWNER")
    assert "`daily-0900-yesterday-2`" in ack["text"]
    assert bot.stored() == ["daily-0900-yesterday", "daily-0900-yesterday-2"]


async def test_a_member_is_refused_politely(start_bot: Callable[..., Any]) -> None:
    """Someone neither admin nor in SCHEDULE_ADMINS gets one polite line; nothing is kept."""
    bot = await start_bot()
    ack = await bot.slash("schedule daily 09:00 yesterday", user="U0ASKER")
    assert ack["response_type"] == "ephemeral"
    assert ack["text"] == (
        "Sorry, only workspace admins and owners (and the people in SCHEDULE_ADMINS) can make"
        " or remove schedules. Anyone can see them with `/support-report schedules`."
    )
    assert bot.stored() == []
    ack = await bot.slash("unschedule daily-0900-yesterday", user="U0ASKER")
    assert ack["text"].startswith("Sorry, only workspace admins")


async def test_schedule_admins_may_change_without_a_role_check(
    start_bot: Callable[..., Any],
) -> None:
    """An id in SCHEDULE_ADMINS may schedule; Slack is not asked about their role."""
    bot = await start_bot(schedule_admins="U0ASKER,123456789012345678")
    ack = await bot.slash("schedule weekdays 08:30 yesterday", user="U0ASKER")
    assert ack["response_type"] == "in_channel"
    assert bot.stored() == ["weekdays-0830-yesterday"]
    assert users_asked(bot.fake) == []


async def test_a_refused_role_check_refuses_and_names_the_scope(
    start_bot: Callable[..., Any],
) -> None:
    """users.info failing (the app lacks users:read) refuses the change; the log says why."""
    bot = await start_bot()
    bot.fake.fail("users.info", error="missing_scope")
    with capture_logs() as logs:
        ack = await bot.slash("schedule daily 09:00 yesterday", user="U0ADMIN")
    assert ack["text"].startswith("Sorry, only workspace admins")
    [failed] = [e for e in logs if e["event"] == "slack_users_info_failed"]
    assert failed["error"] == "missing_scope"
    assert "users:read" in failed["hint"]


async def test_everyone_lists_the_channel_schedules_with_next_fire_times(
    start_bot: Callable[..., Any],
) -> None:
    """`schedules` is open to all and shows this channel's schedules only, with the next firing."""
    bot = await start_bot()
    await bot.slash("schedule daily 09:00 yesterday", user="U0ADMIN")
    await bot.slash("schedule monthly 1 07:15 last-month", user="U0ADMIN", channel="C0ELSE")
    ack = await bot.slash("schedules", user="U0ASKER")
    assert ack["response_type"] == "ephemeral"
    lines = ack["text"].split("\n")
    assert lines[0] == "Schedules posting here (1):"
    assert lines[1].startswith(
        "• `daily-0900-yesterday` (chat, by U0ADMIN): `0 9 * * *`, yesterday; next "
    )
    assert lines[1].endswith("09:00 Europe/Berlin")
    assert users_asked(bot.fake) == ["U0ADMIN", "U0ADMIN"]  # listing asked nobody's role


async def test_unschedule_removes_the_one_named(start_bot: Callable[..., Any]) -> None:
    """An admin removes a schedule by the name its confirmation showed; it is logged."""
    bot = await start_bot()
    await bot.slash("schedule daily 09:00 yesterday", user="U0ADMIN")
    with capture_logs() as logs:
        ack = await bot.slash("unschedule daily-0900-yesterday", user="U0OWNER")
    assert ack["text"] == (
        "Removed the schedule `daily-0900-yesterday`; it will not post here again."
    )
    assert bot.stored() == []
    [removed] = [e for e in logs if e["event"] == "schedule_removed"]
    assert (removed["by"], removed["schedule"]) == ("U0OWNER", "daily-0900-yesterday")
    ack = await bot.slash("unschedule daily-0900-yesterday", user="U0OWNER")
    assert ack["text"].startswith("No schedule daily-0900-yesterday posts to this channel.")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("schedule daily 25:00 yesterday", "'25:00' is not a time; use HH:MM from 00:00 to 23:59."),
        ("schedule weekly monday 9 last-week", "'9' is not a time;"),
        ("schedule weekly funday 09:00 last-week", "'funday' is not a weekday;"),
        ("schedule daily 09:00 last-fortnight", "period: 'last-fortnight'"),
    ],
)
async def test_bad_input_gets_one_line_with_the_accepted_forms(
    start_bot: Callable[..., Any], text: str, line: str
) -> None:
    """A bad time, weekday or period: one ephemeral line, what was wrong and what is accepted."""
    bot = await start_bot()
    ack = await bot.slash(text, user="U0ADMIN")
    assert ack["response_type"] == "ephemeral"
    assert line in ack["text"]
    assert "Accepted:" in ack["text"]
    assert "\n" not in ack["text"]
    assert bot.stored() == []


async def test_hostile_text_pings_no_one(start_bot: Callable[..., Any]) -> None:
    """Mentions typed into a schedule command come back inert: no <!channel>, <@U…>, <!here>."""
    bot = await start_bot()
    answers = [
        await bot.slash("schedule weekly <!channel> 09:00 last-week", user="U0ADMIN"),
        await bot.slash("schedule daily 09:00 <@U0OWNER> <!here>", user="U0ADMIN"),
        await bot.slash("unschedule <!everyone>", user="U0ADMIN"),
        await bot.slash('schedule cron "<!here> 9 * * *" last-week', user="U0ADMIN"),
    ]
    for ack in answers:
        assert "<!" not in ack["text"]
        assert "<@" not in ack["text"]
        assert "&lt;" in ack["text"]
    assert bot.stored() == []
    assert bot.fake.calls("chat.postMessage") == []


async def test_a_schedule_made_in_slack_is_posted_by_the_serve_scheduler(
    start_bot: Callable[..., Any],
) -> None:
    """The scheduler `chatbot serve` builds, with no schedules file, posts a chat schedule once."""
    bot = await start_bot()
    await bot.slash('schedule cron "* * * * *" today', user="U0ADMIN")
    slack = build_slack(bot.app)
    assert slack is not None
    clock = Clock(datetime.now(UTC))
    [component] = build_components(bot.app, [], [slack], clock=clock)
    assert isinstance(component, SchedulerComponent)
    runner: DeliveryRunner = component.runner
    await runner.run_once()
    clock.now = first_firing(runner, bot.stored()) + timedelta(seconds=1)
    await runner.run_once()
    await runner.run_once()
    posts = [c for c in bot.fake.calls("chat.postMessage") if c.body.get("thread_ts") is None]
    assert [c.body["channel"] for c in posts] == [CHANNEL]


def first_firing(runner: DeliveryRunner, names: list[str]) -> datetime:
    """The first minute after the schedule was made (every-minute schedules), from its horizon."""
    [name] = names
    made = runner.deliveries.horizon(name)
    assert made is not None
    return made.replace(second=0, microsecond=0) + timedelta(minutes=1)


@pytest.mark.postgres
async def test_a_schedule_made_in_slack_on_one_replica_is_posted_once_by_another(
    start_bot: Callable[..., Any], postgres_url: str
) -> None:
    """Two replicas share PostgreSQL: an admin schedules through replica A's Slack endpoint;
    replica B, running since before, posts the firing; A's ticks post nothing more."""
    replica_a = await start_bot(database_url=postgres_url)
    replica_b = await start_bot(database_url=postgres_url)
    clock = Clock(datetime.now(UTC))
    runners: list[DeliveryRunner] = []
    for replica, worker in ((replica_b, "replica-b"), (replica_a, "replica-a")):
        slack = build_slack(replica.app)
        assert slack is not None
        [component] = build_components(replica.app, [], [slack], clock=clock)
        assert isinstance(component, SchedulerComponent)
        component.runner.worker = worker  # one process here; two hosts in production
        runners.append(component.runner)
    runner_b, runner_a = runners
    await runner_b.run_once()  # B ticks before the schedule exists
    ack = await replica_a.slash('schedule cron "* * * * *" today', user="U0ADMIN")
    assert ack["response_type"] == "in_channel"
    [name] = replica_b.stored()
    await runner_a.run_once()
    clock.now = first_firing(runner_b, [name]) + timedelta(seconds=1)
    posted_by_b = await runner_b.run_once()
    await runner_a.run_once()
    await runner_b.run_once()
    calls = replica_a.fake.calls("chat.postMessage")
    posts = [c for c in calls if c.body.get("thread_ts") is None]
    assert [c.body["channel"] for c in posts] == [CHANNEL]
    assert [(d.schedule, d.claimed_by) for d in posted_by_b] == [(name, "replica-b")]
    assert [d.status for d in runner_a.deliveries.all()] == ["posted"]


def test_manifest_asks_users_read() -> None:
    """The Slack app can call users.info, which the permission check needs."""
    text = (Path(__file__).parents[1] / "slack" / "manifest.yml").read_text()
    assert "- users:read" in text
