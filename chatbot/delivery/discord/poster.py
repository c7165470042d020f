"""Scheduled Discord posts: the :class:`~chatbot.core.ports.ReportPoster` for the delivery runner.

The rendered message (:func:`~chatbot.render.discord_embeds.render_discord_message`, JSON)
is what the delivery log keeps on its row, so a retry posts exactly what the first attempt
would have. Each post (``POST /channels/{id}/messages``) carries:

- a ``nonce`` derived from the delivery key (25 characters) with ``enforce_nonce: true``,
  so Discord itself answers a repeat within its nonce window with the first message;
- the delivery key on the last line of the last embed's footer (``delivery <key>``), so
  that :meth:`DiscordReportPoster.find_posted` can read the channel's recent messages
  (history has no nonces) and find a post that went through before the replica that sent it
  could record it.

With a chart (``chart``, the composition root gives
:func:`~chatbot.render.chart.render_chart`), the PNG is kept on the row too (base64, beside
the message) and sent with it in one multipart request (``payload_json`` and ``files[0]``,
``attachments: [{"id": 0, "filename": "chart.png"}]``); the first embed shows it as
``attachment://chart.png``. One request is one message, so the chart is posted exactly when
the message is.

A post never outlives the claim it is made under: each call is bounded by ``post_timeout``
(half the lease, set by the composition root), and discord.py waits out a 429 itself only when the
wait is short (``MAX_RATELIMIT_WAIT``); a longer one, a 5xx that outlasted discord.py's
retries, a timeout or a dropped connection goes back to the runner as a retryable
:class:`~chatbot.core.errors.DeliveryFailed`. Missing permissions (403, 50013), missing
access (50001) and an unknown channel (404, 10003) are permanent, logged with the channel.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
import discord
from discord.http import Route

from chatbot.core.errors import DeliveryFailed
from chatbot.core.report import Report
from chatbot.delivery.discord.errors import describe_http_error
from chatbot.lazylog import get_logger
from chatbot.render.chart import CHART_FILENAME
from chatbot.render.discord_embeds import (
    DiscordMessage,
    delivery_key_in,
    render_discord_message,
    with_delivery_key,
)

log = get_logger(__name__)

NONCE_LENGTH = 25
HISTORY_PAGE = 100
HISTORY_PAGES = 5
DISCORD_EPOCH_MS = 1_420_070_400_000


def delivery_nonce(key: str) -> str:
    """The message nonce of a delivery: 25 hex characters of the key's SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()[:NONCE_LENGTH]


def snowflake_at(moment: datetime) -> int:
    """The smallest Discord id of ``moment``, for ``after=`` in history reads."""
    return max(int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS, 0) << 22


class DiscordReportPoster:
    """Posts scheduled reports to Discord channels (by id), tagged for exactly-once delivery."""

    platform = "discord"

    def __init__(
        self,
        client: discord.Client,
        *,
        post_timeout: float | None = None,
        chart: Callable[[Report], bytes] | None = None,
    ) -> None:
        """Post through ``client``'s logged-in HTTP session, each call within ``post_timeout`` s.

        ``chart`` draws the PNG attached to each report (none without it).
        """
        self.client = client
        self.post_timeout = post_timeout
        self.chart = chart

    def render(self, report: Report) -> str:
        """The message (and its chart, base64, under ``files``) as JSON, kept on the row."""
        try:
            drawn = None if self.chart is None else self.chart(report)
        except Exception:  # a chart is a bonus: the report goes out without it
            log.exception("discord_chart_failed", platform="discord")
            drawn = None
        if drawn is None:
            return json.dumps(render_discord_message(report), ensure_ascii=False)
        message: dict[str, Any] = dict(render_discord_message(report, image=CHART_FILENAME))
        png = base64.b64encode(drawn).decode("ascii")
        message["files"] = [{"filename": CHART_FILENAME, "content": png}]
        return json.dumps(message, ensure_ascii=False)

    async def find_posted(self, channel: str, key: str, since: datetime) -> str | None:
        """``<channel id>/<message id>`` of an earlier post carrying ``key``, from history."""
        channel_id = _channel_id(channel)
        after = snowflake_at(since)
        me = self.client.user.id if self.client.user is not None else None
        for _ in range(HISTORY_PAGES):
            route = Route("GET", "/channels/{channel_id}/messages", channel_id=channel_id)
            page: list[dict[str, Any]] = await self._call(
                channel,
                self.client.http.request(route, params={"limit": HISTORY_PAGE, "after": after}),
            )
            for message in page:
                author = (message.get("author") or {}).get("id")
                if me is not None and str(author) != str(me):
                    continue
                if delivery_key_in(message) == key:
                    return f"{channel_id}/{message['id']}"
            if len(page) < HISTORY_PAGE:
                return None
            after = max(int(m["id"]) for m in page)
        return None

    async def post(self, channel: str, payload: str, key: str) -> str:
        """Post the stored message with its key and nonce; returns ``<channel id>/<id>``."""
        channel_id = _channel_id(channel)
        stored: dict[str, Any] = json.loads(payload)
        files = [
            discord.File(io.BytesIO(base64.b64decode(f["content"])), filename=f["filename"])
            for f in stored.pop("files", None) or []
        ]
        message: DiscordMessage = with_delivery_key(stored, key)  # type: ignore[arg-type]
        body: dict[str, Any] = {**message, "nonce": delivery_nonce(key), "enforce_nonce": True}
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        if files:
            request = self.client.http.request(route, files=files, form=_multipart(body, files))
        else:
            request = self.client.http.request(route, json=body)
        data: dict[str, Any] = await self._call(channel, request)
        return f"{channel_id}/{data['id']}"

    async def resume(self, channel: str, payload: str, message_id: str) -> None:
        """Nothing to finish: the chart goes with the message itself, as its attachment."""

    async def _call(self, channel: str, request: Any) -> Any:
        target = f"discord:{channel}"
        try:
            async with asyncio.timeout(self.post_timeout):
                return await request
        except discord.RateLimited as exc:
            raise DeliveryFailed(
                target, "rate limited (429)", permanent=False, retry_after=exc.retry_after
            ) from None
        except discord.HTTPException as exc:
            problem = describe_http_error(exc)
            log.warning(
                "discord_post_failed",
                platform="discord",
                channel=channel,
                status=problem.status,
                code=problem.code,
                permanent=problem.permanent,
                reason=problem.reason,
            )
            raise DeliveryFailed(target, problem.reason, permanent=problem.permanent) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryFailed(target, type(exc).__name__, permanent=False) from None


def _multipart(body: dict[str, Any], files: list[discord.File]) -> list[dict[str, Any]]:
    """The form of a message with files: ``payload_json``, then ``files[0]``, ``files[1]``…"""
    form: list[dict[str, Any]] = [{"name": "payload_json", "value": json.dumps(body)}]
    form += [
        {
            "name": f"files[{n}]",
            "value": file.fp,
            "filename": file.filename,
            "content_type": "application/octet-stream",
        }
        for n, file in enumerate(files)
    ]
    return form


def _channel_id(channel: str) -> int:
    if not channel.isdigit():
        raise DeliveryFailed(
            f"discord:{channel}",
            "Discord targets are channel ids (discord:123456789012345678)",
            permanent=True,
        )
    return int(channel)
