"""Periods: a run of whole days in the team's time zone, the unit every report covers."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

PeriodKind = Literal["day", "week", "month", "quarter", "year", "range"]

MAX_DAYS = 366
EARLIEST = date(1970, 1, 1)  # no period may start before this day (nor in the future)


def utc_now() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class Period:
    """The days ``start`` to ``end`` (both included) in time zone ``tz``.

    ``label`` is the request it was parsed from in canonical form (``last-week``,
    ``2025-04-21..2025-04-23``); ``kind`` says whether it is a calendar day, week, month,
    quarter or year, which decides where its files go and what its previous period is.
    """

    start: date
    end: date
    tz: str = "UTC"
    label: str = ""
    kind: PeriodKind = "range"
    week_start: int = 0
    _bounds: tuple[datetime, datetime] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")
        if self.days > MAX_DAYS:
            raise ValueError(f"period of {self.days} days is longer than {MAX_DAYS}")
        if not 0 <= self.week_start <= 6:
            raise ValueError("week_start is a weekday number, 0 (Monday) to 6 (Sunday)")
        zone = ZoneInfo(self.tz)
        first = datetime.combine(self.start, time(), zone).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(days=1), time(), zone).astimezone(UTC)
        object.__setattr__(self, "_bounds", (first, after))

    @property
    def zone(self) -> ZoneInfo:
        """The period's time zone."""
        return ZoneInfo(self.tz)

    @property
    def days(self) -> int:
        """How many days the period spans."""
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> datetime:
        """The first instant of the period, in UTC."""
        return self._bounds[0]

    @property
    def end_at(self) -> datetime:
        """The first instant after the period, in UTC (exclusive bound)."""
        return self._bounds[1]

    def contains(self, moment: datetime) -> bool:
        """True if ``moment`` (aware) falls inside the period."""
        first, after = self._bounds
        return first <= moment < after

    def each_day(self) -> list[date]:
        """Every day of the period, in order."""
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def previous(self) -> Period:
        """The period of the same kind just before this one, for trends."""
        last = self.start - timedelta(days=1)
        if self.kind == "month":
            return month_period(last.year, last.month, tz=self.tz, week_start=self.week_start)
        if self.kind == "quarter":
            return quarter_period(
                last.year, quarter_of(last), tz=self.tz, week_start=self.week_start
            )
        if self.kind == "year":
            return year_period(last.year, tz=self.tz, week_start=self.week_start)
        length = timedelta(days=self.days)
        return Period(
            start=self.start - length,
            end=self.end - length,
            tz=self.tz,
            label=f"{(self.start - length).isoformat()}..{(self.end - length).isoformat()}",
            kind=self.kind,
            week_start=self.week_start,
        )

    def in_progress(self, now: datetime) -> bool:
        """True if ``now`` falls inside the period: it has started and not yet ended."""
        return self.contains(now)

    def previous_span(self, now: datetime) -> tuple[Period, datetime]:
        """The previous period cut to the time elapsed in this one, and the instant it stops.

        On 2 December at 10:00, ``this-month`` compares with 1 November 00:00 to 2 November
        10:00: the days 1–2 of November (returned as a range) and that cut-off instant.
        """
        before = self.previous()
        until = min(before.start_at + (now - self.start_at), before.end_at)
        days = (now.astimezone(self.zone).date() - self.start).days + 1
        last = min(before.start + timedelta(days=max(days, 1) - 1), before.end)
        span = Period(
            start=before.start,
            end=last,
            tz=self.tz,
            label=f"{before.start.isoformat()}..{last.isoformat()}",
            kind="range",
            week_start=self.week_start,
        )
        return span, until

    def describe(self) -> str:
        """Human text: ``2025-04-21 to 2025-04-27 (UTC)``."""
        if self.start == self.end:
            return f"{self.start.isoformat()} ({self.tz})"
        return f"{self.start.isoformat()} to {self.end.isoformat()} ({self.tz})"

    @property
    def slug(self) -> str:
        """A stable file-name part: ``2025-04-21``, ``2025-W17``, ``2025-04``, ``2025-Q2``,
        ``2025`` or a range."""
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = (self.start + timedelta(days=(0 - self.week_start) % 7)).isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{quarter_of(self.start)}"
        if self.kind == "year":
            return f"{self.start.year}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def day_period(day: date, *, tz: str = "UTC", week_start: int = 0, label: str = "") -> Period:
    """The single day ``day``."""
    return Period(
        start=day, end=day, tz=tz, label=label or day.isoformat(), kind="day", week_start=week_start
    )


def week_period(first: date, *, tz: str = "UTC", week_start: int = 0, label: str = "") -> Period:
    """The week whose first day is ``first``."""
    period = Period(
        start=first,
        end=first + timedelta(days=6),
        tz=tz,
        label=label,
        kind="week",
        week_start=week_start,
    )
    return period if label else _relabel(period, period.slug)


def month_period(
    year: int, month: int, *, tz: str = "UTC", week_start: int = 0, label: str = ""
) -> Period:
    """The calendar month ``year``-``month``."""
    last = calendar.monthrange(year, month)[1]
    return Period(
        start=date(year, month, 1),
        end=date(year, month, last),
        tz=tz,
        label=label or f"{year}-{month:02d}",
        kind="month",
        week_start=week_start,
    )


def quarter_period(
    year: int, quarter: int, *, tz: str = "UTC", week_start: int = 0, label: str = ""
) -> Period:
    """The calendar quarter ``quarter`` (1 to 4) of ``year``: Q1 is January to March."""
    first = date(year, 3 * quarter - 2, 1)
    last = date(year, 3 * quarter, calendar.monthrange(year, 3 * quarter)[1])
    return Period(
        start=first,
        end=last,
        tz=tz,
        label=label or f"{year}-Q{quarter}",
        kind="quarter",
        week_start=week_start,
    )


def year_period(year: int, *, tz: str = "UTC", week_start: int = 0, label: str = "") -> Period:
    """The calendar year ``year``: 365 or 366 days, within the longest period."""
    return Period(
        start=date(year, 1, 1),
        end=date(year, 12, 31),
        tz=tz,
        label=label or f"{year}",
        kind="year",
        week_start=week_start,
    )


def quarter_of(day: date) -> int:
    """The calendar quarter (1 to 4) holding ``day``."""
    return (day.month - 1) // 3 + 1


def week_start_of(day: date, week_start: int) -> date:
    """The first day of the week holding ``day``, weeks starting on ``week_start``."""
    return day - timedelta(days=(day.weekday() - week_start) % 7)


def _relabel(period: Period, label: str) -> Period:
    return Period(
        start=period.start,
        end=period.end,
        tz=period.tz,
        label=label,
        kind=period.kind,
        week_start=period.week_start,
    )
