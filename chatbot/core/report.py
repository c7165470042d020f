"""The report model: one value per report, rendered the same way everywhere.

Every renderer (Markdown, JSON, Block Kit, Discord embeds) reads only this model, so every
surface shows the same numbers for the same period. Definitions of the summary figures:

- received: tickets opened in the period;
- resolved: tickets closed in the period, whenever they were opened;
- still_open: of the tickets received, those not closed by the end of the period;
- backlog: every ticket open at the end of the period (opened before its end, not closed by then);
- median_first_response: over tickets received in the period that a team member answered,
  hours from opening to the first team comment (bots and the ticket's author never count);
- median_resolution: over tickets resolved in the period, hours from opening to closing;
- p90_first_response, p90_resolution: the 90th percentile of the same hours, nearest-rank:
  sort the n values and take the ceil(0.9 × n)-th, so it is always one of the real durations;
- previous: the period before, of the same kind; for a period still in progress, the same
  elapsed time of the period before (``Dec 1–2 vs Nov 1–2``), up to ``previous_until``;
- state: every ticket a report cites shows its state at the end of the period, with a note
  where it has changed since (``open (closed 12-01)``), so tables agree with the counts;
- waiting: open tickets received in the period with no team reply by its end (or by now, for
  a period in progress), oldest first, each with how long it has waited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatbot.core.periods import Period


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketRef:
    """A ticket as a report cites it.

    ``state`` is the ticket's state at the end of the report's period (or now, if sooner);
    ``since`` says how it changed after that, e.g. ``closed 12-01``, and is empty if it did not.
    """

    repo: str
    number: int
    title: str
    url: str
    state: str
    since: str = ""

    @property
    def state_text(self) -> str:
        """``open``, or ``open (closed 12-01)`` when the state changed after the period."""
        return f"{self.state} ({self.since})" if self.since else self.state

    @property
    def reference(self) -> str:
        """``owner/name#number``."""
        return f"{self.repo}#{self.number}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Figures:
    """The summary figures of one period (see the module docstring for definitions)."""

    received: int
    resolved: int
    still_open: int
    backlog: int
    answered: int
    median_first_response_hours: float | None
    median_resolution_hours: float | None
    p90_first_response_hours: float | None = None
    p90_resolution_hours: float | None = None

    def __post_init__(self) -> None:
        for name in ("received", "resolved", "still_open", "backlog", "answered"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        if self.still_open > self.received:
            raise ValueError("still_open cannot exceed received")


@dataclass(frozen=True, kw_only=True, slots=True)
class Waiting:
    """A ticket still waiting for its first team reply, and for how long."""

    ticket: TicketRef
    hours: float

    def __post_init__(self) -> None:
        if self.hours < 0:
            raise ValueError("waiting hours cannot be negative")


@dataclass(frozen=True, kw_only=True, slots=True)
class ScorePart:
    """One term of a ticket's activity level."""

    name: str
    count: float
    weight: float

    @property
    def points(self) -> float:
        """The term's contribution before the recency factor."""
        return self.count * self.weight


@dataclass(frozen=True, kw_only=True, slots=True)
class Activity:
    """A ticket's activity level in a period, with the parts that explain it."""

    ticket: TicketRef
    score: float
    parts: tuple[ScorePart, ...]
    recency: float
    idle_days: float
    comments: int
    participants: int

    @property
    def weight(self) -> float:
        """The sum of the parts, before the recency factor."""
        return sum(part.points for part in self.parts)

    @property
    def why(self) -> str:
        """A short reason in words: ``3 comments, 2 participants, 4 reactions, opened``."""
        words = [_describe(part) for part in self.parts if part.count]
        return ", ".join(words) if words else "no activity"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _describe(part: ScorePart) -> str:
    if part.name == "comments":
        return _plural(round(part.count), "comment")
    if part.name == "participants":
        return _plural(round(part.count), "participant")
    if part.name == "log2(1+reactions)":
        return _plural(round(2**part.count - 1), "reaction")
    return part.name


@dataclass(frozen=True, kw_only=True, slots=True)
class Breakdown:
    """Counts for one value of a label or form field."""

    dimension: str
    value: str
    received: int
    resolved: int
    pending: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Theme:
    """A common issue: tickets that share a topic.

    ``tickets`` are the cited ones, most active first (at most a few); ``count`` is every
    ticket of the period in the theme, ``opened`` those received in the period and
    ``still_open`` those open at its end (``estimated`` when those three were scaled up from
    an even sample of a large period). ``previous`` counts the previous period's tickets
    that fall in the same theme (None when unknown; ``previous_estimated`` when it was scaled
    up from a sample of a large previous period); ``terms`` are its distinctive words.
    ``other`` marks the catch-all group of tickets that share no theme.
    """

    title: str
    summary: str
    tickets: tuple[TicketRef, ...]
    count: int = 0
    opened: int = 0
    still_open: int = 0
    estimated: bool = False
    previous: int | None = None
    previous_estimated: bool = False
    terms: tuple[str, ...] = ()
    other: bool = False

    def __post_init__(self) -> None:
        if self.count < len(self.tickets):
            object.__setattr__(self, "count", len(self.tickets))


@dataclass(frozen=True, kw_only=True, slots=True)
class Recommendation:
    """One specific action, citing the tickets it is about."""

    text: str
    tickets: tuple[TicketRef, ...]

    def __post_init__(self) -> None:
        if not self.tickets:
            raise ValueError("a recommendation must cite at least one ticket")


@dataclass(frozen=True, kw_only=True, slots=True)
class DailyLink:
    """A weekly report's pointer to one of its daily reports."""

    day: str
    path: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Report:
    """Everything a support report says about one period."""

    period: Period
    generated_at: datetime
    repos: tuple[str, ...]
    figures: Figures
    previous: Figures | None
    previous_period: Period | None
    most_active: tuple[Activity, ...]
    active_total: int
    breakdown: tuple[Breakdown, ...]
    themes: tuple[Theme, ...]
    recommendations: tuple[Recommendation, ...]
    opened_per_day: tuple[tuple[str, int, int], ...] = ()
    daily_links: tuple[DailyLink, ...] = ()
    source: str = "store"
    waiting: tuple[Waiting, ...] = ()
    waiting_total: int = 0
    previous_until: datetime | None = None
    #: Which analysis the themes and recommendations come from (model or offline), and why.
    analysis_note: str | None = None
