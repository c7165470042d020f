"""What every rendering says the same way: the summary figures and the empty-section lines.

One source for Markdown, Slack and (later) Discord.
"""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from chatbot.core.report import Figures, Report, Theme
from chatbot.render.text import delta, hours

NO_ACTIVITY = "No ticket was opened, closed or commented on in this period."
NO_THEMES = (
    "No common issues: no three tickets of this period report the same thing"
    " (or there are too few tickets to tell)."
)
NO_RECOMMENDATIONS = "None: nothing in this period's tickets calls for action."
NO_WAITING = "None: every new ticket still open has had a first reply from the team."


class SummaryFigure(TypedDict):
    """One summary figure as every rendering words it."""

    name: str
    value: str
    previous: str | None
    change: str | None
    against: str


def theme_number(theme: Theme, index: int) -> str:
    """``2. `` before a theme's title; nothing before "Other", which is not a theme but the rest."""
    return "" if theme.other else f"{index}. "


def theme_summary(theme: Theme) -> str:
    """The theme's summary, saying "about" when its counts are estimated from a sample.

    The offline summary says so itself; one a model reworded may not, and then the estimate
    follows it.
    """
    if not theme.estimated or f"about {theme.count}" in theme.summary.lower():
        return theme.summary
    return f"{theme.summary} (about {theme.count} tickets)"


def span_text(start: date, end: date) -> str:
    """Days as people write them: ``Dec 1–2``, ``Nov 30–Dec 2``, ``Dec 2``."""
    first = f"{start:%b} {start.day}"
    if start == end:
        return first
    if (start.year, start.month) == (end.year, end.month):
        return f"{first}–{end.day}"
    return f"{first}–{end:%b} {end.day}"


def _so_far(report: Report) -> date:
    today = report.generated_at.astimezone(report.period.zone).date()
    return min(max(today, report.period.start), report.period.end)


def trend_name(report: Report) -> str:
    """What the trend compares with: ``previous period``, or ``Nov 1–2`` for one in progress."""
    before = report.previous_period
    if report.previous_until is None or before is None:
        return "previous period"
    return span_text(before.start, before.end)


def comparison_text(report: Report) -> str | None:
    """The "Compared with" line; for a period in progress it says the spans compared."""
    before = report.previous_period
    if before is None:
        return None
    if report.previous_until is None:
        return f"Compared with: {before.describe()}"
    now = span_text(report.period.start, _so_far(report))
    until = report.previous_until.astimezone(report.period.zone)
    return (
        f"Compared with: {now} vs {span_text(before.start, before.end)} — the period is in"
        f" progress, so it is compared with the same elapsed time of the one before"
        f" (up to {until:%Y-%m-%d %H:%M})"
    )


def summary_figures(
    figures: Figures, previous: Figures | None, against: str = "previous period"
) -> list[SummaryFigure]:
    """The eight summary figures, in the words and numbers of the Markdown summary."""
    prev = previous

    def count(name: str, now: int, before: int | None) -> SummaryFigure:
        return {
            "name": name,
            "value": str(now),
            "previous": None if before is None else str(before),
            "change": None if before is None else delta(now, before),
            "against": against,
        }

    def duration(name: str, now: float | None, before: float | None, note: str) -> SummaryFigure:
        return {
            "name": name,
            "value": hours(now) + note,
            "previous": None if prev is None else hours(before),
            "change": None,
            "against": against,
        }

    return [
        count("Received", figures.received, prev.received if prev else None),
        count("Resolved", figures.resolved, prev.resolved if prev else None),
        count(
            "Still open (of those received)", figures.still_open, prev.still_open if prev else None
        ),
        count("Open backlog at period end", figures.backlog, prev.backlog if prev else None),
        duration(
            "Median first response",
            figures.median_first_response_hours,
            prev.median_first_response_hours if prev else None,
            f" ({figures.answered} of {figures.received} new tickets answered)",
        ),
        duration(
            "P90 first response",
            figures.p90_first_response_hours,
            prev.p90_first_response_hours if prev else None,
            "",
        ),
        duration(
            "Median resolution",
            figures.median_resolution_hours,
            prev.median_resolution_hours if prev else None,
            "",
        ),
        duration(
            "P90 resolution",
            figures.p90_resolution_hours,
            prev.p90_resolution_hours if prev else None,
            "",
        ),
    ]


def waiting_heading(report: Report) -> str:
    """``Waiting for a first reply (12)``: the heading of the list, with its full count."""
    return f"Waiting for a first reply ({report.waiting_total})"


def waiting_more(report: Report) -> str | None:
    """``… and N more`` when the list is capped, else None."""
    more = report.waiting_total - len(report.waiting)
    return f"… and {more} more (all in the JSON report)" if more > 0 else None
