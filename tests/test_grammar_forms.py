"""The forms of issue 14: past weeks, quarters, years, month and weekday names, near misses."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatbot.core.errors import PeriodError
from chatbot.core.grammar import (
    ACCEPTED,
    MAX_WEEKS,
    Calendar,
    parse_mention,
    parse_period,
    parse_request,
)
from chatbot.core.periods import EARLIEST, MAX_DAYS, Period
from chatbot.delivery.discord import messages as discord_messages
from chatbot.delivery.slack import messages as slack_messages
from tests.cli_runner import run_cli
from tests.test_grammar import assert_refused

NOW = datetime(2025, 4, 24, 15, 30, tzinfo=UTC)  # Thursday of ISO week 17, in Q2
CAL = Calendar(now=NOW)
README = Path(__file__).resolve().parents[1] / "README.md"

MONTHS = (
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sept", "sep"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
WEEKDAYS = (
    ("monday", "mon"),
    ("tuesday", "tues", "tue"),
    ("wednesday", "wed"),
    ("thursday", "thurs", "thur", "thu"),
    ("friday", "fri"),
    ("saturday", "sat"),
    ("sunday", "sun"),
)
MONTH_NAMES = st.sampled_from([(n, name) for n, names in enumerate(MONTHS, 1) for name in names])
WEEKDAY_NAMES = st.sampled_from([(n, name) for n, names in enumerate(WEEKDAYS) for name in names])
# Any moment from 1971 to 9998: the relative forms must hold whatever today is.
MOMENTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
)
CASES = st.sampled_from([str.lower, str.upper, str.title])


@pytest.mark.parametrize(
    ("text", "start", "end", "kind", "label"),
    [
        ("past week", "2025-04-18", "2025-04-24", "range", "last-7-days"),
        ("past-week", "2025-04-18", "2025-04-24", "range", "last-7-days"),
        ("past 10 days", "2025-04-15", "2025-04-24", "range", "last-10-days"),
        ("past 2 weeks", "2025-04-11", "2025-04-24", "range", "last-2-weeks"),
        ("last-1-week", "2025-04-18", "2025-04-24", "range", "last-1-weeks"),
        ("past 52 weeks", "2024-04-26", "2025-04-24", "range", "last-52-weeks"),
        ("week before last", "2025-04-07", "2025-04-13", "week", "week-before-last"),
        ("week-before-last", "2025-04-07", "2025-04-13", "week", "week-before-last"),
        ("this quarter", "2025-04-01", "2025-06-30", "quarter", "this-quarter"),
        ("last-quarter", "2025-01-01", "2025-03-31", "quarter", "last-quarter"),
        ("2024-Q3", "2024-07-01", "2024-09-30", "quarter", "2024-Q3"),
        ("Q3 2024", "2024-07-01", "2024-09-30", "quarter", "2024-Q3"),
        ("q4-2024", "2024-10-01", "2024-12-31", "quarter", "2024-Q4"),
        ("2025q1", "2025-01-01", "2025-03-31", "quarter", "2025-Q1"),
        ("november", "2024-11-01", "2024-11-30", "month", "2024-11"),
        ("April", "2025-04-01", "2025-04-30", "month", "2025-04"),
        ("nov 2024", "2024-11-01", "2024-11-30", "month", "2024-11"),
        ("November 2024", "2024-11-01", "2024-11-30", "month", "2024-11"),
        ("feb 2024", "2024-02-01", "2024-02-29", "month", "2024-02"),
        ("sept-2023", "2023-09-01", "2023-09-30", "month", "2023-09"),
        ("this year", "2025-01-01", "2025-12-31", "year", "this-year"),
        ("last-year", "2024-01-01", "2024-12-31", "year", "last-year"),
        ("since monday", "2025-04-21", "2025-04-24", "range", "since 2025-04-21"),
        ("since Fri", "2025-04-18", "2025-04-24", "range", "since 2025-04-18"),
        ("since thursday", "2025-04-24", "2025-04-24", "day", "since 2025-04-24"),
    ],
)
def test_every_new_form(text: str, start: str, end: str, kind: str, label: str) -> None:
    """Each form of issue 14 resolves to the expected days, kind and canonical label."""
    period = parse_period(text, CAL)
    assert (period.start.isoformat(), period.end.isoformat(), period.kind, period.label) == (
        start,
        end,
        kind,
        label,
    )


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("past week", "last-7-days"),
        ("past 14 days", "last-14-days"),
        ("past 3 weeks", "last-3-weeks"),
        ("Q2 2024", "2024-Q2"),
        ("nov 2024", "2024-11"),
        ("november", "2024-11"),
        ("since monday", "since 2025-04-21"),
    ],
)
def test_synonyms_are_the_same_period(text: str, same_as: str) -> None:
    """A spoken form and its canonical one give equal periods (same files, same label)."""
    assert parse_period(text, CAL) == parse_period(same_as, CAL)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("past 60 weeks", "last-60-weeks spans 420 days; the longest period is 366"),
        ("past 53 weeks", "N must be 1 to 52"),
        ("last-0-weeks", "last-0-weeks: N must be 1 to 52"),
        ("last--2-weeks", "N in last-N-weeks must be 1 to 52"),
        ("since funday", "'funday' is neither a weekday (monday to sunday) nor a YYYY-MM-DD"),
        ("since 2025-4", "'2025-4' is neither a weekday"),
        ("monday", "'monday' is a weekday, not a period; say since monday"),
        ("last friday", "is a weekday, not a period; say since friday"),
        ("Q5 2024", "Q5 is not a quarter (Q1 to Q4)"),
        ("2024-q0", "Q0 is not a quarter"),
        ("2025-Q3", "starts in the future (2025-07-01)"),
        ("Q3 2026", "2026-Q3 is in the future (today is 2025-04-24)"),
        ("1969-Q4", "1969-Q4 is before 1970-01-01"),
        ("0000-Q1", "0000-Q1 is before 1970-01-01"),
        ("9999 Q4", "9999-Q4 is in the future"),
        ("novembr 2024", "'novembr' is not a month name (january to december, or jan to dec)"),
        ("may 2025", "starts in the future (2025-05-01)"),
        ("nov 2026", "2026-11 is in the future"),
        ("jan 0000", "0000-01 is before 1970-01-01"),
        ("last fortnight", "'fortnight' is not week, month, quarter or year"),
        ("past month", "past takes week, N days or N weeks"),
        ("week before", "'week before' is not a period"),
    ],
)
def test_every_new_error(text: str, problem: str) -> None:
    """A near miss is one line naming what was wrong, then every accepted form."""
    assert_refused(text, problem, CAL)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("<@U123> report for the past week", "last-7-days"),
        ("stats for november", "2024-11"),
        ("week before last", "week-before-last"),
        ("how did the week before last week go?", "week-before-last"),
        ("past 3 weeks please", "last-3-weeks"),
        ("anything since monday?", "since 2025-04-21"),
        ("how is this quarter going", "this-quarter"),
        ("numbers for Q1 2025", "2025-Q1"),
        ("what about last year", "last-year"),
        ("report for November 2024 please", "2024-11"),
        ("numbers for may please", "2024-05"),
        ("may I have last week?", "last-week"),
    ],
)
def test_mentions_find_the_new_forms(text: str, label: str) -> None:
    """The phrases of the issue, as a new user writes them, find their period."""
    request = parse_mention(text, CAL)
    assert request.period is not None
    assert request.period.label == label


@pytest.mark.parametrize("text", ["may I have a report?", "anything new since we talked?"])
def test_mentions_do_not_guess_from_common_words(text: str) -> None:
    """`may` the verb and `since` without a weekday are not periods: the answer is help."""
    assert parse_mention(text, CAL).help


def test_slash_request_takes_the_new_forms() -> None:
    """The slash command reads the same forms, `private` beside them."""
    request = parse_request("private week before last", CAL)
    assert request.private
    assert request.period == parse_period("week-before-last", CAL)


def test_readme_lists_every_form() -> None:
    """Each accepted form appears, quoted, in the README's period table."""
    readme = README.read_text(encoding="utf-8")
    assert [form for form in ACCEPTED if f"`{form}`" not in readme] == []


