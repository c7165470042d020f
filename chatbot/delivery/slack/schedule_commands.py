"""``/support-report schedule …``, ``schedules``, ``unschedule NAME`` on Slack.

Parse with the core's schedule grammar; listing is open to everyone; making or removing a
schedule is for workspace admins and owners (``users.info``, scope ``users:read``) and the
ids in ``SCHEDULE_ADMINS``; everyone else gets one polite line. The answer is the slash
command's ack: ephemeral for listings, help and problems, in the channel for a change (so the
channel sees what will post to it). Every path ends with one ``slack_schedule_done`` line.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError

from chatbot.core.errors import UserInputError
from chatbot.core.schedule_requests import parse_schedule_command
from chatbot.delivery.slack.deps import SlackDeps
from chatbot.delivery.slack.messages import COMMAND, bad_request_text
from chatbot.lazylog import get_logger
from chatbot.render.schedule_texts import (
    SCHEDULES_OFF,
    created_text,
    listing_text,
    refused_text,
    removed_text,
    schedule_help_text,
)
from chatbot.render.slack_blocks import escape

log = get_logger(__name__)

PLATFORM = "slack"
WHO_MAY = "workspace admins and owners (and the people in SCHEDULE_ADMINS)"
FAILED = (
    "Sorry, something went wrong with that schedule command. The error is logged;"
    " please try again, or tell whoever runs the bot."
)


async def may_change_schedules(deps: SlackDeps, user: str) -> bool:
    """True for the ids of ``SCHEDULE_ADMINS`` and workspace admins and owners."""
    if user and user in deps.schedule_admins:
        return True
    if not user:
        return False
    try:
        response = await deps.poster.client.users_info(user=user)
    except SlackApiError as exc:
        log.warning(
            "slack_users_info_failed",
            error=exc.response.get("error", "error"),
            hint="the app needs the users:read scope (reinstall it after adding the scope)",
        )
        return False
    profile: dict[str, Any] = response.get("user") or {}
    return any(bool(profile.get(k)) for k in ("is_admin", "is_owner", "is_primary_owner"))


async def answer_schedule(deps: SlackDeps, ack: AsyncAck, command: dict[str, Any]) -> None:
    """Answer a schedule command in the slash command's ack."""
    channel = str(command.get("channel_id", ""))
    user = str(command.get("user_id", ""))
    text = str(command.get("text", ""))
    with structlog.contextvars.bound_contextvars(
        platform=PLATFORM, channel=channel, command=COMMAND, user=user
    ):
        try:
            outcome = await _answer(deps, ack, text, channel, user)
        except Exception:
            log.exception("slack_schedule_failed")
            await ack(text=FAILED, response_type="ephemeral")
            outcome = "failed"
        log.info("slack_schedule_done", outcome=outcome)


async def _answer(deps: SlackDeps, ack: AsyncAck, text: str, channel: str, user: str) -> str:
    book = deps.schedules
    if book is None:
        await ack(text=SCHEDULES_OFF, response_type="ephemeral")
        return "off"
    try:
        parsed = parse_schedule_command(text, deps.service.calendar())
    except UserInputError as exc:
        await ack(text=bad_request_text(str(exc)), response_type="ephemeral")
        return "bad_request"
    if parsed.action == "help":
        await ack(text=schedule_help_text(COMMAND), response_type="ephemeral")
        return "help"
    if parsed.action == "list":
        entries = await asyncio.to_thread(book.listing, PLATFORM, channel)
        await ack(text=listing_text(entries, COMMAND, escape), response_type="ephemeral")
        return "listed"
    if not await may_change_schedules(deps, user):
        await ack(text=refused_text(WHO_MAY, COMMAND), response_type="ephemeral")
        log.info("schedule_change_refused", action=parsed.action)
        return "refused"
    try:
        if parsed.request is not None:
            request = parsed.request
            entry = await asyncio.to_thread(
                book.create, request, platform=PLATFORM, channel=channel, by=user
            )
            reply = created_text(entry, request.every, COMMAND, escape)
            outcome = "created"
        else:
            entry = await asyncio.to_thread(
                book.remove, parsed.name or "", platform=PLATFORM, channel=channel, by=user
            )
            reply = removed_text(entry)
            outcome = "removed"
    except UserInputError as exc:
        await ack(text=bad_request_text(str(exc)), response_type="ephemeral")
        return "bad_request"
    await ack(text=reply, response_type="in_channel")
    return outcome
