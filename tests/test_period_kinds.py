"""Quarters and years as periods: their previous period, file names and folders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from chatbot.core.periods import Period, quarter_period, year_period
from chatbot.delivery.files import folder_for


@pytest.mark.parametrize(
    ("period", "slug", "folder"),
    [
        (quarter_period(2025, 2), "2025-Q2", "quarterly/2025-Q2"),
        (quarter_period(2024, 4), "2024-Q4", "quarterly/2024-Q4"),
        (year_period(2024), "2024", "yearly/2024"),
    ],
)
def test_quarters_and_years_have_their_own_folders(period: Period, slug: str, folder: str) -> None:
    """A quarter goes to quarterly/YYYY-Qn and a year to yearly/YYYY, beside monthly/."""
    assert period.slug == slug
    assert folder_for(period, Path("reports")) == Path("reports") / folder


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        (quarter_period(2025, 1), date(2024, 10, 1), date(2024, 12, 31)),
        (quarter_period(2025, 3), date(2025, 4, 1), date(2025, 6, 30)),
        (year_period(2025), date(2024, 1, 1), date(2024, 12, 31)),
        (year_period(2024), date(2023, 1, 1), date(2023, 12, 31)),
    ],
)
def test_previous_quarter_and_year(period: Period, start: date, end: date) -> None:
    """The period before a quarter is the quarter before; before a year, the year before."""
    before = period.previous()
    assert (before.start, before.end, before.kind) == (start, end, period.kind)


def test_a_leap_year_so_far_is_capped_by_the_shorter_year_before() -> None:
    """On 31 December 2024 (day 366) the comparison is the whole of 2023 (365 days)."""
    now = datetime(2024, 12, 31, 12, 0, tzinfo=UTC)
    span, until = year_period(2024).previous_span(now)
    assert (span.start, span.end) == (date(2023, 1, 1), date(2023, 12, 31))
    assert until == datetime(2024, 1, 1, tzinfo=UTC)


def test_a_quarter_so_far_compares_with_the_same_days_of_the_last() -> None:
    """On 10 May, 10:00, Q2 so far compares with 1 January to 9 February, 10:00."""
    now = datetime(2025, 5, 10, 10, 0, tzinfo=UTC)
    span, until = quarter_period(2025, 2).previous_span(now)
    assert (span.start, span.end) == (date(2025, 1, 1), date(2025, 2, 9))
    assert until == datetime(2025, 2, 9, 10, 0, tzinfo=UTC)