def test_chat_help_lists_every_form() -> None:
    """Slack's and Discord's help texts quote each accepted form."""
    for text in (slack_messages.help_text(), discord_messages.help_text()):
        assert [form for form in ACCEPTED if f"`{form}`" not in text] == []


def test_cli_help_lists_every_form(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`chatbot report --help` names each accepted form."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    code, out, _ = run_cli(capsys, "report", "--help")
    flat = " ".join(out.split())
    assert code == 0
    assert [form for form in ACCEPTED if form not in flat] == []


# Properties: whatever today is, the relative forms keep their meaning.


@given(MOMENTS, MONTH_NAMES, CASES)
def test_a_month_name_alone_is_its_latest_start(
    now: datetime, month: tuple[int, str], case: Callable[[str], str]
) -> None:
    """`november` alone is the latest November that has begun: this one, or last year's."""
    number, name = month
    cal = Calendar(now=now)
    period = parse_period(case(name), cal)
    assert (period.kind, period.start.month, period.start.day) == ("month", number, 1)
    assert period.start <= cal.today
    assert (period.start.year + 1, number) > (cal.today.year, cal.today.month)


@given(st.integers(min_value=0, max_value=9999), MONTH_NAMES, st.sampled_from([" ", "-", ", "]))
def test_a_month_name_with_a_year_is_that_month(
    year: int, month: tuple[int, str], separator: str
) -> None:
    """`nov 2024` is exactly `2024-11`, or the same refusal, for every year 0000 to 9999."""
    number, name = month
    outcomes: list[Period | str] = []
    for text in (f"{name}{separator}{year:04d}", f"{year:04d}-{number:02d}"):
        try:
            outcomes.append(parse_period(text, CAL))
        except PeriodError as exc:
            outcomes.append(exc.problem)
    assert outcomes[0] == outcomes[1]


@given(st.integers(min_value=0, max_value=9999), st.integers(min_value=0, max_value=99))
def test_quarters_in_either_order(year: int, quarter: int) -> None:
    """`YYYY-Qn` and `Qn YYYY` agree; a quarter is 90 to 92 days and follows the previous one."""
    outcomes: list[Period | str] = []
    for text in (f"{year:04d}-Q{quarter}", f"Q{quarter} {year:04d}"):
        try:
            outcomes.append(parse_period(text, CAL))
        except PeriodError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]
    period = outcomes[0]
    if isinstance(period, str):
        assert "\n" not in period
        return
    assert period.kind == "quarter"
    assert (period.start.month, period.start.day) == (3 * quarter - 2, 1)
    assert 90 <= period.days <= 92
    assert EARLIEST <= period.start <= CAL.today
    before = period.previous()
    assert before.kind == "quarter"
    assert before.end == period.start - timedelta(days=1)
    assert before.start.month in (1, 4, 7, 10)


