"""The answers to questions as Slack messages: Block Kit with the report's escaping and limits.

Ticket text goes through :func:`~chatbot.render.slack_blocks.safe` (no ``<!channel>``, no
user mention, no injected link); tables of numbers sit in code blocks. Long lists end in
"… and N more" within Block Kit's section limit.
"""

from __future__ import annotations

from chatbot.core.answers import Answer, ExplainAnswer, TrendAnswer, WaitingAnswer
from chatbot.render.answers_text import (
    LABELS_SHOWN,
    NO_LABELS,
    NO_WAITING_NOW,
    WAITING_SHOWN,
    explain_table,
    explain_title,
    labels_title,
    themes_title,
    trend_table,
    trend_title,
    waiting_title,
)
from chatbot.render.slack_blocks import (
    MAIN_THEMES,
    Block,
    MessagePayload,
    breakdown_line,
    cut,
    fit_message,
    header_block,
    lines_section,
    safe,
    theme_lines_of,
    ticket_line,
)
from chatbot.render.summary import NO_THEMES
from chatbot.render.text import hours


def _code(lines: list[str]) -> str:
    return "```\n" + "\n".join(lines) + "\n```"


def render_answer_slack(answer: Answer) -> MessagePayload:
    """The answer as one message: a header and its sections, within Slack's limits."""
    blocks: list[Block]
    if isinstance(answer, WaitingAnswer):
        title = waiting_title(answer)
        multi = len(answer.repos) > 1
        shown = answer.tickets[:WAITING_SHOWN]
        lines = [f"{ticket_line(w.ticket, multi)} — waiting {hours(w.hours)}" for w in shown]
        blocks = [
            header_block(title),
            lines_section(
                "waiting",
                "*Oldest first*",
                lines or [NO_WAITING_NOW],
                unlisted=answer.total - len(shown),
            ),
        ]
    elif isinstance(answer, ExplainAnswer):
        ref = answer.activity.ticket
        title = explain_title(answer)
        blocks = [
            header_block(title),
            lines_section(
                "ticket",
                "",
                [
                    f"{ticket_line(ref, True)} — {safe(ref.state_text, 40)}",
                    safe(answer.activity.why, 200),
                ],
            ),
            lines_section("parts", "", [_code(explain_table(answer.activity))]),
        ]
    elif isinstance(answer, TrendAnswer):
        title = trend_title(answer)
        blocks = [header_block(title), lines_section("trend", "", [_code(trend_table(answer))])]
    elif answer.part == "labels":
        title = labels_title(answer)
        rows = [b for b in answer.report.breakdown if b.dimension == "label"]
        lines = [breakdown_line(b) for b in rows[:LABELS_SHOWN]]
        blocks = [
            header_block(title),
            lines_section(
                "labels", "*Largest first*", lines or [NO_LABELS], unlisted=len(rows) - len(lines)
            ),
        ]
    else:
        title = themes_title(answer)
        report = answer.report
        lines = theme_lines_of(report, MAIN_THEMES)
        more = len(report.themes) - len(lines)
        blocks = [
            header_block(title),
            lines_section("themes", "", lines or [NO_THEMES], unlisted=more),
        ]
    return fit_message(cut(title, 300), blocks)


__all__ = ["render_answer_slack", "safe"]
