"""``@support-report <plain words>``: the report, in the mention's thread.

Bolt acks the event before this runs; duplicates and retries were dropped by
:mod:`chatbot.delivery.slack.middleware`. The period comes from ``parse_mention``; no period
means help. Problems are answered in the same thread.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp

from chatbot.core.grammar import parse_mention
from chatbot.delivery.slack.deps import SlackDeps
from chatbot.delivery.slack.errors import answering
from chatbot.delivery.slack.messages import help_text
from chatbot.lazylog import get_logger

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
            request = parse_mention(str(event.get("text", "")), deps.service.calendar())
            if request.help or request.period is None:
                await say(help_text())
                outcome = "help"
            else:
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
