"""The report as Slack Block Kit messages: a main message and its thread replies.

Pure functions, no I/O. :func:`render_slack_report` returns a :class:`SlackReport`: the main
message (header with the period, the summary as fields with the previous period's deltas,
the most active tickets, common issues, recommendations) and the thread replies holding
the detail (why each ticket is active, every label and form field, every related ticket).

Whatever the tickets say, every payload stays inside Slack's limits (50 blocks a message,
section text 3000, field text 2000, 10 fields, header 150, block_id 255): long lists are cut
with "… and N more" rather than failing. Untrusted text (titles, labels, themes,
recommendations) is escaped (``&``, ``<``, ``>``) so no ticket can ping ``@channel`` or a
user or inject a link, and every mrkdwn object is ``verbatim``. The numbers are those of
the Markdown and JSON renderings (the same :mod:`chatbot.render.text` helpers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Literal, NotRequired, TypedDict

from chatbot.core.report import Activity, Breakdown, Recommendation, Report, TicketRef
from chatbot.render.summary import (
    NO_ACTIVITY,
    NO_RECOMMENDATIONS,
    NO_THEMES,
    NO_WAITING,
    SummaryFigure,
    comparison_text,
    summary_figures,
    theme_number,
    theme_summary,
    trend_name,
    waiting_heading,
    waiting_more,
)
from chatbot.render.text import hours, one_line

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_BLOCK_ID = 255
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK_TEXT = 3000
#: Slack refuses messages whose blocks hold much more than ~13k characters in all
#: (``msg_blocks_too_long``); stay well below.
MESSAGE_TEXT_BUDGET = 11_000
MAX_THREAD_MESSAGES = 4

TITLE_LIMIT = 90
TEXT_LIMIT = 400
MAIN_TICKETS = 10
MAIN_THEMES = 5
MAIN_THEME_LINKS = 5
MAIN_RECOMMENDATIONS = 6


class PlainText(TypedDict):
    """A ``plain_text`` composition object."""

    type: Literal["plain_text"]
    text: str
    emoji: bool


class Mrkdwn(TypedDict):
    """A ``mrkdwn`` composition object (always ``verbatim``: no auto-linking)."""

    type: Literal["mrkdwn"]
    text: str
    verbatim: bool


class HeaderBlock(TypedDict):
    """A header block (plain text, at most 150 characters)."""

    type: Literal["header"]
    block_id: str
    text: PlainText


class SectionBlock(TypedDict):
    """A section block with text and/or up to ten fields."""

    type: Literal["section"]
    block_id: str
    text: NotRequired[Mrkdwn]
    fields: NotRequired[list[Mrkdwn]]


class ContextBlock(TypedDict):
    """A context block: small print, up to ten elements."""

    type: Literal["context"]
    block_id: str
    elements: list[Mrkdwn]


class DividerBlock(TypedDict):
    """A divider block."""

    type: Literal["divider"]
    block_id: str


Block = HeaderBlock | SectionBlock | ContextBlock | DividerBlock


class MessagePayload(TypedDict):
    """What ``chat.postMessage`` (or a response_url) takes: fallback text and blocks."""

    text: str
    blocks: list[Block]


class SlackReport(TypedDict):
    """A report for Slack: the main message and the replies for its thread."""

    main: MessagePayload
    thread: list[MessagePayload]


# ---------------------------------------------------------------------------------------
# Escaping and cutting


def escape(text: str) -> str:
    """Untrusted text made inert for mrkdwn: ``&``, ``<`` and ``>`` become entities.

    Slack pings and links only through ``<...>`` sequences (``<!channel>``, ``<@U123>``,
    ``<http://x|y>``), so escaping the angle brackets defuses all of them.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe(text: str, limit: int | None = TEXT_LIMIT) -> str:
    """Untrusted text on one line, cut to ``limit`` characters, then escaped."""
    return escape(one_line(text, limit))


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (for text we composed)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _url(url: str) -> str | None:
    if not re.match(r"https?://", url):
        return None
    return url.replace(" ", "%20").replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


def ticket_link(ref: TicketRef, multi_repo: bool) -> str:
    """``<url|#12>`` (``<url|owner/name#12>`` across repositories); plain text without a URL."""
    label = escape(ref.reference if multi_repo else f"#{ref.number}")
    url = _url(ref.url)
    return f"<{url}|{label}>" if url else label


def _linkify(rec: Recommendation, multi_repo: bool) -> str:
    by_number = {str(r.number): r for r in rec.tickets}

    def link(match: re.Match[str]) -> str:
        ref = by_number.get(match.group(1))
        return ticket_link(ref, multi_repo) if ref else match.group(0)

    return re.sub(r"(?<![\w/])#(\d+)", link, safe(rec.text, 600))


def _mrkdwn(text: str) -> Mrkdwn:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _block_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name)[:MAX_BLOCK_ID]


