"""The request grammar: every accepted form, every error, and its properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbot.core.errors import PeriodError
from chatbot.core.grammar import ACCEPTED, Calendar, parse_mention, parse_period, parse_request
from chatbot.core.periods import EARLIEST, Period

NOW = datetime(2025, 4, 24, 15, 30, tzinfo=UTC)  # Thursday of ISO week 17
CAL = Calendar(now=NOW)


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("today", "2025-04-24", "2025-04-24", "day"),
        ("yesterday", "2025-04-23", "2025-04-23", "day"),
        ("this-week", "2025-04-21", "2025-04-27", "week"),
        ("last-week", "2025-04-14", "2025-04-20", "week"),
        ("this-month", "2025-04-01", "2025-04-30", "month"),
        ("last-month", "2025-03-01", "2025-03-31", "month"),
        ("last-7-days", "2025-04-18", "2025-04-24", "range"),
        ("last 14 days", "2025-04-11", "2025-04-24", "range"),
        ("last-1-day", "2025-04-24", "2025-04-24", "day"),
        ("2025-04-22", "2025-04-22", "2025-04-22", "day"),
        ("2025-04-21..2025-04-23", "2025-04-21", "2025-04-23", "range"),
        ("2025-04-14..2025-04-20", "2025-04-14", "2025-04-20", "week"),
        ("2025-02", "2025-02-01", "2025-02-28", "month"),
        ("2024-02", "2024-02-01", "2024-02-29", "month"),
        ("2025-W17", "2025-04-21", "2025-04-27", "week"),
        ("2025-w01", "2024-12-30", "2025-01-05", "week"),
        ("since 2025-04-01", "2025-04-01", "2025-04-24", "range"),
    ],
)
def test_every_form(text: str, start: str, end: str, kind: str) -> None:
    """Each accepted form resolves to the expected days."""
    period = parse_period(text, CAL)
    assert (period.start.isoformat(), period.end.isoformat(), period.kind) == (start, end, kind)


@pytest.mark.parametrize(
    "text", ["LAST-WEEK", "  last   week ", "Last_Week", "last week", "\tlast-week\n"]
)
def test_case_and_spacing_forgiven(text: str) -> None:
    """Case, underscores and extra spaces do not matter."""
    assert parse_period(text, CAL) == parse_period("last-week", CAL)


def test_range_spacing_forgiven() -> None:
    """Spaces around `..` are allowed."""
    assert parse_period("2025-04-21 .. 2025-04-23", CAL).days == 3


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "No period given"),
        ("fortnight", "'fortnight' is not a period"),
        ("2025-02-30", "2025-02-30 is not a date"),
        ("2025-04-23..2025-04-21", "ends (2025-04-21) before it starts (2025-04-23)"),
        ("2024-01-01..2025-04-01", "spans 457 days; the longest is 366"),
        ("last-400-days", "N must be 1 to 366"),
        ("last-0-days", "N must be 1 to 366"),
        ("2025-13", "2025-13 is not a month"),
        ("2025-W54", "2025 has no week 54"),
        ("2030-01-01", "2030-01-01 is in the future"),
        ("2025-05-01", "starts in the future (2025-05-01)"),
        ("since 2026-01-01", "starts in the future"),
        ("last-week please", "is not a period"),
    ],
)
def test_every_error(text: str, problem: str) -> None:
    """Bad periods say what was wrong and list every accepted form."""
    assert_refused(text, problem, CAL)


def assert_refused(text: str, problem: str, calendar: Calendar) -> None:
    """``text`` is refused in one line that names ``problem`` and lists every accepted form."""
    with pytest.raises(PeriodError) as caught:
        parse_period(text, calendar)
    message = str(caught.value)
    assert problem in message
    assert all(form in message for form in ACCEPTED)
    assert "\n" not in message


def test_time_zone_decides_today() -> None:
    """`today` is the team's day: 23:30 UTC is already tomorrow in Berlin."""
    late = Calendar(now=datetime(2025, 4, 24, 23, 30, tzinfo=UTC), tz="Europe/Berlin")
    period = parse_period("today", late)
    assert period.start == date(2025, 4, 25)
    assert period.start_at == datetime(2025, 4, 24, 22, 0, tzinfo=UTC)


