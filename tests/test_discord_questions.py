"""Questions on Discord through the real protocol: discord.py against the fake Discord
(``tests/fakes/discord_api.py``), as an app command and as a mention."""

from __future__ import annotations

import json
import re

import pytest

from chatbot.delivery.discord import DiscordBot
from chatbot.delivery.discord.messages import SCHEDULE_BY_COMMAND
from chatbot.render.schedule_texts import SCHEDULES_OFF
from chatbot.service import ReportService
from tests.fakes.discord_api import BOT_USER_ID, Call, FakeDiscord
from tests.test_discord import (
    CALLBACK,
    EPHEMERAL,
    FOLLOWUP,
    POST,
    bot,
    fake,
    message_of,
    service,
)
from tests.test_discord_embeds import assert_defused, assert_within_limits
from tests.test_slack_questions import MENTION as SLACK_MENTION
from tests.test_slack_questions import SLASH, expected_title

__all__ = ["bot", "fake", "service"]  # the fixtures, shared with tests/test_discord.py

# the same questions as on Slack, as a command and as a mention
COMMAND, MENTION = SLASH, SLACK_MENTION


def oldest_waiting(service: ReportService) -> int:
    return service.waiting().tickets[0].ticket.number


def check_answer(service: ReportService, call: Call, kind: str) -> None:
    """One embed titled as the question, saying what it asks, within limits, pinging no one."""
    message = message_of(call)
    assert message["allowed_mentions"]["parse"] == []
    message["allowed_mentions"] = {"parse": []}  # a reply also says replied_user: false
    [embed] = message["embeds"]
    assert embed["title"] == expected_title(service, kind)
    assert_within_limits(message)
    shown = json.dumps(embed, ensure_ascii=False)
    if kind == "waiting":
        first = service.waiting().tickets[0].ticket
        assert f"#{first.number}]" in shown
        assert "… and" in shown
    elif kind == "explain":
        assert "activity level = " in shown
    elif kind == "labels":
        assert "pending" in shown
    elif kind == "themes":
        assert embed.get("fields")
    else:
        assert "Median first response" in shown
    if "description" in embed:  # our tables of numbers are code blocks
        embed["description"] = re.sub(r"```\n[^`]*```", "", embed["description"])
    assert_defused(message)


@pytest.mark.parametrize("kind", sorted(COMMAND))
async def test_each_question_as_a_command(
    fake: FakeDiscord, bot: DiscordBot, service: ReportService, kind: str
) -> None:
    """`/support-report period:<question>` defers, then follows up with the answer."""
    text = COMMAND[kind].format(n=oldest_waiting(service))
    fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": text}))
    [followup] = await fake.wait_for(FOLLOWUP)
    [callback] = fake.calls(CALLBACK)
    assert callback.body["type"] == 5
    assert not int(followup.body.get("flags") or 0) & EPHEMERAL
    check_answer(service, followup, kind)


@pytest.mark.parametrize("kind", sorted(MENTION))
async def test_each_question_as_a_mention(
    fake: FakeDiscord, bot: DiscordBot, service: ReportService, kind: str
) -> None:
    """ "@support-report <question>" is answered in a reply."""
    text = MENTION[kind].format(n=oldest_waiting(service))
    mention = fake.mention(f"<@{BOT_USER_ID}> {text}")
    fake.dispatch("MESSAGE_CREATE", mention)
    [reply] = await fake.wait_for(POST)
    assert reply.body["message_reference"]["message_id"] == int(mention["id"])
    check_answer(service, reply, kind)


async def test_a_private_question_is_ephemeral(
    fake: FakeDiscord, bot: DiscordBot, service: ReportService
) -> None:
    """`waiting private` is deferred and answered ephemerally."""
    fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "waiting private"}))
    [followup] = await fake.wait_for(FOLLOWUP)
    assert int(followup.body.get("flags") or 0) & EPHEMERAL
    check_answer(service, followup, "waiting")


async def test_an_unknown_ticket_gets_one_line(fake: FakeDiscord, bot: DiscordBot) -> None:
    """`explain #999999999` is one line naming the ticket, as a command and a mention."""
    fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "explain 999999999"}))
    fake.dispatch("MESSAGE_CREATE", fake.mention(f"<@{BOT_USER_ID}> explain #999999999"))
    [followup] = await fake.wait_for(FOLLOWUP)
    [reply] = await fake.wait_for(POST)
    for text in (followup.body["content"], reply.body["content"]):
        assert "No ticket 999999999 in the store" in text.replace("\\#", "#").replace("#", "")
        assert "\n" not in text


async def test_a_wrong_question_says_what_is_accepted(fake: FakeDiscord, bot: DiscordBot) -> None:
    """`waiting last-week` is answered at once with one line, ephemeral, pinging no one."""
    fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "waiting @everyone"}))
    [callback] = await fake.wait_for(CALLBACK)
    data = callback.body["data"]
    assert data["flags"] & EPHEMERAL
    assert "takes no period" in data["content"]
    assert "@everyone" not in data["content"]
    assert fake.calls(FOLLOWUP) == []


async def test_schedule_words_are_routed_to_schedules(fake: FakeDiscord, bot: DiscordBot) -> None:
    """`schedule …` is neither help nor a report: the command goes to the schedule commands
    (off on this bot: one line), a mention is pointed to the command."""
    fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "schedule daily"}))
    fake.dispatch("MESSAGE_CREATE", fake.mention(f"<@{BOT_USER_ID}> unschedule daily"))
    [callback] = await fake.wait_for(CALLBACK)
    [reply] = await fake.wait_for(POST)
    assert callback.body["data"]["content"] == SCHEDULES_OFF
    assert reply.body["content"] == SCHEDULE_BY_COMMAND


async def test_help_lists_the_questions(fake: FakeDiscord, bot: DiscordBot) -> None:
    """`help` answers with every question, ephemerally."""
    fake.dispatch("INTERACTION_CREATE", fake.interaction(options={"request": "help"}))
    [callback] = await fake.wait_for(CALLBACK)
    for question in ("`waiting`", "`explain #123 [period]`", "`themes [period]`", "`trend"):
        assert question in callback.body["data"]["content"]


async def test_autocomplete_offers_questions(fake: FakeDiscord, bot: DiscordBot) -> None:
    """Typing "tre" offers the trend questions."""
    fake.dispatch("INTERACTION_CREATE", fake.autocomplete("tre"))
    [callback] = await fake.wait_for(CALLBACK)
    offered = [c["value"] for c in callback.body["data"]["choices"]]
    assert offered == ["trend", "trend last-month"]


async def test_hostile_question_pings_no_one_and_is_answered(
    fake: FakeDiscord, bot: DiscordBot, service: ReportService
) -> None:
    """10 kB of mass mentions and markdown around a question: answered, nobody pinged."""
    noise = "@everyone @here <@&123> <@1> *_~`| " * 300  # 10.8 kB
    fake.dispatch("MESSAGE_CREATE", fake.mention(f"<@{BOT_USER_ID}> {noise} waiting? {noise}"))
    [reply] = await fake.wait_for(POST)
    check_answer(service, reply, "waiting")
    assert "@everyone" not in json.dumps(reply.body)
