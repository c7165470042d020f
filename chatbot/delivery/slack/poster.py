"""Post a report to Slack: the main message, its thread replies, and any files for the thread.

:class:`SlackPoster` is what listeners and the scheduler call. It renders with
:func:`~chatbot.render.slack_blocks.render_slack_report` and sends with the Web API
(``chat.postMessage`` / ``chat.postEphemeral``) or a ``response_url``. Files come
from the ``thread_files`` callable given at construction (the composition root gives the
report's chart) and go into the report's thread with ``files_upload_v2``
(``files.getUploadURLExternal``, the bytes to its upload URL, ``files.completeUploadExternal``),
so adding a file touches the composition root only, never the handlers. A file that Slack
refuses is logged (``slack_file_upload_failed``) and the report stands.

A main message can carry Slack message metadata (:func:`delivery_metadata`) so that a
scheduled delivery can later check the channel (:meth:`SlackPoster.find_delivery`) before
re-posting. Errors are ``slack_sdk.errors.SlackApiError``; see
:mod:`chatbot.delivery.slack.errors` for what they mean.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from chatbot.core.errors import DeliveryFailed
from chatbot.core.report import Report
from chatbot.lazylog import get_logger
from chatbot.render.chart import CHART_ALT, chart_title, render_chart
from chatbot.render.slack_blocks import MessagePayload, render_slack_report

log = get_logger(__name__)

METADATA_EVENT_TYPE = "support_report"
#: The event type of a scheduled report's thread replies: ``{"part": "<index>"}`` says which.
METADATA_PART_TYPE = "support_report_part"


@dataclass(frozen=True, kw_only=True, slots=True)
class ThreadFile:
    """A file to upload into a report's thread (an image, say)."""

    filename: str
    content: bytes
    title: str
    alt_text: str = ""
    comment: str = ""


ThreadFiles = Callable[[Report], Sequence[ThreadFile]]

#: What a file upload may fail with, besides a bug: Slack refused, or the network did.
UPLOAD_ERRORS = (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError)


class MessageMetadata(TypedDict):
    """Slack message metadata: an event type and a small JSON payload."""

    event_type: str
    event_payload: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class PostedReport:
    """Where a report went: the main message and its thread."""

    channel: str
    ts: str
    thread_ts: str
    replies: tuple[str, ...]
    files: tuple[str, ...]


class ResponseUrlError(DeliveryFailed):
    """A ``response_url`` did not accept the message (expired, used up, gone); not retried."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__("response_url", f"answered {status}: {body[:100]}", permanent=True)


def delivery_metadata(key: str, **payload: str) -> MessageMetadata:
    """Metadata naming a delivery, e.g. ``daily:C123:2025-04-24T09:00Z``, for exactly-once."""
    return {"event_type": METADATA_EVENT_TYPE, "event_payload": {"delivery_key": key, **payload}}


def part_metadata(part: int) -> MessageMetadata:
    """Metadata of a scheduled report's thread reply ``part`` (a retry posts missing ones)."""
    return {"event_type": METADATA_PART_TYPE, "event_payload": {"part": part}}


@dataclass(frozen=True, kw_only=True, slots=True)
class ThreadContents:
    """What a report's thread already shows: the reply parts (by index) and file names."""

    parts: frozenset[int]
    filenames: frozenset[str]


def _no_files(_report: Report) -> Sequence[ThreadFile]:
    return ()


def chart_files(report: Report) -> Sequence[ThreadFile]:
    """The report's chart, for its thread: ``support-report-<period>.png``."""
    return [
        ThreadFile(
            filename=f"support-report-{report.period.slug}.png",
            content=render_chart(report),
            title=chart_title(report),
            alt_text=CHART_ALT,
        )
    ]


