"""``@support-report <plain words>``: the report or the answer, in the mention's thread.

Bolt acks the event before this runs; duplicates and retries were dropped by
:mod:`chatbot.delivery.slack.middleware`. The words are read by ``parse_question`` (free
text): a question ("what is waiting on us?") is answered, a period gets the report, neither
means help. Problems are answered in the same thread.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp

from chatbot.core.questions import parse_question
from chatbot.delivery.slack.deps import SlackDeps
from chatbot.delivery.slack.errors import answering
from chatbot.delivery.slack.listeners import questions
from chatbot.delivery.slack.messages import SCHEDULE_BY_COMMAND, help_text
from chatbot.lazylog import get_logger
from chatbot.render.slack_blocks import MessagePayload

log = get_logger(__name__)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Answer ``app_mention`` events."""

    @app.event("app_mention")
    async def mentioned(event: dict[str, Any]) -> None:
        await answer_mention(deps, event)


async def answer_mention(deps: SlackDeps, event: dict[str, Any]) -> None:
    """Parse the words, build the report, post it in the mention's thread."""
    channel = str(event.get("channel", ""))
    user = str(event.get("user", ""))
    thread_ts = str(event.get("thread_ts") or event.get("ts") or "") or None
    started = time.perf_counter()

    async def say(text: str) -> None:
        await deps.poster.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=text, unfurl_links=False
        )

    with (
        structlog.contextvars.bound_contextvars(
            platform="slack", channel=channel, command="app_mention"
        ),
        deps.inflight.track(),
    ):
        outcome = "failed"
        period_label: str | None = None
        async with answering(say):
            request = parse_question(
                str(event.get("text", "")), deps.service.calendar(), free_text=True
            )

            async def send(payload: MessagePayload) -> None:
                if request.private:
                    await deps.poster.client.chat_postEphemeral(
                        channel=channel,
                        user=user,
                        text=payload["text"],
                        blocks=list(payload["blocks"]),  # type: ignore[arg-type]
                        thread_ts=thread_ts,
                    )
                else:
                    await deps.poster.send_message(channel, payload, thread_ts=thread_ts)

            if request.kind == "schedule":  # changes go through the command
                await say(SCHEDULE_BY_COMMAND)
                outcome = "schedule_by_command"
            elif request.kind == "help":
                await say(help_text())
                outcome = "help"
            elif questions.is_answered_here(request):
                await questions.answer(deps, request, send)
                outcome = "answered"
            elif request.period is not None:
                period_label = request.period.label
                report = await deps.build_report(request.period)
                if request.private:
                    await deps.poster.post_private_report(
                        report, channel=channel, user=user, thread_ts=thread_ts
                    )
                else:
                    await deps.poster.post_report(report, channel=channel, thread_ts=thread_ts)
                outcome = "posted"
        log.info(
            "slack_mention_done",
            outcome=outcome,
            period=period_label,
            ms=round((time.perf_counter() - started) * 1000),
        )
