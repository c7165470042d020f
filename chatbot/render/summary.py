"""What every rendering says the same way: the summary figures and the empty-section lines.

One source for Markdown, Slack and (later) Discord.
"""

from __future__ import annotations

from typing import TypedDict

from chatbot.core.report import Figures
from chatbot.render.text import delta, hours

NO_ACTIVITY = "No ticket was opened, closed or commented on in this period."
NO_THEMES = "No common issues: no two tickets of this period share a topic."
NO_RECOMMENDATIONS = "None: nothing in this period's tickets calls for action."


class SummaryFigure(TypedDict):
    """One summary figure as every rendering words it."""

    name: str
    value: str
    previous: str | None
    change: str | None


def summary_figures(figures: Figures, previous: Figures | None) -> list[SummaryFigure]:
    """The six summary figures, in the words and numbers of the Markdown summary."""
    prev = previous

    def count(name: str, now: int, before: int | None) -> SummaryFigure:
        return {
            "name": name,
            "value": str(now),
            "previous": None if before is None else str(before),
            "change": None if before is None else delta(now, before),
        }

    def duration(name: str, now: float | None, before: float | None, note: str) -> SummaryFigure:
        return {
            "name": name,
            "value": hours(now) + note,
            "previous": None if prev is None else hours(before),
            "change": None,
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
            "Median resolution",
            figures.median_resolution_hours,
            prev.median_resolution_hours if prev else None,
            "",
        ),
    ]