class SlackPoster:
    """Sends rendered reports through one ``AsyncWebClient``."""

    def __init__(self, client: AsyncWebClient, *, thread_files: ThreadFiles | None = None) -> None:
        self.client = client
        self.thread_files = thread_files or _no_files

    async def send_message(
        self,
        channel: str,
        payload: MessagePayload,
        *,
        thread_ts: str | None = None,
        metadata: MessageMetadata | None = None,
    ) -> str:
        """Post one rendered message (``chat.postMessage``); returns its ``ts``."""
        response = await self.client.chat_postMessage(
            channel=channel,
            text=payload["text"],
            blocks=list(payload["blocks"]),  # type: ignore[arg-type]
            thread_ts=thread_ts,
            metadata=dict(metadata) if metadata else None,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response["ts"])

    async def post_report(
        self,
        report: Report,
        *,
        channel: str,
        thread_ts: str | None = None,
        metadata: MessageMetadata | None = None,
    ) -> PostedReport:
        """Post ``report`` to ``channel`` (in ``thread_ts`` if given), details in its thread.

        The main message carries ``metadata`` when given. Raises ``SlackApiError`` when Slack
        refuses; the thread replies and files are sent only after the main message went out.
        """
        rendered = render_slack_report(report)
        ts = await self.send_message(
            channel, rendered["main"], thread_ts=thread_ts, metadata=metadata
        )
        root = thread_ts or ts
        replies = [
            await self.send_message(channel, reply, thread_ts=root) for reply in rendered["thread"]
        ]
        files = await self.upload_files(
            channel, root, await asyncio.to_thread(self.thread_files, report)
        )
        log.info(
            "slack_report_posted",
            platform="slack",
            channel=channel,
            period=report.period.label,
            replies=len(replies),
            files=len(files),
        )
        return PostedReport(
            channel=channel, ts=ts, thread_ts=root, replies=tuple(replies), files=tuple(files)
        )

    async def upload_files(
        self, channel: str, thread_ts: str, files: Sequence[ThreadFile]
    ) -> list[str]:
        """Upload ``files`` into the thread; returns the ids of those Slack took.

        A refused upload is logged (its file name and Slack's error, never a token) and the
        rest go on: the report message is out already and stands without it.
        """
        done = []
        for file in files:
            try:
                done.append(await self.upload(channel, thread_ts, file))
            except UPLOAD_ERRORS as exc:
                log.warning(
                    "slack_file_upload_failed",
                    platform="slack",
                    channel=channel,
                    filename=file.filename,
                    error=_upload_error(exc),
                )
        return done

    async def upload(self, channel: str, thread_ts: str, file: ThreadFile) -> str:
        """Upload one file into a thread (``files_upload_v2``); returns its file id."""
        response = await self.client.files_upload_v2(
            channel=channel,
            thread_ts=thread_ts,
            content=file.content,
            filename=file.filename,
            title=file.title,
            alt_txt=file.alt_text or None,
            initial_comment=file.comment or None,
            request_file_info=False,
        )
        uploaded = response.get("files") or [{}]
        return str(uploaded[0].get("id", ""))

    async def post_private_report(
        self, report: Report, *, channel: str, user: str, thread_ts: str | None = None
    ) -> None:
        """Show ``report`` to ``user`` only (``chat.postEphemeral``), details after it."""
        rendered = render_slack_report(report)
        for payload in [rendered["main"], *rendered["thread"]]:
            await self.client.chat_postEphemeral(
                channel=channel,
                user=user,
                text=payload["text"],
                blocks=list(payload["blocks"]),  # type: ignore[arg-type]
                thread_ts=thread_ts,
            )
        log.info("slack_report_shown", platform="slack", channel=channel, private=True)

    async def respond_report(self, report: Report, respond: AsyncRespond) -> None:
        """Show ``report`` through a slash command's ``response_url``, only to its caller."""
        rendered = render_slack_report(report)
        for payload in [rendered["main"], *rendered["thread"]]:
            await respond_text(respond, payload["text"], blocks=payload["blocks"])
        log.info("slack_report_shown", platform="slack", private=True, via="response_url")

    async def thread_contents(self, channel: str, thread_ts: str) -> ThreadContents:
        """The reply parts and files already in a thread (``conversations.replies``, with
        metadata). Needs the same history scopes as :meth:`find_delivery`."""
        parts: set[int] = set()
        names: set[str] = set()
        cursor: str | None = None
        while True:
            response = await self.client.conversations_replies(
                channel=channel,
                ts=thread_ts,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in response.get("messages") or []:
                names.update(str(f.get("name")) for f in message.get("files") or [])
                meta = message.get("metadata") or {}
                part = (meta.get("event_payload") or {}).get("part")
                if meta.get("event_type") == METADATA_PART_TYPE and isinstance(part, int):
                    parts.add(part)
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return ThreadContents(parts=frozenset(parts), filenames=frozenset(names))

    async def find_delivery(self, channel: str, key: str, *, oldest: str = "0") -> str | None:
        """The ``ts`` of a message in ``channel`` whose metadata names delivery ``key``, if any.

        Reads ``conversations.history`` (``include_all_metadata``) back to ``oldest``; needs
        the ``channels:history`` scope (``groups:history`` for private channels).
        """
        cursor: str | None = None
        while True:
            response = await self.client.conversations_history(
                channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
            )
            for message in response.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                ours = meta.get("event_type") == METADATA_EVENT_TYPE
                if ours and payload.get("delivery_key") == key:
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None


def _upload_error(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return type(exc).__name__


async def respond_text(
    respond: AsyncRespond, text: str, *, blocks: Sequence[Any] | None = None
) -> None:
    """Send an ephemeral message to a ``response_url``; raise if it was not accepted."""
    response = await respond(
        text=text,
        blocks=list(blocks) if blocks is not None else None,
        response_type="ephemeral",
        replace_original=False,
    )
    if response.status_code != 200:
        raise ResponseUrlError(response.status_code, str(response.body))
