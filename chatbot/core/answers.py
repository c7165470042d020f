"""The answers to questions that a report does not hold: what waits now, a trend, an explain.

``top labels`` and ``themes`` are parts of a :class:`~chatbot.core.report.Report` and are
rendered from it; these small models carry the rest, so every platform renders the same
numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from chatbot.core.periods import Period
from chatbot.core.report import Activity, Figures, Report, Waiting


@dataclass(frozen=True, kw_only=True, slots=True)
class WaitingAnswer:
    """Open tickets with no first team reply as of ``as_of``, oldest first.

    ``tickets`` holds the first ones (a capped list); ``total`` counts them all.
    """

    as_of: datetime
    tickets: tuple[Waiting, ...]
    total: int
    repos: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.total < len(self.tickets):
            raise ValueError("total cannot be less than the tickets listed")

    @property
    def more(self) -> int:
        """How many waiting tickets the list leaves out."""
        return self.total - len(self.tickets)


@dataclass(frozen=True, kw_only=True, slots=True)
class TrendPoint:
    """The summary figures of one period of a trend; ``partial`` if it is still in progress."""

    period: Period
    figures: Figures
    partial: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class TrendAnswer:
    """The summary figures over consecutive periods of one kind, oldest first."""

    points: tuple[TrendPoint, ...]

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("a trend needs at least one period")

    @property
    def period(self) -> Period:
        """The period asked for: the last one."""
        return self.points[-1].period


@dataclass(frozen=True, kw_only=True, slots=True)
class ExplainAnswer:
    """How one ticket's activity level in ``period`` adds up."""

    period: Period
    activity: Activity


@dataclass(frozen=True, kw_only=True, slots=True)
class ReportPart:
    """One part of a period's report asked alone: its labels or its common issues."""

    part: Literal["labels", "themes"]
    report: Report


#: Every answer to a question (help, reports and schedules aside).
Answer = WaitingAnswer | TrendAnswer | ExplainAnswer | ReportPart