def test_week_start_sunday() -> None:
    """With weeks starting on Sunday, this-week starts on the Sunday before."""
    cal = Calendar(now=NOW, week_start=6)
    period = parse_period("this-week", cal)
    assert period.start == date(2025, 4, 20)
    assert period.end == date(2025, 4, 26)
    assert parse_period("2025-W17", cal).start == date(2025, 4, 20)


def test_dst_day_has_23_hours() -> None:
    """A day on which clocks go forward is 23 hours long in that zone."""
    cal = Calendar(now=NOW, tz="Europe/Berlin")
    period = parse_period("2025-03-30", cal)
    assert period.end_at - period.start_at == timedelta(hours=23)


def test_slash_request_help_and_private() -> None:
    """Slash text: empty or `help` asks for help; `private` is a flag beside the period."""
    assert parse_request("", CAL).help
    assert parse_request("help", CAL).help
    request = parse_request("private last-week", CAL)
    assert request.private
    assert request.period == parse_period("last-week", CAL)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("<@U123> report for this month", "this-month"),
        ("what happened yesterday?", "yesterday"),
        ("last 14 days please", "last-14-days"),
        ("how did last week go", "last-week"),
        ("numbers for 2025-04-21 to 2025-04-23 please", "2025-04-21..2025-04-23"),
        ("anything since 2025-04-01?", "since 2025-04-01"),
    ],
)
def test_mentions_find_the_period(text: str, label: str) -> None:
    """Plain words map to the same requests as the slash command."""
    request = parse_mention(text, CAL)
    assert request.period is not None
    assert request.period.label == label


def test_mention_without_period_asks_for_help() -> None:
    """A mention with no period in it gets help rather than a guess."""
    assert parse_mention("<@U123> hello there", CAL).help


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2025, 4, 24)))
def test_any_past_day_parses_to_itself(day: date) -> None:
    """Every past day parses to a one-day period of that day."""
    period = parse_period(day.isoformat(), CAL)
    assert period.start == period.end == day


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2025, 4, 24)),
    st.integers(min_value=0, max_value=500),
)
def test_ranges_accepted_iff_valid(first: date, length: int) -> None:
    """A range parses exactly when it is at most 366 days and does not start in the future."""
    last = first + timedelta(days=length)
    text = f"{first.isoformat()}..{last.isoformat()}"
    if length + 1 <= 366:
        period = parse_period(text, CAL)
        assert period.days == length + 1
        assert period.start_at < period.end_at
    else:
        with pytest.raises(PeriodError):
            parse_period(text, CAL)


@given(st.text(max_size=40))
def test_garbage_never_crashes(text: str) -> None:
    """Any text either parses to a valid period or raises PeriodError, nothing else."""
    try:
        period = parse_period(text, CAL)
    except PeriodError as exc:
        message = str(exc)
    else:
        assert 1 <= period.days <= 366
        assert period.start <= CAL.today
        return
    assert "Accepted:" in message


@given(st.integers(min_value=1, max_value=366))
def test_last_n_days_ends_today(n: int) -> None:
    """last-N-days is N days long and ends today."""
    period = parse_period(f"last-{n}-days", CAL)
    assert period.days == n
    assert period.end == CAL.today


@given(
    st.sampled_from(["today", "yesterday", "this-week", "last-week", "this-month", "last-month"])
)
def test_previous_period_is_adjacent(word: str) -> None:
    """The previous period ends the day before the period starts."""
    period = parse_period(word, CAL)
    before = period.previous()
    assert before.end == period.start - timedelta(days=1)
    assert before.kind == period.kind