@given(
    st.one_of(st.integers(min_value=-5, max_value=400), st.integers(min_value=0)),
    st.sampled_from(["last", "past"]),
)
def test_n_weeks_accepted_iff_within_the_limit(n: int, word: str) -> None:
    """`past N weeks` is 7×N days ending today when 1 ≤ N ≤ 52, else a clear refusal."""
    text = f"{word} {n} weeks"
    if 1 <= n <= MAX_WEEKS:
        period = parse_period(text, CAL)
        assert period.days == 7 * n <= MAX_DAYS
        assert period.end == CAL.today
    else:
        with pytest.raises(PeriodError) as caught:
            parse_period(text, CAL)
        assert f"1 to {MAX_WEEKS}" in str(caught.value)
        assert len(str(caught.value)) < 500


@given(MOMENTS, WEEKDAY_NAMES, CASES)
def test_since_a_weekday_starts_on_its_latest_one(
    now: datetime, weekday: tuple[int, str], case: Callable[[str], str]
) -> None:
    """`since monday` starts on the latest Monday (today if Monday) and ends today."""
    number, name = weekday
    cal = Calendar(now=now)
    period = parse_period(f"since {case(name)}", cal)
    assert period.start.weekday() == number
    assert 0 <= (cal.today - period.start).days <= 6
    assert period.end == cal.today


