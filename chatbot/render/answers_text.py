"""The answers to questions as plain text (``chatbot ask``), and the tables every platform shares.

:func:`explain_table` and :func:`trend_table` hold only numbers and words we wrote, so Slack
and Discord show them as they are inside a code block; ticket text never enters them.
"""

from __future__ import annotations

from chatbot.core.answers import Answer, ExplainAnswer, ReportPart, TrendAnswer, WaitingAnswer
from chatbot.core.report import Activity
from chatbot.render.summary import NO_THEMES, span_text, theme_number, theme_summary
from chatbot.render.text import hours, one_line

#: How many waiting tickets an answer lists before "… and N more".
WAITING_SHOWN = 20
#: How many labels an answer lists before "… and N more".
LABELS_SHOWN = 15
TITLE_LIMIT = 80
NO_WAITING_NOW = "Nothing is waiting: every open ticket has had a first reply from the team."
NO_LABELS = "No labelled ticket was received or resolved in this period."


def explain_table(activity: Activity) -> list[str]:
    """The parts of an activity level, its weight, recency and result (``chatbot explain``)."""
    lines = [
        f"  {part.name:<20} {part.count:7.3f} x {part.weight:.1f} = {part.points:7.3f}"
        f"  -> {part.points * activity.recency:7.3f}"
        for part in activity.parts
    ]
    lines.append(f"  {'weight':<20} {activity.weight:27.3f}")
    lines.append(
        f"  recency = 1 / log2({activity.idle_days:.2f} idle days + 2) = {activity.recency:.3f}"
    )
    lines.append(
        f"  activity level = {activity.weight:.3f} x {activity.recency:.3f} = {activity.score:.2f}"
    )
    return lines


def trend_rows(answer: TrendAnswer) -> list[tuple[str, list[str]]]:
    """Each summary figure's name and its value in each period, oldest first."""
    points = answer.points
    figures = [p.figures for p in points]
    return [
        ("Received", [str(f.received) for f in figures]),
        ("Resolved", [str(f.resolved) for f in figures]),
        ("Still open (of received)", [str(f.still_open) for f in figures]),
        ("Open backlog at end", [str(f.backlog) for f in figures]),
        ("Median first response", [hours(f.median_first_response_hours) for f in figures]),
        ("P90 first response", [hours(f.p90_first_response_hours) for f in figures]),
        ("Median resolution", [hours(f.median_resolution_hours) for f in figures]),
        ("P90 resolution", [hours(f.p90_resolution_hours) for f in figures]),
    ]


def trend_columns(answer: TrendAnswer) -> list[str]:
    """The column heads: each period's days (``Nov 9–15``), ``*`` marking one in progress."""
    return [
        span_text(p.period.start, p.period.end) + ("*" if p.partial else "") for p in answer.points
    ]


def trend_table(answer: TrendAnswer) -> list[str]:
    """The trend as a fixed-width table: one row per figure, one column per period."""
    columns = trend_columns(answer)
    rows = trend_rows(answer)
    width = [max(len(c), *(len(v[i]) for _, v in rows)) for i, c in enumerate(columns)]
    name = max(len(n) for n, _ in rows)
    lines = [" " * name + "  " + "  ".join(c.rjust(w) for c, w in zip(columns, width, strict=True))]
    for label, values in rows:
        cells = "  ".join(v.rjust(w) for v, w in zip(values, width, strict=True))
        lines.append(f"{label:<{name}}  {cells}")
    if any(p.partial for p in answer.points):
        lines.append("* in progress: counted up to now")
    return lines


def trend_title(answer: TrendAnswer) -> str:
    """``Trend: 4 periods up to 2025-04-21 to 2025-04-27 (UTC)``."""
    return f"Trend: {len(answer.points)} periods up to {answer.period.describe()}"


def waiting_title(answer: WaitingAnswer) -> str:
    """``Waiting for a first reply now (12)``."""
    return f"Waiting for a first reply now ({answer.total})"


def explain_title(answer: ExplainAnswer) -> str:
    """``Activity of owner/name#12 in 2025-04-21 to 2025-04-27 (UTC)``."""
    return f"Activity of {answer.activity.ticket.reference} in {answer.period.describe()}"


def labels_title(part: ReportPart) -> str:
    """``Top labels: 2025-04-21 to 2025-04-27 (UTC)``."""
    return f"Top labels: {part.report.period.describe()}"


def themes_title(part: ReportPart) -> str:
    """``Common issues: 2025-04-21 to 2025-04-27 (UTC)``."""
    return f"Common issues: {part.report.period.describe()}"


def render_answer_text(answer: Answer) -> str:
    """The answer as plain text for a terminal."""
    if isinstance(answer, WaitingAnswer):
        lines = [waiting_title(answer)]
        lines += [
            f"  {w.ticket.reference}  waiting {hours(w.hours)}"
            f"  {one_line(w.ticket.title, TITLE_LIMIT)}"
            for w in answer.tickets[:WAITING_SHOWN]
        ]
        more = answer.total - min(len(answer.tickets), WAITING_SHOWN)
        if more > 0:
            lines.append(f"  … and {more} more")
        if not answer.total:
            lines.append(f"  {NO_WAITING_NOW}")
    elif isinstance(answer, ExplainAnswer):
        ref = answer.activity.ticket
        lines = [
            f"{ref.reference}: {one_line(ref.title)} ({ref.state})",
            f"period: {answer.period.describe()}",
            *explain_table(answer.activity),
        ]
    elif isinstance(answer, TrendAnswer):
        lines = [trend_title(answer), *trend_table(answer)]
    elif answer.part == "labels":
        rows = [b for b in answer.report.breakdown if b.dimension == "label"]
        lines = [labels_title(answer)]
        lines += [
            f"  {one_line(b.value, 60)}: {b.received} received, {b.resolved} resolved,"
            f" {b.pending} pending"
            for b in rows[:LABELS_SHOWN]
        ]
        if len(rows) > LABELS_SHOWN:
            lines.append(f"  … and {len(rows) - LABELS_SHOWN} more")
        if not rows:
            lines.append(f"  {NO_LABELS}")
    else:
        themes = answer.report.themes
        lines = [themes_title(answer)]
        for i, theme in enumerate(themes, 1):
            refs = ", ".join(r.reference for r in theme.tickets[:5])
            lines.append(
                f"  {theme_number(theme, i)}{one_line(theme.title, 100)}:"
                f" {one_line(theme_summary(theme), 300)} ({refs})"
            )
        if not themes:
            lines.append(f"  {NO_THEMES}")
    return "\n".join(lines) + "\n"