# Zones at both ends of the offsets: a day's bounds in UTC move by up to 14 hours.
ZONES = ("UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Tokyo", "America/New_York")


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0001-01", "0001-01 is before 1970-01-01"),
        ("0000-01", "0000-01 is before 1970-01-01"),
        ("0001-01-01", "0001-01-01 is before 1970-01-01"),
        ("0000-01-01", "0000-01-01 is before 1970-01-01"),
        ("0001-W01", "0001-W01 is before 1970-01-01"),
        ("1969-12-31", "before 1970-01-01"),
        ("1970-W01", "starts (1969-12-29) before 1970-01-01"),
        ("since 0001-01-01", "0001-01-01 is before 1970-01-01"),
        ("0001-01-01..0001-01-03", "0001-01-01 is before 1970-01-01"),
        ("9999-12", "9999-12 is in the future"),
        ("9999-W52", "9999-W52 is in the future"),
        ("9999-12-31", "9999-12-31 is in the future"),
        ("9999-12-31..9999-12-31", "9999-12-31 is in the future"),
        ("2025-04-20..9999-12-31", "9999-12-31 is in the future"),
        ("since 9999-12-31", "9999-12-31 is in the future"),
        ("2026-12", "2026-12 is in the future"),
    ],
)
def test_edge_years_are_refused_with_the_range(tz: str, text: str, problem: str) -> None:
    """Years 0 to 9999 outside 1970..today are one clear error, never an overflow."""
    with pytest.raises(PeriodError) as caught:
        parse_period(text, Calendar(now=NOW, tz=tz))
    message = str(caught.value)
    assert problem in message
    assert "\n" not in message


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("text", ["1970-01-01", "1970-01", "1970-01-01..1970-01-07", "1970-W02"])
def test_earliest_day_is_accepted(tz: str, text: str) -> None:
    """Periods starting on 1970-01-01 or later parse, in any zone."""
    period = parse_period(text, Calendar(now=NOW, tz=tz))
    assert period.start >= EARLIEST
    assert period.start_at < period.end_at
    assert period.previous().end < period.start


@pytest.mark.parametrize(
    "text",
    [
        "last--1-days",
        "last-+1-days",
        "last-1.5-days",
        "last-00-days",
        "last - -1 days",
        "last--7--days",
        "past--1-day",
        "last-99999999999999999999-days",
        "last-" + "9" * 5000 + "-days",
    ],
)
def test_malformed_day_counts_are_refused(text: str) -> None:
    """A negative, signed, fractional, zero or huge N is refused like last-0-days."""
    with pytest.raises(PeriodError) as caught:
        parse_period(text, CAL)
    assert "must be 1 to 366" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 400


def test_malformed_day_count_in_a_mention_is_not_guessed() -> None:
    """`last--1-days` in free text is not read as `last-1-days`."""
    request = parse_mention("report for last--1-days please", CAL)
    assert request.period is None or request.period.label != "last-1-days"


def _form(day: date, form: str, other: date, n: int) -> str:
    year, week, _ = day.isocalendar()
    return {
        "day": day.isoformat(),
        "month": f"{day.year:04d}-{day.month:02d}",
        "week": f"{year:04d}-W{week:02d}",
        "range": f"{day.isoformat()}..{other.isoformat()}",
        "since": f"since {day.isoformat()}",
        "lastdays": f"last-{n}-days",
        "year0": f"0000-{day.month:02d}" + ("" if n % 2 else f"-{day.day:02d}"),
    }[form]


@given(
    st.dates(min_value=date.min, max_value=date.max),
    st.dates(min_value=date.min, max_value=date.max),
    st.sampled_from(["day", "month", "week", "range", "since", "lastdays", "year0"]),
    st.one_of(st.integers(min_value=-10, max_value=400), st.integers(min_value=0)),
    st.sampled_from(ZONES),
    st.integers(min_value=0, max_value=6),
)
def test_whole_date_range_gives_a_period_or_a_period_error(
    day: date, other: date, form: str, n: int, tz: str, week_start: int
) -> None:
    """Any date from 0001-01-01 to 9999-12-31, in any form: a valid Period or a PeriodError."""
    cal = Calendar(now=NOW, tz=tz, week_start=week_start)
    text = _form(day, form, other, n)
    try:
        period = parse_period(text, cal)
    except PeriodError as exc:
        message = str(exc)
    else:
        assert isinstance(period, Period)
        assert EARLIEST <= period.start <= cal.today
        assert 1 <= period.days <= 366
        assert period.start_at < period.end_at
        assert period.previous().end < period.start
        return
    assert "\n" not in message
    assert "Accepted:" in message


@given(st.text(alphabet="0123456789-.+wW: sincelastpdy\u0660\uff11", max_size=30))
def test_period_like_text_never_crashes(text: str) -> None:
    """Text made of the grammar's own characters never raises anything but PeriodError."""
    messages = []
    for parse in (parse_period, parse_request, parse_mention):
        try:
            parse(text, CAL)
        except PeriodError as exc:
            messages.append(str(exc))
    assert all("\n" not in message for message in messages)
