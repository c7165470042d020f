"""``/support-report schedule …``, ``schedules``, ``unschedule NAME`` on Discord.

Parse with the core's schedule grammar; listing is open to everyone; making or removing a
schedule is for members with Manage Server (the interaction's resolved permissions) and the
ids in ``SCHEDULE_ADMINS``; everyone else gets one polite line. Listings, help and problems
are ephemeral; a change is answered in the channel. Every reply goes out with mentions off.
Every path ends with one ``discord_schedule_done`` line.
"""

from __future__ import annotations

import asyncio

import discord
import structlog

from chatbot.core.errors import UserInputError
from chatbot.core.grammar import Calendar
from chatbot.core.ports import ScheduleBook
from chatbot.core.schedule_requests import parse_schedule_command
from chatbot.delivery.discord.messages import COMMAND, bad_request_text
from chatbot.lazylog import get_logger
from chatbot.render.discord_embeds import escape
from chatbot.render.schedule_texts import (
    SCHEDULES_OFF,
    created_text,
    listing_text,
    refused_text,
    removed_text,
    schedule_help_text,
)

log = get_logger(__name__)

PLATFORM = "discord"
SLASH = f"/{COMMAND}"
WHO_MAY = "members with Manage Server (and the people in SCHEDULE_ADMINS)"
FAILED = (
    "Sorry, something went wrong with that schedule command. The error is logged;"
    " please try again, or tell whoever runs the bot."
)
NONE = discord.AllowedMentions.none()


def may_change_schedules(interaction: discord.Interaction, admins: frozenset[str]) -> bool:
    """True for the ids of ``SCHEDULE_ADMINS`` and members with Manage Server."""
    if str(interaction.user.id) in admins:
        return True
    return interaction.guild_id is not None and interaction.permissions.manage_guild


async def answer_schedule(
    book: ScheduleBook | None,
    admins: frozenset[str],
    calendar: Calendar,
    interaction: discord.Interaction,
    text: str,
) -> None:
    """Answer a schedule command with the interaction's response."""
    channel = str(interaction.channel_id or "")
    user = str(interaction.user.id)
    with structlog.contextvars.bound_contextvars(
        platform=PLATFORM, channel=channel, command=SLASH, user=user
    ):
        try:
            outcome, reply, public = await _answer(book, admins, calendar, interaction, text)
        except Exception:
            log.exception("discord_schedule_failed")
            outcome, reply, public = "failed", FAILED, False
        await interaction.response.send_message(
            reply, ephemeral=not public, allowed_mentions=NONE
        )
        log.info("discord_schedule_done", outcome=outcome)


async def _answer(
    book: ScheduleBook | None,
    admins: frozenset[str],
    calendar: Calendar,
    interaction: discord.Interaction,
    text: str,
) -> tuple[str, str, bool]:
    """(outcome, reply, whether the channel sees it)."""
    if book is None:
        return "off", SCHEDULES_OFF, False
    channel = str(interaction.channel_id or "")
    user = str(interaction.user.id)
    try:
        parsed = parse_schedule_command(text, calendar)
    except UserInputError as exc:
        return "bad_request", bad_request_text(str(exc)), False
    if parsed.action == "help":
        return "help", schedule_help_text(SLASH), False
    if parsed.action == "list":
        entries = await asyncio.to_thread(book.listing, PLATFORM, channel)
        return "listed", listing_text(entries, SLASH, escape), False
    if not may_change_schedules(interaction, admins):
        log.info("schedule_change_refused", action=parsed.action)
        return "refused", refused_text(WHO_MAY, SLASH), False
    try:
        if parsed.request is not None:
            request = parsed.request
            entry = await asyncio.to_thread(
                book.create, request, platform=PLATFORM, channel=channel, by=user
            )
            return "created", created_text(entry, request.every, SLASH, escape), True
        entry = await asyncio.to_thread(
            book.remove, parsed.name or "", platform=PLATFORM, channel=channel, by=user
        )
        return "removed", removed_text(entry), True
    except UserInputError as exc:
        return "bad_request", bad_request_text(str(exc)), False
