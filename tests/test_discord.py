"""The Discord bot through the real protocol: discord.py against a fake Discord (REST + gateway).

Each test starts the real :class:`~chatbot.delivery.discord.DiscordBot` on the demo tickets,
pointed at ``tests/fakes/discord_api.py`` through the REST base a user would set
(``DISCORD_API_URL``); the gateway URL comes from the fake's ``GET /gateway/bot``. Tests send
gateway events (``INTERACTION_CREATE``, ``MESSAGE_CREATE``) and assert on the REST calls the
bot made.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
import pytest_asyncio
from structlog.testing import capture_logs

from chatbot.app import build_app
from chatbot.config import load_settings
from chatbot.core.errors import ConfigError, DeliveryFailed
from chatbot.core.grammar import parse_period
from chatbot.core.periods import Period
from chatbot.core.report import Report
from chatbot.delivery.discord import (
    DiscordBot,
    DiscordDeps,
    DiscordReportPoster,
    DiscordTokenRefused,
    delivery_nonce,
)
from chatbot.delivery.discord.messages import APOLOGY, COMMON_PERIODS
from chatbot.render.discord_embeds import (
    DiscordMessage,
    delivery_key_in,
    render_discord_message,
)
from chatbot.service import ReportService
from tests.fakes.discord_api import (
    BOT_USER_ID,
    CHANNEL_ID,
    FORBIDDEN_CHANNEL,
    GUILD_ID,
    TOKEN,
    Call,
    FakeDiscord,
)
from tests.test_discord_embeds import assert_defused, assert_numbers_match, assert_within_limits

CALLBACK = "POST /interactions/{id}/{token}/callback"
FOLLOWUP = "POST /webhooks/{app}/{token}"
POST = "POST /channels/{id}/messages"
HISTORY = "GET /channels/{id}/messages"
MESSAGE_CONTENT = 1 << 15
GUILD_MESSAGES = 1 << 9
EPHEMERAL = 64


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportService]:
    """The report service over a SQLite file with the demo tickets, loaded once."""
    url = f"sqlite:///{tmp_path_factory.mktemp('discord') / 'demo.db'}"
    app = build_app(load_settings(None, database_url=url))
    yield app.service
    app.store.engine.dispose()


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    """A fresh fake Discord."""
    with FakeDiscord() as server:
        yield server


async def started(fake: FakeDiscord, deps: DiscordDeps, guild_id: int | None = None) -> DiscordBot:
    """The real bot, logged in and connected to ``fake``."""
    bot = DiscordBot(
        token=TOKEN, deps=deps, api_url=fake.api_url, guild_id=guild_id, guild_ready_timeout=0.05
    )
    await bot.start()
    await bot.wait_ready(timeout=10)
    return bot


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord, service: ReportService) -> AsyncIterator[DiscordBot]:
    """The bot on the demo tickets, connected to the fake."""
    running = await started(fake, DiscordDeps.for_service(service))
    yield running
    await running.stop()


def last_week(service: ReportService) -> Report:
    """Last week's report, as the bot builds it."""
    return service.build_report(parse_period("last-week", service.calendar()))


def message_of(call: Call) -> DiscordMessage:
    """The message a call sent, as the renderer's type."""
    body: Any = call.body
    return body  # type: ignore[no-any-return]


# -- the app command -------------------------------------------------------------------------


async def test_command_defers_then_follows_up_with_the_report(
    fake: FakeDiscord, bot: DiscordBot, service: ReportService
) -> None:
    """`/support-report last-week` is deferred, then followed up with the report's embeds."""
    fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "last-week"}))
    [followup] = await fake.wait_for(FOLLOWUP)
    [callback] = fake.calls(CALLBACK)
    assert callback.body["type"] == 5
    assert not (callback.body.get("data") or {}).get("flags", 0) & EPHEMERAL
    assert callback.at < followup.at
    sent = message_of(followup)
    assert sent["allowed_mentions"] == {"parse": []}
    assert not int(followup.body.get("flags") or 0) & EPHEMERAL
    assert_within_limits(sent)
    assert_defused(sent)
    report = last_week(service)
    assert_numbers_match(sent, report)
    expected = [
        discord.Embed.from_dict(dict(e)).to_dict() for e in render_discord_message(report)["embeds"]
    ]
    for got, want in zip(sent["embeds"], expected, strict=True):
        assert {k: v for k, v in got.items() if k != "footer"} == {
            k: v for k, v in want.items() if k != "footer"
        }


