"""Questions on Slack through the real protocol: signed slash commands and mentions in,
Web API calls to the fake Slack out (``tests/fakes/slack_api.py``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from chatbot.core.grammar import parse_period
from chatbot.delivery.slack.messages import SCHEDULE_BY_COMMAND
from chatbot.service import ReportService
from tests.fakes.slack_api import Call
from tests.test_slack import CHANNEL, Bot, _header, _posts, demo_db, fake, start_bot

__all__ = ["demo_db", "fake", "start_bot"]  # the fixtures, shared with tests/test_slack.py


def expected_header(bot: Bot, kind: str) -> str:
    """The header each question's answer must carry, from the service itself."""
    return expected_title(bot.app.service, kind)


def expected_title(service: ReportService, kind: str) -> str:
    """The title each question's answer carries on every platform, from the service itself."""
    cal = service.calendar()
    if kind == "waiting":
        return f"Waiting for a first reply now ({service.waiting().total})"
    if kind == "explain":
        ticket = service.waiting().tickets[0].ticket
        return f"Activity of {ticket.reference} in {parse_period('last-7-days', cal).describe()}"
    if kind == "labels":
        return f"Top labels: {parse_period('this-month', cal).describe()}"
    if kind == "themes":
        return f"Common issues: {parse_period('last-week', cal).describe()}"
    return f"Trend: 4 periods up to {parse_period('last-month', cal).describe()}"


def oldest_waiting(bot: Bot) -> int:
    return bot.app.service.waiting().tickets[0].ticket.number


SLASH = {
    "waiting": "waiting",
    "explain": "explain #{n}",
    "labels": "top labels this-month",
    "themes": "themes",
    "trend": "trend last-month",
}
MENTION = {
    "waiting": "what is waiting on us?",
    "explain": "explain #{n}",
    "labels": "top labels this month",
    "themes": "what are the common issues?",
    "trend": "how is the trend for last month?",
}


def check_answer(bot: Bot, call: Call, kind: str) -> None:
    """The answer's header is the question's, and its body says what the question asks."""
    assert _header(call) == expected_header(bot, kind)
    shown = json.dumps(call.blocks, ensure_ascii=False)
    if kind == "waiting":
        first = bot.app.service.waiting().tickets[0].ticket
        assert f"{first.reference}>" in shown
        assert "… and" in shown  # the demo has more waiting tickets than one message lists
    elif kind == "explain":
        assert "activity level = " in shown
    elif kind == "labels":
        assert "received" in shown
        assert "pending" in shown
    elif kind == "themes":
        assert "tickets report" in shown
    else:
        assert "Median first response" in shown


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", sorted(SLASH))
async def test_each_question_as_a_sub_command(start_bot: Callable[..., Any], kind: str) -> None:
    """`/support-report <question>` acks at once and posts the answer to the channel."""
    bot = await start_bot()
    status, body, _ = await bot.slash(SLASH[kind].format(n=oldest_waiting(bot)))
    assert status == 200
    assert body == ""
    [answer] = await bot.fake.wait_for("chat.postMessage", 1)
    await bot.idle()
    assert answer.body["channel"] == CHANNEL
    assert answer.body.get("thread_ts") is None
    check_answer(bot, answer, kind)
    assert len(_posts(bot.fake)) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", sorted(MENTION))
async def test_each_question_as_a_mention(start_bot: Callable[..., Any], kind: str) -> None:
    """ "@support-report <question>" is answered in the mention's thread."""
    bot = await start_bot()
    await bot.mention(MENTION[kind].format(n=oldest_waiting(bot)), ts="1700000600.000600")
    [answer] = await bot.fake.wait_for("chat.postMessage", 1)
    await bot.idle()
    assert answer.body["thread_ts"] == "1700000600.000600"
    check_answer(bot, answer, kind)
    assert len(_posts(bot.fake)) == 1


