"""What the bot says to people on Discord, apart from reports: help, problems, periods.

One place for every sentence, so handlers stay thin and tests can compare exact texts.
"""

from __future__ import annotations

from chatbot.core.grammar import ACCEPTED
from chatbot.core.questions import DEFAULT_PERIOD, EXPLAIN_PERIOD, QUESTIONS
from chatbot.render.discord_embeds import escape

COMMAND = "support-report"
OPTION = "period"

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

SCHEDULES_UNAVAILABLE = "Schedules from the chat are not available on this bot yet."

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
        f"Ask for a support report with `/{COMMAND} period:<period>`, e.g. `last-week`,"
        " or mention me: *@support-report what happened yesterday?*\n"
        f"Questions: {questions}, e.g. `/{COMMAND} period:waiting` or"
        f" *@support-report what is waiting on us?* (without a period: `{DEFAULT_PERIOD}`;"
        f" explain: `{EXPLAIN_PERIOD}`).\n"
        f"Periods: {forms}.\n"
        "Add `private` to the period to get the report only for yourself."
    )


def bad_request_text(message: str) -> str:
    """One line naming what was wrong and what is accepted (the person's text made inert)."""
    return escape(message)
