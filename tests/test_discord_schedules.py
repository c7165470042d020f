"""Schedules from Discord: discord.py against the fake Discord, ``/support-report schedule …``.

The interaction payloads carry the member's resolved permissions, as Discord sends them;
Manage Server (``MANAGE_GUILD``) is what lets a member change schedules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from structlog.testing import capture_logs

from chatbot.app import App, build_app, build_schedule_book
from chatbot.config import load_settings
from chatbot.delivery.discord import DiscordBot, DiscordDeps
from chatbot.store.chat_schedules import SQLAlchemyChatSchedules
from tests.fakes.discord_api import (
    CHANNEL_ID,
    MANAGE_GUILD,
    MEMBER_PERMISSIONS,
    TOKEN,
    USER_ID,
    FakeDiscord,
    member_payload,
)

CALLBACK = "POST /interactions/{id}/{token}/callback"
EPHEMERAL = 64
MANAGER = str(int(MEMBER_PERMISSIONS) | MANAGE_GUILD)


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with FakeDiscord() as server:
        yield server


@pytest.fixture
def app(sqlite_url: str) -> Iterator[App]:
    built = build_app(load_settings(None, database_url=sqlite_url, tz="Europe/Berlin"), demo=False)
    yield built
    built.store.engine.dispose()


async def start(fake: FakeDiscord, app: App, admins: frozenset[str] = frozenset()) -> DiscordBot:
    deps = DiscordDeps.for_service(
        app.service, schedules=build_schedule_book(app, []), schedule_admins=admins
    )
    bot = DiscordBot(token=TOKEN, deps=deps, api_url=fake.api_url, guild_ready_timeout=0.05)
    await bot.start()
    await bot.wait_ready(timeout=10)
    return bot


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord, app: App) -> AsyncIterator[DiscordBot]:
    running = await start(fake, app)
    yield running
    await running.stop()


async def command(
    fake: FakeDiscord, text: str, permissions: str = MEMBER_PERMISSIONS
) -> dict[str, Any]:
    """Send ``/support-report period:text`` as a member with ``permissions``; the answer."""
    before = len(fake.calls(CALLBACK))
    fake.dispatch(
        "INTERACTION_CREATE",
        fake.interaction(
            options={"request": text}, member=member_payload(permissions=permissions)
        ),
    )
    calls = await fake.wait_for(CALLBACK, before + 1)
    body: dict[str, Any] = calls[-1].body
    assert body["type"] == 4
    assert body["data"]["allowed_mentions"] == {"parse": []}
    return body["data"]  # type: ignore[no-any-return]


def stored(app: App) -> list[str]:
    return [s.name for s in SQLAlchemyChatSchedules(app.store.engine).chat_schedules()]


async def test_a_manager_schedules_a_report_for_the_channel(
    fake: FakeDiscord, bot: DiscordBot, app: App
) -> None:
    """Manage Server lets a member schedule; the channel sees the confirmation; it is logged."""
    with capture_logs() as logs:
        answer = await command(fake, "schedule weekly friday 16:00 this-week", MANAGER)
    assert not int(answer.get("flags") or 0) & EPHEMERAL
    assert answer["content"].startswith(
        "Scheduled `weekly-fri-1600-this-week`: every Friday at 16:00 (Europe/Berlin)"
    )
    [row] = SQLAlchemyChatSchedules(app.store.engine).chat_schedules()
    assert (row.target, row.created_by) == (f"discord:{CHANNEL_ID}", USER_ID)
    [created] = [e for e in logs if e["event"] == "schedule_created"]
    assert (created["by"], created["platform"]) == (USER_ID, "discord")


async def test_a_member_without_manage_server_is_refused(
    fake: FakeDiscord, bot: DiscordBot, app: App
) -> None:
    """Without Manage Server nor SCHEDULE_ADMINS: one polite ephemeral line, nothing kept."""
    answer = await command(fake, "schedule daily 09:00 yesterday")
    assert int(answer["flags"]) & EPHEMERAL
    assert answer["content"] == (
        "Sorry, only members with Manage Server (and the people in SCHEDULE_ADMINS) can make"
        " or remove schedules. Anyone can see them with `/support-report schedules`."
    )
    assert stored(app) == []


async def test_schedule_admins_ids_may_change(fake: FakeDiscord, app: App) -> None:
    """A Discord id in SCHEDULE_ADMINS may schedule and unschedule without Manage Server."""
    running = await start(fake, app, admins=frozenset({USER_ID}))
    try:
        await command(fake, "schedule daily 09:00 yesterday")
        assert stored(app) == ["daily-0900-yesterday"]
        listed = await command(fake, "schedules")
        assert "`daily-0900-yesterday` (chat, by " in listed["content"]
        removed = await command(fake, "unschedule daily-0900-yesterday")
        assert removed["content"].startswith("Removed the schedule `daily-0900-yesterday`")
        assert stored(app) == []
    finally:
        await running.stop()


async def test_bad_input_and_hostile_text_get_one_inert_line(
    fake: FakeDiscord, bot: DiscordBot, app: App
) -> None:
    """25:00 and a typed @everyone come back as one ephemeral line that pings nobody."""
    answer = await command(fake, "schedule daily 25:00 yesterday", MANAGER)
    assert "'25:00' is not a time; use HH:MM from 00:00 to 23:59." in answer["content"]
    assert int(answer["flags"]) & EPHEMERAL
    hostile = await command(fake, "schedule weekly @everyone 09:00 last-week", MANAGER)
    assert "@everyone" not in hostile["content"]
    assert "is not a weekday" in hostile["content"]
    assert stored(app) == []
