"""What the bot says about schedules made in a chat: confirmations, listings, refusals.

Shared by Slack and Discord; each passes its own ``escape`` (``render.slack_blocks.escape``,
``render.discord_embeds.escape``), applied to every fragment a person typed or a file holds,
so nothing pings anyone or breaks the message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from chatbot.core.schedule_requests import SCHEDULE_FORMS, ScheduleEntry

Escape = Callable[[str], str]
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
        f"Scheduled `{escape(entry.name)}`: {escape(every)} ({escape(entry.timezone)}),"
        f" the report of {escape(entry.period)}, posted here. Next: {escape(_when(entry))}."
        f" Remove it with `{command} unschedule {escape(entry.name)}`."
    )


def removed_text(entry: ScheduleEntry, escape: Escape) -> str:
    """The confirmation of a removed schedule."""
    return f"Removed the schedule `{escape(entry.name)}`; it will not post here again."


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
            f"• `{escape(entry.name)}` ({escape(source)}): `{escape(entry.cron)}`,"
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