@pytest.mark.asyncio
async def test_a_private_question_is_shown_only_to_the_caller(
    start_bot: Callable[..., Any],
) -> None:
    """`waiting private` answers through the response_url, ephemeral; nothing is posted."""
    bot = await start_bot()
    await bot.slash("waiting private")
    [shown] = await bot.fake.wait_for("response_url", 1)
    await bot.idle()
    assert shown.body["response_type"] == "ephemeral"
    check_answer(bot, shown, "waiting")
    assert _posts(bot.fake) == []


@pytest.mark.asyncio
async def test_an_unknown_ticket_gets_one_line(start_bot: Callable[..., Any]) -> None:
    """`explain #999999999` is one line naming the ticket, to the caller; nothing posted."""
    bot = await start_bot()
    await bot.slash("explain #999999999")
    [line] = await bot.fake.wait_for("response_url", 1)
    await bot.mention("explain #999999999 please", ts="1700000700.000700")
    [reply] = await bot.fake.wait_for("chat.postMessage", 1)
    await bot.idle()
    for text in (line.body["text"], reply.body["text"]):
        assert text.startswith("No ticket #999999999 in the store")
        assert "\n" not in text
    assert reply.body["thread_ts"] == "1700000700.000700"
    assert line.body["response_type"] == "ephemeral"


@pytest.mark.asyncio
async def test_a_wrong_question_is_acked_with_what_is_accepted(
    start_bot: Callable[..., Any],
) -> None:
    """`explain <!channel>` and `trend fortnight` get one line each, pinging no one."""
    bot = await start_bot()
    _, first, _ = await bot.slash("explain <!channel>")
    _, second, _ = await bot.slash("trend fortnight @everyone")
    await bot.idle()
    for body, says in ((first, "is not a ticket"), (second, "is not a period")):
        text = json.loads(body)["text"]
        assert says in text
        assert "\n" not in text
        assert "<!channel>" not in text
    assert _posts(bot.fake) == []


@pytest.mark.asyncio
async def test_schedule_words_are_routed_to_schedules(start_bot: Callable[..., Any]) -> None:
    """`schedule …` is neither help nor a report: the command goes to the schedule grammar
    (no time given: one line naming the forms), a mention is pointed to the command."""
    bot = await start_bot()
    _, body, _ = await bot.slash("schedule daily yesterday")
    await bot.mention("schedules", ts="1700000800.000800")
    [reply] = await bot.fake.wait_for("chat.postMessage", 1)
    await bot.idle()
    assert "schedule daily 09:00 PERIOD" in json.loads(body)["text"]
    assert reply.body["text"] == SCHEDULE_BY_COMMAND
    assert reply.body["thread_ts"] == "1700000800.000800"


@pytest.mark.asyncio
async def test_help_lists_the_questions(start_bot: Callable[..., Any]) -> None:
    """A mention that asks nothing known gets the help, with every question in it."""
    bot = await start_bot()
    await bot.mention("what can you do?", ts="1700000900.000900")
    [reply] = await bot.fake.wait_for("chat.postMessage", 1)
    await bot.idle()
    for question in ("`waiting`", "`explain #123 [period]`", "`top labels [period]`", "`trend"):
        assert question in reply.body["text"]


@pytest.mark.asyncio
async def test_hostile_question_pings_no_one_and_is_answered(
    start_bot: Callable[..., Any],
) -> None:
    """10 kB of mass mentions and markdown around a question: answered, nobody pinged."""
    bot = await start_bot()
    noise = "<!channel> <!here> @everyone <@U0OTHER> *_~`| " * 220  # 10.3 kB
    await bot.mention(f"{noise} what is waiting on us? {noise}", ts="1700001000.000100")
    await bot.slash(f"{noise}")
    [answer] = await bot.fake.wait_for("chat.postMessage", 1)
    await bot.idle()
    check_answer(bot, answer, "waiting")
    for call in bot.fake.calls():
        shown = call.text_everywhere()
        for ping in ("<!channel>", "<!here>", "<!everyone>", "<@U0OTHER>"):
            assert ping not in shown
