"""``/support-report <request>``: ack at once, then post the report (or the answer) to the channel.

Parse with the shared grammar (a period, or a question: ``waiting``, ``explain #723``…), ack
(help, a bad request, or "Working on…"), build the report or answer off the loop, post it
(or show it only to the caller with ``private``). Failures after the ack reach the caller
through the ``response_url``. ``schedule…`` words go to
:func:`~chatbot.delivery.slack.schedule_commands.answer_schedule`.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from chatbot.core.errors import UserInputError
from chatbot.core.questions import parse_question
from chatbot.delivery.slack.deps import SlackDeps
from chatbot.delivery.slack.errors import answering
from chatbot.delivery.slack.listeners import questions
from chatbot.delivery.slack.messages import (
    APOLOGY,
    COMMAND,
    bad_request_text,
    help_text,
    working_text,
)
from chatbot.delivery.slack.poster import respond_text
from chatbot.delivery.slack.schedule_commands import answer_schedule
from chatbot.lazylog import get_logger
from chatbot.render.slack_blocks import MessagePayload

log = get_logger(__name__)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Answer the ``/support-report`` slash command."""

    @app.command(COMMAND)
    async def support_report(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await answer_command(deps, ack, command, respond)


async def answer_command(
    deps: SlackDeps, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
) -> None:
    """Parse, ack, build, post; every path ends with one ``slack_command_done`` line."""
    channel = str(command.get("channel_id", ""))
    started = time.perf_counter()
    with (
        structlog.contextvars.bound_contextvars(platform="slack", channel=channel, command=COMMAND),
        deps.inflight.track(),
    ):
        try:
            request = parse_question(
                str(command.get("text", "")), deps.service.calendar(), free_text=False
            )
        except UserInputError as exc:
            await ack(text=bad_request_text(str(exc)), response_type="ephemeral")
            log.info("slack_command_done", outcome="bad_request", problem=str(exc))
            return
        except Exception:
            log.exception("slack_command_failed")
            await ack(text=APOLOGY, response_type="ephemeral")
            return
        if request.kind == "schedule":
            await answer_schedule(deps, ack, command)
            log.info("slack_command_done", outcome="schedule")
            return
        if request.kind == "help":
            await ack(text=help_text(), response_type="ephemeral")
            log.info("slack_command_done", outcome="help")
            return

        async def say(text: str) -> None:
            await respond_text(respond, text)

        outcome = "failed"
        if questions.is_answered_here(request):
            await ack()

            async def send(payload: MessagePayload) -> None:
                if request.private:
                    await respond_text(respond, payload["text"], blocks=payload["blocks"])
                else:
                    await deps.poster.send_message(channel, payload)

            async with answering(say):
                await questions.answer(deps, request, send)
                outcome = "answered"
            log.info(
                "slack_command_done",
                outcome=outcome,
                question=request.kind,
                private=request.private,
                ms=round((time.perf_counter() - started) * 1000),
            )
            return
        period = request.period
        assert period is not None  # a report always has its period
        await ack(text=working_text(period), response_type="ephemeral")
        async with answering(say):
            report = await deps.build_report(period)
            if request.private:
                await deps.poster.respond_report(report, respond)
            else:
                await deps.poster.post_report(report, channel=channel)
            outcome = "posted"
        log.info(
            "slack_command_done",
            outcome=outcome,
            period=period.label,
            private=request.private,
            ms=round((time.perf_counter() - started) * 1000),
        )
