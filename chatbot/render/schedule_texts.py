"""What the bot says about schedules made in a chat: confirmations, listings, refusals.

Shared by Slack and Discord; each passes its own ``escape`` (``render.slack_blocks.escape``,
``render.discord_embeds.escape``), applied to every prose fragment a person typed or a file
holds, so nothing pings anyone or breaks the message. Names and cron lines are shown in code
spans, where markdown escapes would show as backslashes: :func:`code` keeps them inert there
(no backtick to close the span, ``<`` ``>`` ``&`` and ``@`` defused).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from chatbot.core.schedule_requests import SCHEDULE_FORMS, ScheduleEntry
from chatbot.render.text import defuse_mentions

Escape = Callable[[str], str]


def code(text: str) -> str:
    """``text`` for the inside of a code span on any platform: one line, no backtick, and
    nothing Slack reads as a mention (``<``, ``>``, ``&``) or Discord does (``@``)."""
    flat = " ".join(text.split()).replace("`", "'")
    flat = flat.replace("<", "‹").replace(">", "›").replace("&", "+")
    return defuse_mentions(flat)

LISTED = 25
"""At most this many schedules are listed in one reply (a chat message has a size limit)."""


def _when(entry: ScheduleEntry) -> str:
    if entry.next_fire is None:
        return "never"
    local = entry.next_fire.astimezone(ZoneInfo(entry.timezone))
    return f"{local:%a %Y-%m-%d %H:%M} {entry.timezone}"


def created_text(entry: ScheduleEntry, every: str, command: str, escape: Escape) -> str:
    """The confirmation of a new schedule: its name, when it fires, how to remove it."""
    return (
        f"Scheduled `{code(entry.name)}`: {escape(every)} ({escape(entry.timezone)}),"
        f" the report of {escape(entry.period)}, posted here. Next: {escape(_when(entry))}."
        f" Remove it with `{command} unschedule {code(entry.name)}`."
    )


def removed_text(entry: ScheduleEntry) -> str:
    """The confirmation of a removed schedule."""
    return f"Removed the schedule `{code(entry.name)}`; it will not post here again."


def listing_text(entries: Sequence[ScheduleEntry], command: str, escape: Escape) -> str:
    """The schedules posting to a channel, one line each, with their next fire times."""
    if not entries:
        return (
            "No schedules post to this channel. Make one with"
            f" `{command} schedule weekly monday 09:00 last-week`."
        )
    lines = [f"Schedules posting here ({len(entries)}):"]
    for entry in entries[:LISTED]:
        source = "file" if entry.source == "file" else f"chat, by {entry.created_by or '?'}"
        lines.append(
            f"• `{code(entry.name)}` ({escape(source)}): `{code(entry.cron)}`,"
            f" {escape(entry.period)}; next {escape(_when(entry))}"
        )
    if len(entries) > LISTED:
        lines.append(f"…and {len(entries) - LISTED} more (`chatbot schedules` lists them all).")
    return "\n".join(lines)


def schedule_help_text(command: str) -> str:
    """How to make, list and remove schedules from the chat."""
    forms = "; ".join(f"`{command} {form}`" for form in SCHEDULE_FORMS)
    return (
        f"Make a schedule that posts here: {forms}. Times are the team's time zone (TZ)."
        f" `{command} schedules` lists this channel's schedules;"
        f" `{command} unschedule NAME` removes one."
    )


def refused_text(who_may: str, command: str) -> str:
    """The polite line for someone who may not change schedules."""
    return (
        f"Sorry, only {who_may} can make or remove schedules."
        f" Anyone can see them with `{command} schedules`."
    )


SCHEDULES_OFF = "Schedules from the chat are not set up on this bot."
