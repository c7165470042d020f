"""The report as Markdown, in the seed generator's layout (kept) without its failures:
no section is left silently empty, recommendations are few and cite their tickets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chatbot.core.report import Figures, Report, TicketRef
from chatbot.render.chart import CHART_ALT
from chatbot.render.summary import (
    NO_ACTIVITY,
    NO_RECOMMENDATIONS,
    NO_THEMES,
    NO_WAITING,
    comparison_text,
    summary_figures,
    theme_number,
    theme_summary,
    trend_name,
    waiting_heading,
    waiting_more,
)
from chatbot.render.text import hours, md_inline

MAX_LABEL_ROWS = 15
MAX_FIELD_ROWS = 8
TITLE_LIMIT = 100


def ticket_link(ref: TicketRef, multi_repo: bool) -> str:
    """``[#12](url)``, or ``[owner/name#12](url)`` when the report spans repositories."""
    text = ref.reference if multi_repo else f"#{ref.number}"
    return f"[{md_inline(text)}]({ref.url})"


def _linkify(text: str, refs: Sequence[TicketRef], multi_repo: bool) -> str:
    by_number = {str(r.number): r for r in refs}

    def link(match: re.Match[str]) -> str:
        ref = by_number.get(match.group(1))
        return ticket_link(ref, multi_repo) if ref else match.group(0)

    return re.sub(r"(?<![\w/])#(\d+)", link, md_inline(text))


def _link_target(path: str) -> str:
    """A relative path as a Markdown link target: ``<…>`` if it has spaces or parentheses."""
    return f"<{path}>" if any(c in path for c in " ()<>") else path


def summary_lines(
    figures: Figures, previous: Figures | None, against: str = "previous period"
) -> list[str]:
    """The Summary section's bullet lines."""
    lines = []
    for figure in summary_figures(figures, previous, against):
        trend = ""
        if figure["previous"] is not None:
            change = f", {figure['change']}" if figure["change"] else ""
            trend = f" ({figure['against']}: {figure['previous']}{change})"
        lines.append(f"- **{figure['name']}:** {figure['value']}{trend}")
    return lines


def render_markdown(report: Report, *, chart: str | None = None) -> str:
    """The whole report as a Markdown document.

    ``chart`` is the path of the report's chart image relative to the Markdown file (the file
    writer passes ``report.png``); the Summary links it. Without it, no image is linked.
    """
    multi = len(report.repos) > 1
    period = report.period
    out = [
        "# Support Ticket Report",
        f"- Generated: {report.generated_at.astimezone(period.zone):%Y-%m-%d %H:%M} ({period.tz})",
        f"- Period: {period.describe()} — `{md_inline(period.label)}`",
    ]
    if report.repos:
        out.append(f"- Repositories: {', '.join(md_inline(r) for r in report.repos)}")
    if (comparison := comparison_text(report)) is not None:
        out.append(f"- {comparison}")
    if report.analysis_note:
        out.append(f"- Analysis: {md_inline(report.analysis_note)}")
    summary = summary_lines(report.figures, report.previous, trend_name(report))
    out += ["", "## Summary", *summary, ""]
    if chart is not None:
        out += [f"![{CHART_ALT}]({_link_target(chart)})", ""]

    shown = len(report.most_active)
    out.append(f"## {shown} Most Active Tickets (of {report.active_total} active in the period)")
    if shown:
        out += [
            "| Ticket | Title | State | Activity Level | Why |",
            "|--------|-------|-------|----------------|-----|",
        ]
        out += [
            f"| {ticket_link(a.ticket, multi)} | {md_inline(a.ticket.title, TITLE_LIMIT)} | "
            f"{md_inline(a.ticket.state_text)} | {a.score:.2f} | {md_inline(a.why)} |"
            for a in report.most_active
        ]
    else:
        out.append(NO_ACTIVITY)
    out.append("")

    out.append(f"## {waiting_heading(report)}")
    if report.waiting:
        out += ["| Ticket | Title | Waiting |", "|--------|-------|---------|"]
        out += [
            f"| {ticket_link(w.ticket, multi)} | {md_inline(w.ticket.title, TITLE_LIMIT)} | "
            f"{hours(w.hours)} |"
            for w in report.waiting
        ]
        if (more := waiting_more(report)) is not None:
            out.append(f"\n{more}")
    else:
        out.append(NO_WAITING)
    out.append("")

    labels = [b for b in report.breakdown if b.dimension == "label"]
    out.append("## By Label")
    if labels:
        out += [
            "| Label | Received | Resolved | Pending |",
            "|-------|----------|----------|---------|",
        ]
        out += [
            f"| {md_inline(b.value, 60)} | {b.received} | {b.resolved} | {b.pending} |"
            for b in labels[:MAX_LABEL_ROWS]
        ]
        if len(labels) > MAX_LABEL_ROWS:
            out.append(
                f"\n… and {len(labels) - MAX_LABEL_ROWS} more labels (all in the JSON report)."
            )
    else:
        out.append("No labelled ticket was received or resolved in this period.")
    out.append("")

    fields = [b for b in report.breakdown if b.dimension != "label"]
    if fields:
        out.append("## By Form Field")
        for name in dict.fromkeys(b.dimension for b in fields):
            rows = [b for b in fields if b.dimension == name]
            out += [
                f"### {md_inline(name, 80)}",
                "| Value | Received | Resolved | Pending |",
                "|-------|----------|----------|---------|",
            ]
            out += [
                f"| {md_inline(b.value, 60)} | {b.received} | {b.resolved} | {b.pending} |"
                for b in rows[:MAX_FIELD_ROWS]
            ]
            out.append("")

    out.append("## Common Issues")
    if report.themes:
        for i, theme in enumerate(report.themes, 1):
            out += [
                f"### {theme_number(theme, i)}{md_inline(theme.title, 100)}",
                md_inline(theme_summary(theme)),
                "",
                "**Related Issues:**",
            ]
            out += [
                f"- {ticket_link(ref, multi)}: {md_inline(ref.title, TITLE_LIMIT)}"
                for ref in theme.tickets
            ]
            out.append("")
    else:
        out += [NO_THEMES, ""]

    out.append("## Recommendations")
    if report.recommendations:
        out += [f"- {_linkify(r.text, r.tickets, multi)}" for r in report.recommendations]
    else:
        out.append(NO_RECOMMENDATIONS)

    if report.daily_links:
        out += ["", "## Daily Reports", "The daily reports of this week:", ""]
        out += [f"- [{link.day}]({link.path})" for link in report.daily_links]
    return "\n".join(out) + "\n"
