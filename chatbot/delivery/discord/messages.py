"""What the bot says to people on Discord, apart from reports: help, problems, periods.

One place for every sentence, so handlers stay thin and tests can compare exact texts.
"""

from __future__ import annotations

from chatbot.core.grammar import ACCEPTED
from chatbot.core.questions import DEFAULT_PERIOD, EXPLAIN_PERIOD, QUESTIONS
from chatbot.render.discord_embeds import escape

COMMAND = "support-report"
OPTION = "request"
"""The command's one text option: a period, a question or a schedule command."""

#: What autocomplete offers for ``period`` (at most 25, Discord's limit): periods, then questions.
COMMON_PERIODS: tuple[str, ...] = (
    "today",
    "yesterday",
    "this-week",
    "last-week",
    "this-month",
    "last-month",
    "last-7-days",
    "last-14-days",
    "last-30-days",
    "last-90-days",
    "last-week private",
    "this-month private",
    "waiting",
    "top labels",
    "themes",
    "trend",
    "trend last-month",
    "help",
)

SCHEDULE_BY_COMMAND = (
    f"Schedules are set with the command: `/{COMMAND} schedule daily 09:00 yesterday`;"
    f" `/{COMMAND} schedule help` lists the forms."
)

APOLOGY = (
    "Sorry, something went wrong while building that report. The error is logged;"
    " please try again, or tell whoever runs the bot."
)

PRIVATE_MENTION = (
    "A mention is answered in the channel. For a report only you can see, use"
    f" `/{COMMAND} <period> private`."
)


def help_text() -> str:
    """Every question and period form, and the ``private`` word, in one short message."""
    forms = ", ".join(f"`{form}`" for form in ACCEPTED)
    questions = ", ".join(f"`{q}`" for q in QUESTIONS)
    return (
        f"Ask for a support report with `/{COMMAND} request:<period>`, e.g. `last-week`,"
        " or mention me: *@support-report what happened yesterday?*\n"
        f"Questions: {questions}, e.g. `/{COMMAND} request:waiting` or"
        f" *@support-report what is waiting on us?* (without a period: `{DEFAULT_PERIOD}`;"
        f" explain: `{EXPLAIN_PERIOD}`).\n"
        f"Periods: {forms}.\n"
        "Add `private` to the period to get the report only for yourself.\n"
        f"Schedules: `/{COMMAND} request:schedules` lists this channel's; members with Manage"
        f" Server add one with `request:schedule weekly monday 09:00 last-week`"
        f" (`request:schedule help`) and remove one with `request:unschedule NAME`."
    )


def bad_request_text(message: str) -> str:
    """One line naming what was wrong and what is accepted (the person's text made inert)."""
    return escape(message)