@given(MOMENTS, st.integers(min_value=0, max_value=6))
def test_this_and_last_quarter_and_year_follow_each_other(now: datetime, week_start: int) -> None:
    """last-X ends the day before this-X starts, is this-X's previous, and holds no today."""
    cal = Calendar(now=now, week_start=week_start)
    for unit in ("quarter", "year"):
        this, last = parse_period(f"this {unit}", cal), parse_period(f"last {unit}", cal)
        assert this.kind == last.kind == unit
        assert this.start <= cal.today <= this.end
        assert last.end == this.start - timedelta(days=1)
        assert (this.previous().start, this.previous().end) == (last.start, last.end)
        assert last.days <= MAX_DAYS
    assert parse_period("this year", cal).days in (365, 366)
    earlier = parse_period("week before last", cal)
    assert earlier.end == parse_period("last week", cal).start - timedelta(days=1)
    assert earlier.start.weekday() == week_start


@given(MOMENTS, st.sampled_from(["this-quarter", "this-year"]))
def test_in_progress_quarter_and_year_compare_the_same_elapsed_time(
    now: datetime, word: str
) -> None:
    """This quarter (year) so far is compared with as long a start of the previous one."""
    cal = Calendar(now=now)
    period = parse_period(word, cal)
    before = period.previous()
    span, until = period.previous_span(now)
    assert span.start == before.start
    assert span.end <= before.end
    assert until == min(before.start_at + (now - period.start_at), before.end_at)
    assert span.start_at <= until <= span.end_at


TOKENS = (
    "since",
    "past",
    "last",
    "this",
    "week",
    "weeks",
    "before",
    "quarter",
    "year",
    "days",
    "monday",
    "sun",
    "may",
    "nov",
    "november",
    "q3",
    "q0",
    "q77",
    "2026",
    "1969",
    "0000",
    "9999",
    "60",
    "52",
    "0",
    "-1",
    "for",
    "2024-q4",
)


@given(
    st.lists(st.sampled_from(TOKENS), max_size=6),
    st.sampled_from([" ", "-", "_", "  "]),
    st.sampled_from(["UTC", "Pacific/Kiritimati", "Etc/GMT+12"]),
)
def test_new_words_never_crash(words: list[str], separator: str, tz: str) -> None:
    """The new words in any order: a valid period or one PeriodError line, on every surface."""
    cal = Calendar(now=NOW, tz=tz)
    text = separator.join(words)
    periods: list[Period | None] = []
    messages: list[str] = []
    for parse in (parse_mention, parse_request):
        try:
            periods.append(parse(text, cal).period)
        except PeriodError as exc:
            messages.append(str(exc))
    try:
        periods.append(parse_period(text, cal))
    except PeriodError as exc:
        messages.append(str(exc))
    for message in messages:
        assert "\n" not in message
        assert re.search(r"Accepted: .*since monday\.$", message)
    for period in periods:
        if period is None:
            continue
        assert EARLIEST <= period.start <= cal.today
        assert 1 <= period.days <= MAX_DAYS
        assert period.start_at < period.end_at
        assert period.previous().end < period.start


def test_the_earliest_quarter_and_year_are_accepted() -> None:
    """1970's first quarter and 1970 itself start on 1970-01-01 and parse."""
    assert parse_period("1970-Q1", CAL).start == EARLIEST
    last_year = parse_period("last year", Calendar(now=datetime(1971, 6, 1, tzinfo=UTC)))
    assert last_year.start == EARLIEST
    assert last_year.end == date(1970, 12, 31)
