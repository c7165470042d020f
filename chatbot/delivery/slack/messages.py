"""What the bot says to people on Slack, apart from reports: help, progress, problems.

One place for every sentence, so listeners stay thin and tests can compare exact texts.
"""

from __future__ import annotations

from chatbot.core.grammar import ACCEPTED
from chatbot.core.periods import Period
from chatbot.core.questions import DEFAULT_PERIOD, EXPLAIN_PERIOD, QUESTIONS
from chatbot.render.slack_blocks import escape

COMMAND = "/support-report"

APOLOGY = (
    "Sorry, something went wrong while building that report. The error is logged;"
    " please try again, or tell whoever runs the bot."
)

SCHEDULE_BY_COMMAND = (
    f"Schedules are set with the command: `{COMMAND} schedule daily 09:00 yesterday`;"
    f" `{COMMAND} schedule help` lists the forms."
)

STORE_UNAVAILABLE = (
    "Sorry, I can't reach my ticket store right now; please try again in a minute,"
    " or tell whoever runs the bot."
)


def help_text(command: str = COMMAND) -> str:
    """Every question and period form, and the ``private`` word, in one short message."""
    forms = ", ".join(f"`{form}`" for form in ACCEPTED)
    questions = ", ".join(f"`{q}`" for q in QUESTIONS)
    return (
        f"Ask for a support report with `{command} <period>`, e.g. `{command} last-week`,"
        f" or mention me: _@support-report what happened yesterday?_\n"
        f"Questions: {questions}, e.g. `{command} waiting` or"
        f" _@support-report what is waiting on us?_ (without a period: `{DEFAULT_PERIOD}`;"
        f" explain: `{EXPLAIN_PERIOD}`).\n"
        f"Periods: {forms}.\n"
        "Add `private` to get the report only for yourself.\n"
        f"Schedules: `{command} schedules` lists this channel's; admins add one with"
        f" `{command} schedule weekly monday 09:00 last-week` (`{command} schedule help`)"
        f" and remove one with `{command} unschedule NAME`."
    )


def working_text(period: Period) -> str:
    """The immediate acknowledgement of a request."""
    return f"Working on the report for {period.describe()}…"


def bad_request_text(message: str) -> str:
    """One line naming what was wrong with the request and what is accepted (escaped)."""
    return escape(message)