async def test_the_deferral_does_not_wait_for_the_report(
    fake: FakeDiscord, service: ReportService
) -> None:
    """The interaction is deferred before the report is built; the follow-up comes after."""
    release = asyncio.Event()

    async def slow_build(period: Period) -> Report:
        await release.wait()
        return await asyncio.to_thread(service.build_report, period)

    bot = await started(fake, DiscordDeps(calendar=service.calendar, build_report=slow_build))
    try:
        fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "yesterday"}))
        await fake.wait_for(CALLBACK)
        assert fake.calls(FOLLOWUP) == []
        release.set()
        [followup] = await fake.wait_for(FOLLOWUP)
        assert followup.embeds
    finally:
        await bot.stop()


async def test_shutdown_lets_an_answer_being_built_finish(
    fake: FakeDiscord, service: ReportService
) -> None:
    """A report still being built when the bot is told to stop is sent before it stops; one
    that outlasts the grace is cut and counted."""
    release = asyncio.Event()
    building = asyncio.Event()

    async def slow_build(period: Period) -> Report:
        building.set()
        await release.wait()
        return await asyncio.to_thread(service.build_report, period)

    bot = await started(fake, DiscordDeps(calendar=service.calendar, build_report=slow_build))
    try:
        fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "yesterday"}))
        await building.wait()
        draining = asyncio.create_task(bot.drain(60))
        await asyncio.sleep(0)
        assert not draining.done()
        release.set()
        assert await draining == 0
        [followup] = fake.calls(FOLLOWUP)
        assert followup.embeds
        release.clear()
        building.clear()
        fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "yesterday"}))
        await building.wait()
        assert await bot.drain(0.01) == 1
    finally:
        release.set()
        await bot.stop()


async def test_private_makes_the_report_ephemeral(fake: FakeDiscord, bot: DiscordBot) -> None:
    """`private` in the period text defers ephemerally, so only the caller sees the report."""
    fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "last-week private"}))
    [followup] = await fake.wait_for(FOLLOWUP)
    [callback] = fake.calls(CALLBACK)
    assert callback.body["type"] == 5
    assert callback.body["data"]["flags"] & EPHEMERAL
    assert followup.embeds


async def test_a_bad_period_gets_one_polite_ephemeral_line(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    """A period the grammar refuses is answered at once, ephemerally: the problem and the forms."""
    fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "next <@&1> tuesday"}))
    [callback] = await fake.wait_for(CALLBACK)
    assert callback.body["type"] == 4
    data = callback.body["data"]
    assert data["flags"] & EPHEMERAL
    assert data["allowed_mentions"] == {"parse": []}
    content = data["content"]
    assert "\n" not in content
    assert "is not a period" in content
    assert "Accepted: today, yesterday" in content
    assert "<@&" not in content
    assert "Traceback" not in content
    assert fake.calls(FOLLOWUP) == []


async def test_no_period_gets_the_help(fake: FakeDiscord, bot: DiscordBot) -> None:
    """`/support-report` alone answers the help text, ephemerally."""
    fake.dispatch("INTERACTION_CREATE", fake.interaction())
    [callback] = await fake.wait_for(CALLBACK)
    assert callback.body["type"] == 4
    assert callback.body["data"]["flags"] & EPHEMERAL
    assert "Periods:" in callback.body["data"]["content"]


async def test_a_failing_build_gets_an_apology_not_a_traceback(
    fake: FakeDiscord, service: ReportService
) -> None:
    """An unexpected error after the deferral is logged; the channel reads a short apology."""

    async def broken(period: Period) -> Report:
        raise RuntimeError("database on fire /secret/path")

    bot = await started(fake, DiscordDeps(calendar=service.calendar, build_report=broken))
    try:
        with capture_logs() as logs:
            fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "today"}))
            [followup] = await fake.wait_for(FOLLOWUP)
    finally:
        await bot.stop()
    assert followup.body["content"] == APOLOGY
    assert "secret" not in json.dumps(followup.body)
    assert any(e["event"] == "discord_request_failed" for e in logs)


