"""Questions on Slack: ``waiting``, ``explain #723``, ``top labels``, ``themes``, ``trend``.

The slash command and mentions parse with :func:`chatbot.core.questions.parse_question` and
route on its kind, in the same order: ``schedule`` to the schedule commands (a mention is
pointed to the slash command), ``help`` to the help text, ``report`` to the report, and
every other question to :func:`answer`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chatbot.core.questions import Question
from chatbot.delivery.slack.deps import SlackDeps
from chatbot.render.answers_slack import render_answer_slack
from chatbot.render.slack_blocks import MessagePayload
from chatbot.service import answer_question

#: Sends one line of text we wrote (help, a refusal) to the person who asked.
Reply = Callable[[str], Awaitable[None]]
#: Sends an answer's message where the question was asked.
Send = Callable[[MessagePayload], Awaitable[None]]

ANSWERED = ("waiting", "explain", "labels", "themes", "trend")


def is_answered_here(question: Question) -> bool:
    """True for the questions :func:`answer` renders (not help, a report or a schedule)."""
    return question.kind in ANSWERED


async def answer(deps: SlackDeps, question: Question, send: Send) -> None:
    """Build the answer off the loop, render it for Slack, send it."""
    built = await answer_question(deps.service, deps.build_report, question)
    await send(render_answer_slack(built))
