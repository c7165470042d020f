"""Scheduled Slack posts: the :class:`~chatbot.core.ports.ReportPoster` for the delivery runner.

The rendered message (main message and thread replies, Block Kit JSON) is what the delivery
log keeps on its row, so a retry posts exactly what the first attempt would have. The main
message carries the delivery key in Slack message metadata::

    {"event_type": "support_report", "event_payload": {"delivery_key": "<key>"}}

so that a retry can read the channel's history and find a post that went through before the
replica that sent it could record it. ``#name`` targets are resolved to channel ids once
(``conversations.list``), because history can only be read by id.

The report's files (its chart, from the poster's ``thread_files``) are kept on the row too,
base64 in the payload, and go into the thread after the replies. Each reply carries its index
in metadata (``support_report_part``). Replies and files go up exactly once: the first attempt
posts them after the main message; a retry that finds the main message already posted
(:meth:`SlackReportPoster.resume`) first reads the thread (``conversations.replies`` with
metadata) and posts only the replies and files it does not show yet. That covers a replica
that died anywhere between the message and the last upload; a reply that fails for a
passing reason (429, 5xx, a dropped connection) hands the row back for such a retry. A reply
or upload Slack refuses for good is logged and the report stands.

The main message (and the channel lookup before it) is sent once per attempt, by a client
without retry handlers and with a timeout shorter than the delivery lease: a post must not
outlive the claim it was made under. (A client that waits out a 429 or resends after a
dropped connection may still be sending after the lease ran out, when another replica has
taken the row over, found nothing in the channel and posted: a duplicate.) A 429, 5xx or
dropped connection goes back to the runner instead, which gives the row back with a
``not_before`` and checks the channel before the next attempt.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, TypedDict

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from chatbot.core.errors import DeliveryFailed
from chatbot.core.report import Report
from chatbot.delivery.slack.errors import describe_slack_error
from chatbot.delivery.slack.poster import (
    UPLOAD_ERRORS,
    SlackPoster,
    ThreadContents,
    ThreadFile,
    delivery_metadata,
    part_metadata,
)
from chatbot.lazylog import get_logger
from chatbot.render.slack_blocks import SlackReport, render_slack_report

log = get_logger(__name__)

NOTHING_SHOWN = ThreadContents(parts=frozenset(), filenames=frozenset())


class StoredFile(TypedDict):
    """A thread file as the delivery row keeps it: its bytes in base64."""

    filename: str
    title: str
    alt_text: str
    content: str


def _stored(file: ThreadFile) -> StoredFile:
    return {
        "filename": file.filename,
        "title": file.title,
        "alt_text": file.alt_text,
        "content": base64.b64encode(file.content).decode("ascii"),
    }


def _thread_files(payload: dict[str, Any]) -> list[ThreadFile]:
    return [
        ThreadFile(
            filename=f["filename"],
            title=f["title"],
            alt_text=f.get("alt_text", ""),
            content=base64.b64decode(f["content"]),
        )
        for f in payload.get("files") or []
    ]


class SlackReportPoster:
    """Posts scheduled reports to Slack channels, tagged for exactly-once delivery."""

    platform = "slack"

    def __init__(self, poster: SlackPoster, *, post_timeout: float | None = None) -> None:
        """Post through ``poster``'s client; main messages once, within ``post_timeout`` s."""
        self.poster = poster
        self._once = SlackPoster(single_try_client(poster.client, post_timeout))
        self._channel_ids: dict[str, str] = {}

    def render(self, report: Report) -> str:
        """The main message, thread replies and thread files as JSON, kept on the delivery row."""
        rendered: dict[str, Any] = dict(render_slack_report(report))
        try:
            files = self.poster.thread_files(report)
        except Exception:  # a chart is a bonus: the report goes out without it
            log.exception("slack_thread_files_failed", platform="slack")
            files = ()
        rendered["files"] = [_stored(f) for f in files]
        return json.dumps(rendered, ensure_ascii=False)

    async def channel_id(self, channel: str) -> str:
        """``C0123ABCD`` as it is; ``#support`` looked up once by name."""
        if not channel.startswith("#"):
            return channel
        name = channel[1:]
        if name not in self._channel_ids:
            cursor: str | None = None
            while True:
                response = await self._once.client.conversations_list(
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=1000,
                    cursor=cursor,
                )
                for item in response.get("channels") or []:
                    self._channel_ids[str(item.get("name"))] = str(item.get("id"))
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if name in self._channel_ids or not cursor:
                    break
        if name not in self._channel_ids:
            raise DeliveryFailed(
                f"slack:{channel}",
                f"no channel named {channel} that the bot can see; invite it or use the channel id",
                permanent=True,
            )
        return self._channel_ids[name]

    async def find_posted(self, channel: str, key: str, since: datetime) -> str | None:
        """``<channel id>/<ts>`` of an earlier post carrying ``key``, from the channel's history."""
        try:
            target = await self.channel_id(channel)
            ts = await self.poster.find_delivery(target, key, oldest=f"{since.timestamp():.6f}")
            return f"{target}/{ts}" if ts else None
        except SlackApiError as exc:
            raise _failure(channel, exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"slack:{channel}", type(exc).__name__, permanent=False) from None

    async def post(self, channel: str, payload: str, key: str) -> str:
        """Post the stored message and its thread; returns ``<channel id>/<ts>``."""
        stored: dict[str, Any] = json.loads(payload)
        rendered: SlackReport = {"main": stored["main"], "thread": stored["thread"]}
        try:
            target = await self.channel_id(channel)
            metadata = delivery_metadata(key)
            ts = await self._once.send_message(target, rendered["main"], metadata=metadata)
        except SlackApiError as exc:
            raise _failure(channel, exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryFailed(f"slack:{channel}", type(exc).__name__, permanent=False) from None
        await self._finish_thread(target, ts, stored, NOTHING_SHOWN)
        return f"{target}/{ts}"

    async def _finish_thread(
        self, target: str, ts: str, stored: dict[str, Any], shown: ThreadContents
    ) -> None:
        """Post the replies and upload the files of ``stored`` that ``shown`` lacks, in order.

        A reply refused for good is logged and skipped; one that fails for a passing reason
        raises a transient :class:`DeliveryFailed`, so the row is retried and the retry
        resumes here, after the replies that went up.
        """
        for part, reply in enumerate(stored["thread"]):
            if part in shown.parts:
                continue
            try:
                await self._once.send_message(
                    target, reply, thread_ts=ts, metadata=part_metadata(part)
                )
            except SlackApiError as exc:
                failure = _failure(target, exc)
                if not failure.permanent:
                    raise failure from None
                log.warning("slack_thread_reply_failed", channel=target, error=failure.reason)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise DeliveryFailed(
                    f"slack:{target}", type(exc).__name__, permanent=False
                ) from None
        missing = [f for f in _thread_files(stored) if f.filename not in shown.filenames]
        await self._once.upload_files(target, ts, missing)

    async def resume(self, channel: str, payload: str, message_id: str) -> None:
        """Finish a post found already made: the replies and files its thread lacks.

        ``message_id`` is what :meth:`find_posted` returned (``<channel id>/<ts>``). Errors
        are logged, never raised: the report message is out and stands without the rest.
        """
        stored: dict[str, Any] = json.loads(payload)
        if not stored.get("thread") and not stored.get("files"):
            return
        target, _, ts = message_id.partition("/")
        try:
            shown = await self._once.thread_contents(target, ts)
            await self._finish_thread(target, ts, stored, shown)
        except (*UPLOAD_ERRORS, DeliveryFailed) as exc:
            reason = exc.reason if isinstance(exc, DeliveryFailed) else type(exc).__name__
            log.warning("slack_resume_failed", channel=target, error=reason)
            return
        log.info(
            "slack_post_resumed",
            channel=target,
            replies=len(stored["thread"]) - len(shown.parts),
            found=len(shown.parts) + len(shown.filenames),
        )


def single_try_client(client: AsyncWebClient, timeout: float | None = None) -> AsyncWebClient:
    """A copy of ``client`` that sends each request once (no retry handlers), within ``timeout``."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout if timeout is None else timeout,  # type: ignore[arg-type]
        ssl=client.ssl,
        proxy=client.proxy,
        session=client.session,
        trust_env_in_session=client.trust_env_in_session,
        headers=dict(client.headers),
        retry_handlers=[],
    )


def _failure(channel: str, exc: SlackApiError) -> DeliveryFailed:
    problem = describe_slack_error(exc)
    headers: Any = getattr(exc.response, "headers", None) or {}
    retry_after = headers.get("Retry-After") or headers.get("retry-after")
    return DeliveryFailed(
        f"slack:{channel}",
        problem.code if problem.code != "http_error" else f"HTTP {problem.status}",
        permanent=problem.permanent,
        retry_after=float(retry_after) if retry_after else None,
    )