async def test_autocomplete_offers_the_common_periods(fake: FakeDiscord, bot: DiscordBot) -> None:
    """Typing in `period` offers the common periods that match."""
    fake.dispatch("INTERACTION_CREATE", fake.autocomplete("last"))
    [callback] = await fake.wait_for(CALLBACK)
    assert callback.body["type"] == 8
    offered = [c["value"] for c in callback.body["data"]["choices"]]
    assert offered == [p for p in COMMON_PERIODS if "last" in p]
    assert len(offered) <= 25


async def test_the_command_is_synced_globally_without_a_guild(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    """Without DISCORD_GUILD_ID the command goes to the global list, with one string option."""
    [command] = fake.synced_commands("global")
    assert command["name"] == "support-report"
    [option] = command["options"]
    assert (option["name"], option["type"], option["autocomplete"]) == ("request", 3, True)
    assert fake.synced_commands(GUILD_ID) == []


async def test_the_command_is_synced_to_the_guild_when_given(
    fake: FakeDiscord, service: ReportService
) -> None:
    """With a guild id the command is synced to that guild (effective at once)."""
    bot = await started(fake, DiscordDeps.for_service(service), guild_id=int(GUILD_ID))
    await bot.stop()
    assert [c["name"] for c in fake.synced_commands(GUILD_ID)] == ["support-report"]


# -- mentions --------------------------------------------------------------------------------


async def test_a_mention_gets_the_report_as_a_reply(
    fake: FakeDiscord, bot: DiscordBot, service: ReportService
) -> None:
    """ "@support-report report for last week" is answered in a reply with the report."""
    mention = fake.mention(f"<@{BOT_USER_ID}> report for last week please")
    fake.dispatch("MESSAGE_CREATE", mention)
    [reply] = await fake.wait_for(POST)
    assert reply.body["message_reference"]["message_id"] == int(mention["id"])
    assert reply.body["allowed_mentions"]["parse"] == []
    assert reply.body["allowed_mentions"].get("replied_user") is False
    assert_numbers_match(message_of(reply), last_week(service))
    assert_defused(message_of(reply))


async def test_a_mention_without_a_period_gets_the_help(fake: FakeDiscord, bot: DiscordBot) -> None:
    """A mention that names no period is answered with the help text."""
    fake.dispatch("MESSAGE_CREATE", fake.mention(f"<@{BOT_USER_ID}> hello there"))
    [reply] = await fake.wait_for(POST)
    assert "Periods:" in reply.body["content"]
    assert reply.body["allowed_mentions"]["parse"] == []


async def test_messages_that_do_not_mention_the_bot_are_ignored(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    """Only messages that mention the bot get an answer."""
    fake.dispatch("MESSAGE_CREATE", fake.mention("report for last week", mention_bot=False))
    fake.dispatch("MESSAGE_CREATE", fake.mention(f"<@{BOT_USER_ID}> help"))
    await fake.wait_for(POST)
    assert len(fake.calls(POST)) == 1


async def test_identify_asks_for_no_message_content(fake: FakeDiscord, bot: DiscordBot) -> None:
    """IDENTIFY's intents include guild messages and exclude the privileged message content."""
    [identify] = fake.identifies
    assert identify["intents"] & GUILD_MESSAGES
    assert not identify["intents"] & MESSAGE_CONTENT
    assert identify["token"] == TOKEN


async def test_rest_and_gateway_come_from_the_api_url(fake: FakeDiscord, bot: DiscordBot) -> None:
    """Login goes to DISCORD_API_URL; the gateway is the URL that GET /gateway/bot returned."""
    routes = fake.routes()
    assert routes[:3] == ["GET /users/@me", "GET /oauth2/applications/@me", "GET /gateway/bot"]
    assert fake.gateway_queries == [{"v": "10", "encoding": "json", "compress": "zlib-stream"}]


async def test_a_refused_token_stops_start_up_with_one_line(
    fake: FakeDiscord, service: ReportService
) -> None:
    """A token Discord answers 401 to raises once, with one line naming DISCORD_TOKEN."""
    bot = DiscordBot(token="wrong", deps=DiscordDeps.for_service(service), api_url=fake.api_url)
    with pytest.raises(DiscordTokenRefused) as caught:
        await bot.start()
    assert isinstance(caught.value, ConfigError)
    message = str(caught.value)
    assert "\n" not in message
    assert "DISCORD_TOKEN" in message
    assert "wrong" not in message
    assert fake.routes() == ["GET /users/@me"]
    assert fake.gateway_queries == []


# -- scheduled posts ---------------------------------------------------------------------------

KEY = f"daily/discord:{CHANNEL_ID}/2025-04-24T09:00:00+00:00"


async def test_a_scheduled_post_carries_nonce_and_key_and_is_found_again(
    fake: FakeDiscord, bot: DiscordBot, service: ReportService
) -> None:
    """The post has a 25-char nonce with enforce_nonce, and its key where history shows it."""
    poster = DiscordReportPoster(bot.client, post_timeout=5)
    payload = poster.render(last_week(service))
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert await poster.find_posted(CHANNEL_ID, KEY, since) is None
    message_id = await poster.post(CHANNEL_ID, payload, KEY)
    [call] = fake.calls(POST)
    assert call.body["nonce"] == delivery_nonce(KEY)
    assert len(call.body["nonce"]) <= 25
    assert call.body["enforce_nonce"] is True
    assert call.body["allowed_mentions"] == {"parse": []}
    assert_within_limits(message_of(call))
    assert delivery_key_in(fake.posted(CHANNEL_ID)[-1]) == KEY
    assert await poster.find_posted(CHANNEL_ID, KEY, since) == message_id
    assert await poster.find_posted(CHANNEL_ID, KEY + "x", since) is None


async def test_a_repeated_post_is_dropped_by_the_nonce(
    fake: FakeDiscord, bot: DiscordBot, service: ReportService
) -> None:
    """Posting the same delivery twice leaves one message: Discord answers the first again."""
    poster = DiscordReportPoster(bot.client, post_timeout=5)
    payload = poster.render(last_week(service))
    first = await poster.post(CHANNEL_ID, payload, KEY)
    second = await poster.post(CHANNEL_ID, payload, KEY)
    assert first == second
    assert len(fake.posted(CHANNEL_ID)) == 1


@pytest.mark.parametrize(
    ("channel", "code"), [(FORBIDDEN_CHANNEL, "50013"), ("1300000000000000404", "10003")]
)
async def test_missing_permission_or_channel_fails_for_good(
    fake: FakeDiscord, bot: DiscordBot, channel: str, code: str
) -> None:
    """403 (50013) and 404 (10003) are permanent, with one log line naming the channel."""
    poster = DiscordReportPoster(bot.client, post_timeout=5)
    with capture_logs() as logs, pytest.raises(DeliveryFailed) as caught:
        await poster.post(channel, json.dumps(render_discord_message_stub()), KEY)
    assert caught.value.permanent
    assert code in caught.value.reason
    [line] = [e for e in logs if e["event"] == "discord_post_failed"]
    assert line["channel"] == channel
    assert len(fake.calls(POST)) == 1


async def test_a_short_429_is_waited_out_by_discord_py(fake: FakeDiscord, bot: DiscordBot) -> None:
    """A 429 with a short retry_after (and Via, as Discord sends) is retried, then posted."""
    fake.fail(POST, status=429, retry_after=0.05, times=2)
    poster = DiscordReportPoster(bot.client, post_timeout=5)
    await poster.post(CHANNEL_ID, json.dumps(render_discord_message_stub()), KEY)
    assert len(fake.calls(POST)) == 3
    assert len(fake.posted(CHANNEL_ID)) == 1


async def test_a_long_429_goes_back_to_the_runner(fake: FakeDiscord, bot: DiscordBot) -> None:
    """A 429 asking for a long wait is a retryable failure carrying that wait."""
    fake.fail(POST, status=429, retry_after=60, is_global=False)
    poster = DiscordReportPoster(bot.client, post_timeout=5)
    with pytest.raises(DeliveryFailed) as caught:
        await poster.post(CHANNEL_ID, json.dumps(render_discord_message_stub()), KEY)
    assert not caught.value.permanent
    assert caught.value.retry_after == 60
    assert fake.posted(CHANNEL_ID) == []


async def test_a_5xx_is_retried_and_never_outlives_the_timeout(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    """A lasting 5xx ends as a retryable failure within post_timeout (inside the lease)."""
    fake.fail(POST, status=502, times=100)
    poster = DiscordReportPoster(bot.client, post_timeout=0.5)
    with pytest.raises(DeliveryFailed) as caught:
        await poster.post(CHANNEL_ID, json.dumps(render_discord_message_stub()), KEY)
    assert not caught.value.permanent
    # discord.py sleeps 1 s before its first retry: a 0.5 s bound ends the call before it
    assert len(fake.calls(POST)) == 1
    assert fake.posted(CHANNEL_ID) == []


async def test_a_single_5xx_is_retried_by_discord_py(fake: FakeDiscord, bot: DiscordBot) -> None:
    """One 500 is retried by discord.py and the message goes out once."""
    fake.fail(POST, status=500, times=1)
    poster = DiscordReportPoster(bot.client, post_timeout=5)
    await poster.post(CHANNEL_ID, json.dumps(render_discord_message_stub()), KEY)
    assert len(fake.calls(POST)) == 2
    assert len(fake.posted(CHANNEL_ID)) == 1


async def test_targets_must_be_channel_ids(bot: DiscordBot) -> None:
    """`discord:#support` is refused for good: Discord targets are channel ids."""
    poster = DiscordReportPoster(bot.client)
    with pytest.raises(DeliveryFailed) as caught:
        await poster.post("#support", json.dumps(render_discord_message_stub()), KEY)
    assert caught.value.permanent


async def test_the_fake_takes_multipart_with_attachments(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    """A message with a file arrives as payload_json plus files[0], as Discord receives it."""
    channel = bot.client.get_channel(int(CHANNEL_ID))
    assert isinstance(channel, discord.TextChannel)
    embed = discord.Embed(title="chart").set_image(url="attachment://chart.png")
    await channel.send(
        embed=embed, file=discord.File(io.BytesIO(b"\x89PNG fake"), filename="chart.png")
    )
    [call] = fake.calls(POST)
    assert call.files == {"files[0]": b"\x89PNG fake"}
    assert call.body["embeds"][0]["image"]["url"] == "attachment://chart.png"


def render_discord_message_stub() -> DiscordMessage:
    """A small valid message to post."""
    return {
        "embeds": [{"type": "rich", "title": "Support report", "color": 1, "description": "x"}],
        "allowed_mentions": {"parse": []},
    }


async def test_requests_for_a_period_being_built_share_the_build(service: ReportService) -> None:
    """Two requests for the same period at once get the one report built for both."""
    deps = DiscordDeps.for_service(service)
    period = parse_period("last-week", service.calendar())
    first, second = await asyncio.gather(deps.build_report(period), deps.build_report(period))
    assert first is second
    third = await deps.build_report(period)
    assert third is not first


def test_settings_read_the_discord_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """DISCORD_TOKEN (secret), DISCORD_GUILD_ID and DISCORD_API_URL come from the environment."""
    monkeypatch.setenv("DISCORD_TOKEN", "sekrit-token")
    monkeypatch.setenv("DISCORD_GUILD_ID", GUILD_ID)
    monkeypatch.setenv("DISCORD_API_URL", "http://127.0.0.1:9/api/v10")
    settings = load_settings(None)
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "sekrit-token"
    assert "sekrit" not in repr(settings)
    assert settings.discord_guild_id == int(GUILD_ID)
    assert settings.discord_api_url == "http://127.0.0.1:9/api/v10"
    monkeypatch.setenv("DISCORD_GUILD_ID", "not-a-number")
    with pytest.raises(ConfigError, match="DISCORD_GUILD_ID"):
        load_settings(None)


def test_discord_is_off_by_default() -> None:
    """Without DISCORD_TOKEN nothing Discord is configured; the REST base is Discord's own."""
    settings = load_settings(None)
    assert settings.discord_token is None
    assert settings.discord_guild_id is None
    assert settings.discord_api_url == "https://discord.com/api/v10"
