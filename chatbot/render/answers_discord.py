"""The answers to questions as Discord messages: one embed each, within Discord's limits.

Ticket text goes through :func:`~chatbot.render.discord_embeds.safe` (no mention, markdown
or link); tables of numbers sit in code blocks; nothing in the message may ping.
"""

from __future__ import annotations

from chatbot.core.answers import Answer, ExplainAnswer, ReportPart, TrendAnswer, WaitingAnswer
from chatbot.render.answers_text import (
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
from chatbot.render.discord_embeds import (
    MAX_DESCRIPTION,
    DiscordMessage,
    Embed,
    embed_of,
    fit_lines,
    labels_embed,
    no_mentions,
    safe,
    themes_embed,
    ticket_line,
)
from chatbot.render.text import hours

BUDGET = 5000


def _code(lines: list[str]) -> str:
    return "```\n" + "\n".join(lines) + "\n```"


def _titled(embed: Embed, title: str) -> Embed:
    embed["title"] = embed_of(title)["title"]
    return embed


def render_answer_discord(answer: Answer) -> DiscordMessage:
    """The answer as one message with one embed, pinging nobody."""
    if isinstance(answer, WaitingAnswer):
        multi = len(answer.repos) > 1
        shown = answer.tickets[:WAITING_SHOWN]
        lines = [f"{ticket_line(w.ticket, multi)} — waiting {hours(w.hours)}" for w in shown]
        unlisted = answer.total - len(shown)
        embed = embed_of(
            waiting_title(answer),
            fit_lines("", lines or [NO_WAITING_NOW], MAX_DESCRIPTION - 200, unlisted),
        )
    elif isinstance(answer, ExplainAnswer):
        ref = answer.activity.ticket
        head = f"{ticket_line(ref, True)} — {safe(ref.state_text, 40)}"
        head += f"\n{safe(answer.activity.why, 200)}"
        embed = embed_of(explain_title(answer), f"{head}\n{_code(explain_table(answer.activity))}")
    elif isinstance(answer, TrendAnswer):
        embed = embed_of(trend_title(answer), _code(trend_table(answer)))
    elif answer.part == "labels":
        embed = _titled(labels_embed(answer.report, BUDGET), labels_title(answer))
    else:
        embed = _titled(themes_embed(answer.report, BUDGET), themes_title(answer))
    return {"embeds": [embed], "allowed_mentions": no_mentions()}


__all__ = ["ReportPart", "render_answer_discord"]