def _fit_lines(heading: str, lines: Sequence[str], limit: int, unlisted: int = 0) -> str:
    """``heading`` and as many whole ``lines`` as fit in ``limit``, then "… and N more".

    ``unlisted`` counts items left out before rendering (a capped list), so N covers them too.
    """
    parts = [heading] if heading else []
    size = len(heading)
    shown = 0
    for i, line in enumerate(lines):
        add = len(line) + (1 if parts else 0)
        left = len(lines) - i - 1 + unlisted
        tail = len(f"\n… and {left} more") if left else 0
        if size + add + tail > limit:
            break
        parts.append(line)
        size += add
        shown += 1
    if shown < len(lines) + unlisted:
        parts.append(f"… and {len(lines) - shown + unlisted} more")
    return cut("\n".join(parts), limit)


def _chunks(heading: str, lines: Sequence[str], limit: int) -> list[str]:
    """``heading`` and every line, split into texts of at most ``limit`` characters."""
    out: list[str] = []
    current = cut(heading, limit)
    for raw in lines:
        line = cut(raw, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            out.append(current)
            current = line
        else:
            current = candidate
    out.append(current)
    return [text for text in out if text]


def lines_section(
    block_id: str,
    heading: str,
    lines: Sequence[str],
    *,
    limit: int = MAX_SECTION_TEXT,
    unlisted: int = 0,
) -> SectionBlock:
    """One section: ``heading`` and as many ``lines`` as fit, then "… and N more"
    (``unlisted``: items of a capped list that ``lines`` leaves out)."""
    text = _fit_lines(heading, lines, limit, unlisted)
    return {"type": "section", "block_id": _block_id(block_id), "text": _mrkdwn(text or " ")}


def header_block(text: str) -> HeaderBlock:
    return {
        "type": "header",
        "block_id": "header",
        "text": {
            "type": "plain_text",
            "text": cut(one_line(text), MAX_HEADER_TEXT),
            "emoji": False,
        },
    }


def context_block(block_id: str, parts: Iterable[str]) -> ContextBlock:
    elements = [_mrkdwn(cut(p, MAX_SECTION_TEXT)) for p in parts if p][:MAX_CONTEXT_ELEMENTS]
    return {"type": "context", "block_id": _block_id(block_id), "elements": elements}


def _divider(block_id: str) -> DividerBlock:
    return {"type": "divider", "block_id": _block_id(block_id)}


def _block_text(block: Block) -> int:
    if block["type"] == "section":
        size = len(block["text"]["text"]) if "text" in block else 0
        return size + sum(len(f["text"]) for f in block.get("fields", []))
    if block["type"] == "context":
        return sum(len(e["text"]) for e in block["elements"])
    if block["type"] == "header":
        return len(block["text"]["text"])
    return 0


def fit_message(text: str, blocks: Sequence[Block]) -> MessagePayload:
    """A payload of ``blocks`` kept within the block count and the total text budget."""
    kept: list[Block] = []
    used = 0
    for i, block in enumerate(blocks):
        size = _block_text(block)
        if len(kept) >= MAX_BLOCKS - 1 or used + size > MESSAGE_TEXT_BUDGET - 200:
            kept.append(
                context_block(
                    "cut", [f"… and {len(blocks) - i} more parts (all in the JSON report)"]
                )
            )
            break
        kept.append(block)
        used += size
    return {"text": cut(text, MAX_FALLBACK_TEXT), "blocks": kept}


# ---------------------------------------------------------------------------------------
# Summary


def _summary_field(figure: SummaryFigure) -> Mrkdwn:
    trend = ""
    if figure["previous"] is not None:
        change = f", {figure['change']}" if figure["change"] else ""
        trend = f"\n_{figure['against']}: {figure['previous']}{change}_"
    return _mrkdwn(cut(f"*{figure['name']}*\n{figure['value']}{trend}", MAX_FIELD_TEXT))


def summary_block(report: Report) -> SectionBlock:
    """The summary as section fields (eight of at most ten)."""
    fields = [
        _summary_field(f)
        for f in summary_figures(report.figures, report.previous, trend_name(report))
    ]
    return {
        "type": "section",
        "block_id": "summary",
        "text": _mrkdwn("*Summary*"),
        "fields": fields[:MAX_FIELDS],
    }


# ---------------------------------------------------------------------------------------
# Sections


def ticket_line(ref: TicketRef, multi: bool) -> str:
    return f"• {ticket_link(ref, multi)} {safe(ref.title, TITLE_LIMIT)}"


def _active_line(activity: Activity, multi: bool, why: bool) -> str:
    line = f"{ticket_line(activity.ticket, multi)} — {safe(activity.ticket.state_text, 40)}"
    line += f" · activity {activity.score:.2f}"
    return f"{line} · {safe(activity.why, 200)}" if why else line


def _waiting_lines(report: Report, multi: bool) -> list[str]:
    lines = [f"{ticket_line(w.ticket, multi)} — waiting {hours(w.hours)}" for w in report.waiting]
    if (more := waiting_more(report)) is not None:
        lines.append(more)
    return lines or [NO_WAITING]


def breakdown_line(row: Breakdown) -> str:
    return (
        f"• {safe(row.value, 80)}: {row.received} received · {row.resolved} resolved"
        f" · {row.pending} pending"
    )


def _context_line(report: Report) -> list[str]:
    period = report.period
    generated = report.generated_at.astimezone(period.zone)
    parts = [
        f"Generated {generated:%Y-%m-%d %H:%M} ({escape(period.tz)}) · {safe(period.label, 80)}"
    ]
    if report.repos:
        parts.append("Repositories: " + ", ".join(safe(r, 100) for r in report.repos[:20]))
    if (comparison := comparison_text(report)) is not None:
        parts.append(comparison)
    if report.analysis_note:
        parts.append("Analysis: " + safe(report.analysis_note, 200))
    return parts


def theme_lines_of(report: Report, count: int) -> list[str]:
    """The first ``count`` themes, one mrkdwn line each: title, summary, its tickets' links."""
    multi = len(report.repos) > 1
    lines = []
    for i, theme in enumerate(report.themes[:count], 1):
        links = ", ".join(ticket_link(r, multi) for r in theme.tickets[:MAIN_THEME_LINKS])
        extra = len(theme.tickets) - MAIN_THEME_LINKS
        if extra > 0:
            links += f" and {extra} more"
        lines.append(
            f"*{theme_number(theme, i)}{safe(theme.title, 100)}* —"
            f" {safe(theme_summary(theme), 300)}\n{links}"
        )
    return lines


def fallback_text(report: Report) -> str:
    """The notification text: the period and its three headline numbers."""
    f = report.figures
    return cut(
        f"Support report for {report.period.describe()}: {f.received} received,"
        f" {f.resolved} resolved, {f.backlog} open at period end.",
        MAX_FALLBACK_TEXT,
    )


def main_message(report: Report) -> MessagePayload:
    """The main message: header, summary, most active tickets, themes, recommendations."""
    multi = len(report.repos) > 1
    blocks: list[Block] = [
        header_block(f"Support report: {report.period.describe()}"),
        context_block("meta", _context_line(report)),
        summary_block(report),
        _divider("div-1"),
    ]
    shown = len(report.most_active)
    heading = f"*{shown} most active tickets* (of {report.active_total} active in the period)"
    if shown:
        lines = [_active_line(a, multi, why=False) for a in report.most_active[:MAIN_TICKETS]]
        if shown > MAIN_TICKETS:
            lines.append(f"… and {shown - MAIN_TICKETS} more in the thread")
        blocks.append(lines_section("most-active", heading, lines))
    else:
        blocks.append(
            lines_section(
                "most-active",
                "*Most active tickets*",
                [NO_ACTIVITY],
            )
        )

    if report.themes:
        theme_lines = theme_lines_of(report, MAIN_THEMES)
        if len(report.themes) > MAIN_THEMES:
            theme_lines.append(f"… and {len(report.themes) - MAIN_THEMES} more in the thread")
        blocks.append(lines_section("themes", "*Common issues*", theme_lines))
    else:
        blocks.append(
            lines_section(
                "themes",
                "*Common issues*",
                [NO_THEMES],
            )
        )

    blocks.append(
        lines_section("waiting", f"*{waiting_heading(report)}*", _waiting_lines(report, multi))
    )

    if report.recommendations:
        recs = [f"• {_linkify(r, multi)}" for r in report.recommendations[:MAIN_RECOMMENDATIONS]]
        if len(report.recommendations) > MAIN_RECOMMENDATIONS:
            recs.append(f"… and {len(report.recommendations) - MAIN_RECOMMENDATIONS} more")
        blocks.append(lines_section("recommendations", "*Recommendations*", recs))
    else:
        blocks.append(
            lines_section(
                "recommendations",
                "*Recommendations*",
                [NO_RECOMMENDATIONS],
            )
        )
    blocks.append(
        context_block(
            "more",
            [
                "Why each ticket is active, labels, form fields and every related ticket:"
                " in the thread."
            ],
        )
    )
    return fit_message(fallback_text(report), blocks)


def _detail_sections(report: Report) -> list[tuple[str, str, list[str]]]:
    multi = len(report.repos) > 1
    sections: list[tuple[str, str, list[str]]] = []
    if report.most_active:
        sections.append(
            (
                "why",
                "*Most active tickets: why*",
                [_active_line(a, multi, why=True) for a in report.most_active],
            )
        )
    labels = [b for b in report.breakdown if b.dimension == "label"]
    sections.append(
        (
            "labels",
            "*By label*",
            [breakdown_line(b) for b in labels]
            or ["No labelled ticket was received or resolved in this period."],
        )
    )
    fields = [b for b in report.breakdown if b.dimension != "label"]
    for n, name in enumerate(dict.fromkeys(b.dimension for b in fields)):
        rows = [breakdown_line(b) for b in fields if b.dimension == name]
        sections.append((f"field-{n}", f"*By form field: {safe(name, 80)}*", rows))
    for i, theme in enumerate(report.themes, 1):
        sections.append(
            (
                f"theme-{i}",
                f"*{theme_number(theme, i)}{safe(theme.title, 100)}*"
                f" — {safe(theme_summary(theme), 300)}",
                [ticket_line(r, multi) for r in theme.tickets],
            )
        )
    if report.daily_links:
        sections.append(
            (
                "dailies",
                "*Daily reports of this week*",
                [f"• {safe(d.day, 20)}" for d in report.daily_links],
            )
        )
    return sections


def _section_blocks(name: str, heading: str, lines: list[str]) -> list[SectionBlock]:
    """A long list as consecutive sections, each within the section text limit."""
    return [
        {"type": "section", "block_id": _block_id(f"{name}-{n}"), "text": _mrkdwn(text)}
        for n, text in enumerate(_chunks(heading, lines, MAX_SECTION_TEXT))
    ]


def thread_messages(report: Report) -> list[MessagePayload]:
    """The thread replies: every detail the main message leaves out, in a few messages."""
    blocks: list[Block] = []
    for name, heading, lines in _detail_sections(report):
        blocks.extend(_section_blocks(name, heading, lines))
    messages: list[MessagePayload] = []
    text = f"Details of the support report for {report.period.describe()}"
    current: list[Block] = []
    used = 0
    for i, block in enumerate(blocks):
        size = _block_text(block)
        if current and (len(current) >= MAX_BLOCKS - 1 or used + size > MESSAGE_TEXT_BUDGET - 200):
            if len(messages) == MAX_THREAD_MESSAGES - 1:
                current.append(
                    context_block(
                        "cut", [f"… and {len(blocks) - i} more parts (all in the JSON report)"]
                    )
                )
                break
            messages.append(fit_message(text, current))
            current, used = [], 0
        current.append(block)
        used += size
    if current:
        messages.append(fit_message(text, current))
    return messages


def render_slack_report(report: Report) -> SlackReport:
    """The report as Slack messages: the main one and its thread replies."""
    return {"main": main_message(report), "thread": thread_messages(report)}


def render_slack_json(report: Report) -> str:
    """The Slack messages as JSON (``main`` and ``thread``), e.g. for Block Kit Builder."""
    return json.dumps(render_slack_report(report), indent=2, ensure_ascii=False) + "\n"
