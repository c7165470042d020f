"""The request grammar: one parser for the CLI, slash commands and mentions.

Accepted periods (case and spacing forgiving; ``_`` or spaces may stand for ``-``)::

    today | yesterday                     one day
    this-week | last-week                 a week starting on the team's first weekday
    week-before-last                      the week before last-week
    this-month | last-month               a calendar month
    this-quarter | last-quarter           a calendar quarter (Q1 is January to March)
    this-year | last-year                 a calendar year (at most 366 days)
    past-week                             the same as last-7-days
    last-N-days (past N days)             N whole days ending today
    last-N-weeks (past N weeks)           7×N whole days ending today (N at most 52)
    YYYY-MM-DD                            one day
    YYYY-MM-DD..YYYY-MM-DD                both days included
    YYYY-MM                               a calendar month
    november | nov YYYY                   a month by name; alone, its latest start (this one)
    YYYY-Www                              a week (its days follow the team's first weekday)
    YYYY-Qn | Qn YYYY                     a calendar quarter
    since YYYY-MM-DD                      that day through today
    since monday                          the latest Monday (today if Monday) through today

Every period starts between 1970-01-01 and today and spans at most 366 days; the bounds are
checked before any date arithmetic, so no year (0000 to 9999) can overflow. A request the
grammar does not take is one :class:`PeriodError` line naming what was wrong (an unknown
weekday, a quarter Q5, too many weeks) and listing :data:`ACCEPTED`.

A request may also carry the words ``help`` and ``private``. :func:`parse_period` is
strict (the CLI); :func:`parse_request` reads a slash command's text; :func:`parse_mention`
finds a period inside free text ("report for the past week please"). :func:`parse_ticket`
reads a ticket reference (``123``, ``owner/name#123``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chatbot.core.errors import PeriodError, TicketReferenceError
from chatbot.core.periods import (
    EARLIEST,
    MAX_DAYS,
    Period,
    PeriodKind,
    day_period,
    month_period,
    quarter_of,
    quarter_period,
    week_period,
    week_start_of,
    year_period,
)

ACCEPTED: tuple[str, ...] = (
    "today",
    "yesterday",
    "this-week",
    "last-week",
    "week-before-last",
    "past-week",
    "this-month",
    "last-month",
    "this-quarter",
    "last-quarter",
    "this-year",
    "last-year",
    "last-N-days",
    "past-N-days",
    "last-N-weeks",
    "past-N-weeks",
    "YYYY-MM-DD",
    "YYYY-MM-DD..YYYY-MM-DD",
    "YYYY-MM",
    "november",
    "nov YYYY",
    "YYYY-Www",
    "YYYY-Qn",
    "Qn YYYY",
    "since YYYY-MM-DD",
    "since monday",
)

MAX_WEEKS = MAX_DAYS // 7

TICKET_FORMS: tuple[str, ...] = ("123", "owner/name#123")
MAX_TICKET = 2**63 - 1  # the widest integer a store column holds
_TICKET = re.compile(r"#?(?:(?P<repo>[\w.-]+/[\w.-]+)#)?(?P<n>[0-9]{1,19})", re.ASCII)

# Month and weekday names, each with its short forms; the first is the one messages show.
_MONTHS: tuple[tuple[str, ...], ...] = (
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
_WEEKDAYS: tuple[tuple[str, ...], ...] = (
    ("monday", "mon"),
    ("tuesday", "tues", "tue"),
    ("wednesday", "wed"),
    ("thursday", "thurs", "thur", "thu"),
    ("friday", "fri"),
    ("saturday", "sat"),
    ("sunday", "sun"),
)
_MONTH_NUMBER = {name: n for n, names in enumerate(_MONTHS, 1) for name in names}
_WEEKDAY_NUMBER = {name: n for n, names in enumerate(_WEEKDAYS) for name in names}
#: Weekday names and their short forms (``mon``, ``tues``…), Monday 0 as in ``date.weekday``.
WEEKDAY_NUMBER: dict[str, int] = _WEEKDAY_NUMBER
_MONTH_NAME = "|".join(sorted(_MONTH_NUMBER, key=len, reverse=True))
_WEEKDAY_NAME = "|".join(sorted(_WEEKDAY_NUMBER, key=len, reverse=True))

_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
# The order matters to mentions: the first form found anywhere in the text wins.
_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("range", rf"(?P<a>{_DATE})\s*(?:\.\.|\bto\b|\buntil\b|\bthrough\b)\s*(?P<b>{_DATE})"),
        ("since", rf"\bsince\s+(?P<a>{_DATE})"),
        ("day", rf"(?<![\d-])(?P<a>{_DATE})(?![\d-])"),
        ("isoweek", r"\b(?P<y>\d{4})-?w(?P<w>\d{1,2})\b"),
        ("quarter", r"\b(?P<y>\d{4})[\s-]?q(?P<q>\d{1,2})\b"),
        ("quarter", r"\bq(?P<q>\d{1,2})[\s-]?(?P<y>\d{4})\b"),
        ("month", r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d{1,2})(?![\d-])"),
        # one separator each side: "last--1-days" is not "last-1-days"
        ("lastdays", r"\b(?:last|past)[\s-](?P<n>\d+)[\s-]days?\b"),
        ("lastweeks", r"\b(?:last|past)[\s-](?P<n>\d+)[\s-]weeks?\b"),
        # before "named", so that "the week before last week" is not last-week
        ("named", r"\b(?P<word>week[\s-]before[\s-]last)(?:[\s-]week)?\b"),
        ("named", r"\b(?P<word>past[\s-]week)\b"),
        (
            "named",
            r"\b(?P<word>today|yesterday|(?:this|last)[\s-]+(?:week|month|quarter|year))\b",
        ),
        ("sinceday", rf"\bsince[\s-](?P<wd>{_WEEKDAY_NAME})\b"),
        ("monthname", rf"\b(?P<name>{_MONTH_NAME})\b(?:,?[\s-](?P<y>\d{{4}})\b)?"),
    )
)

# Near misses, tried only once no form matched the whole text, to say what was wrong.
_LOOSE_LASTDAYS = re.compile(r"(?:last|past)[\s-]+\S*?[\s-]*days?")
_LOOSE_LASTWEEKS = re.compile(r"(?:last|past)[\s-]+\S*?[\s-]*weeks?")
_LOOSE_SINCE = re.compile(r"since[\s-]+(?P<what>.+)")
_LOOSE_RELATIVE = re.compile(r"(?P<word>this|last|past)[\s-]+(?P<unit>[a-z]+)")
_LOOSE_MONTH = re.compile(r"(?P<name>[a-z]+)[\s-]\d{4}")
_LOOSE_WEEKDAY = re.compile(rf"(?:last[\s-]|this[\s-])?(?P<wd>{_WEEKDAY_NAME})")
# "may" is also a verb: in a mention, alone, it is a month only after one of these words
_MAY_BEFORE = re.compile(r"\b(?:for|in|of|during|since|from|over|about)\s$")


@dataclass(frozen=True, kw_only=True, slots=True)
class Request:
    """What a person asked for: a period (or help), and whether the answer is private."""

    period: Period | None
    help: bool = False
    private: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Calendar:
    """The team's calendar: time zone, first weekday, and the current moment."""

    now: datetime
    tz: str = "UTC"
    week_start: int = 0

    @property
    def today(self) -> date:
        """Today's date in the team's time zone."""
        return self.now.astimezone(ZoneInfo(self.tz)).date()


def normalize(text: str) -> str:
    """Lower-case, trim, and fold runs of white space, ``_`` and ``-`` separators."""
    folded = text.strip().lower().replace("_", "-")
    folded = re.sub(r"\s*\.\.\s*", "..", folded)
    return re.sub(r"\s+", " ", folded)


def parse_period(text: str, cal: Calendar) -> Period:
    """Parse exactly one period; anything else raises :class:`PeriodError`."""
    cleaned = normalize(text)
    if not cleaned:
        raise PeriodError(text, "No period given", ACCEPTED)
    for form, pattern in _FORMS:
        match = pattern.fullmatch(cleaned)
        if match:
            return _build(form, match, cleaned, cal)
    raise PeriodError(text, _near_miss(text, cleaned), ACCEPTED)


def parse_request(text: str, cal: Calendar) -> Request:
    """Parse a slash command's text: a period with optional ``private``; empty or ``help``."""
    words = normalize(text).split(" ")
    private = "private" in words
    rest = " ".join(w for w in words if w and w != "private")
    if rest in ("", "help", "?", "-h", "--help"):
        return Request(period=None, help=True, private=private)
    return Request(period=parse_period(rest, cal), private=private)


def parse_mention(text: str, cal: Calendar) -> Request:
    """Find a period in free text; no period at all means the person wants help."""
    cleaned = normalize(re.sub(r"<[^>]*>", " ", text))  # drop <@U123> style mentions
    private = bool(re.search(r"\bprivate(ly)?\b", cleaned))
    for form, pattern in _FORMS:
        for match in pattern.finditer(cleaned):
            if form == "monthname" and _is_the_verb_may(match, cleaned):
                continue
            return Request(period=_build(form, match, match.group(0), cal), private=private)
    return Request(period=None, help=True, private=private)


def parse_ticket(text: str) -> tuple[str | None, int]:
    """Read ``123``, ``#123`` or ``owner/name#123`` as (repository or None, number)."""
    match = _TICKET.fullmatch(text.strip())
    number = int(match.group("n")) if match else 0
    if match is None or not 1 <= number <= MAX_TICKET:
        raise TicketReferenceError(text, TICKET_FORMS)
    return match.group("repo"), number


def _is_the_verb_may(match: re.Match[str], text: str) -> bool:
    """True for "may" without a year, not led by "for", "in"…: "may I have a report?"."""
    if match.group("name") != "may" or match.group("y"):
        return False
    return _MAY_BEFORE.search(text, 0, match.start()) is None


def _near_miss(text: str, cleaned: str) -> str:
    """What was wrong with ``text``, which no form matched, in a few words."""
    shown = shorten(text)
    weekday = _LOOSE_WEEKDAY.fullmatch(cleaned)  # before last-N-days: "last monday"
    if weekday:
        return f"'{shown}' is a weekday, not a period; say since {weekday.group('wd')}"
    if _LOOSE_LASTDAYS.fullmatch(cleaned):  # last--1-days, last-1.5-days, last few days
        return f"'{shown}': N in last-N-days must be 1 to {MAX_DAYS}"
    if _LOOSE_LASTWEEKS.fullmatch(cleaned):
        return f"'{shown}': N in last-N-weeks must be 1 to {MAX_WEEKS}"
    since = _LOOSE_SINCE.fullmatch(cleaned)
    if since:
        what = shorten(since.group("what"), 20)
        return f"'{shown}': '{what}' is neither a weekday (monday to sunday) nor a YYYY-MM-DD"
    relative = _LOOSE_RELATIVE.fullmatch(cleaned)
    if relative and relative.group("word") == "past":
        return f"'{shown}': past takes week, N days or N weeks"
    if relative:
        unit = shorten(relative.group("unit"), 20)
        return f"'{shown}': '{unit}' is not week, month, quarter or year"
    named = _LOOSE_MONTH.fullmatch(cleaned)
    if named:
        name = shorten(named.group("name"), 20)
        return f"'{shown}': '{name}' is not a month name (january to december, or jan to dec)"
    return f"'{shown}' is not a period"


def _build(form: str, match: re.Match[str], text: str, cal: Calendar) -> Period:
    today = cal.today
    if form == "named":
        word = re.sub(r"[\s-]+", "-", match.group("word"))
        return _named(word, text, cal)
    if form == "lastdays":
        digits = match.group("n")
        n = int(digits) if len(digits) <= len(str(MAX_DAYS)) else 0
        if not 1 <= n <= MAX_DAYS:
            raise PeriodError(
                text, f"last-{shorten(digits, 8)}-days: N must be 1 to {MAX_DAYS}", ACCEPTED
            )
        return _make(text, today - timedelta(days=n - 1), today, "range", cal, f"last-{n}-days")
    if form == "lastweeks":
        digits = match.group("n")
        n = int(digits) if len(digits) <= len(str(MAX_DAYS)) else 0
        if not 1 <= n <= MAX_WEEKS:
            spans = f" spans {7 * n} days; the longest period is {MAX_DAYS}, so" if n else ":"
            raise PeriodError(
                text,
                f"last-{shorten(digits, 8)}-weeks{spans} N must be 1 to {MAX_WEEKS}",
                ACCEPTED,
            )
        first = today - timedelta(days=7 * n - 1)
        return _make(text, first, today, "range", cal, f"last-{n}-weeks")
    if form == "day":
        day = _date(match.group("a"), text, today)
        return _make(text, day, day, "day", cal, day.isoformat())
    if form == "since":
        first = _date(match.group("a"), text, today)
        return _make(text, first, today, "range", cal, f"since {first.isoformat()}")
    if form == "sinceday":
        weekday = _WEEKDAY_NUMBER[match.group("wd")]
        first = today - timedelta(days=(today.weekday() - weekday) % 7)
        return _make(text, first, today, "range", cal, f"since {first.isoformat()}")
    if form == "range":
        first, last = _date(match.group("a"), text, today), _date(match.group("b"), text, today)
        if last < first:
            raise PeriodError(text, f"The range ends ({last}) before it starts ({first})", ACCEPTED)
        return _make(text, first, last, "range", cal, f"{first.isoformat()}..{last.isoformat()}")
    if form == "isoweek":
        year, week = int(match.group("y")), int(match.group("w"))
        # an ISO year may begin in the last days of the calendar year before it
        _check_year(text, f"{year:04d}-W{week:02d}", year, today, lead=1)
        try:
            monday = date.fromisocalendar(year, week, 1)
        except ValueError:
            raise PeriodError(text, f"{year} has no week {week}", ACCEPTED) from None
        first = monday - timedelta(days=(0 - cal.week_start) % 7)
        return _make(text, first, first + timedelta(days=6), "week", cal, f"{year}-W{week:02d}")
    if form == "quarter":
        year, quarter = int(match.group("y")), int(match.group("q"))
        if not 1 <= quarter <= 4:
            raise PeriodError(text, f"Q{quarter} is not a quarter (Q1 to Q4)", ACCEPTED)
        _check_year(text, f"{year:04d}-Q{quarter}", year, today)
        _check_start(text, date(year, 3 * quarter - 2, 1), today)
        return quarter_period(year, quarter, tz=cal.tz, week_start=cal.week_start)
    if form == "monthname":
        month = _MONTH_NUMBER[match.group("name")]
        if match.group("y") is None:  # alone: its latest start, this month included
            year = today.year if month <= today.month else today.year - 1
        else:
            year = int(match.group("y"))
        _check_year(text, f"{year:04d}-{month:02d}", year, today)
        _check_start(text, date(year, month, 1), today)
        return month_period(year, month, tz=cal.tz, week_start=cal.week_start)
    # month
    year, month = int(match.group("y")), int(match.group("m"))
    if not 1 <= month <= 12:
        raise PeriodError(text, f"{year}-{month:02d} is not a month", ACCEPTED)
    _check_year(text, f"{year:04d}-{month:02d}", year, today)
    _check_start(text, date(year, month, 1), today)
    return month_period(year, month, tz=cal.tz, week_start=cal.week_start)


def _named(word: str, text: str, cal: Calendar) -> Period:
    today, tz, ws = cal.today, cal.tz, cal.week_start
    if word == "past-week":  # 7 whole days ending today, the same period as last-7-days
        return _make(text, today - timedelta(days=6), today, "range", cal, "last-7-days")
    if word == "today":
        return day_period(today, tz=tz, week_start=ws, label=word)
    if word == "yesterday":
        period = day_period(today - timedelta(days=1), tz=tz, week_start=ws, label=word)
    elif word in ("this-week", "last-week", "week-before-last"):
        weeks_back = ("this-week", "last-week", "week-before-last").index(word)
        first = week_start_of(today, ws) - timedelta(days=7 * weeks_back)
        period = week_period(first, tz=tz, week_start=ws, label=word)
    elif word.endswith("month"):
        day = today if word == "this-month" else today.replace(day=1) - timedelta(days=1)
        period = month_period(day.year, day.month, tz=tz, week_start=ws, label=word)
    elif word.endswith("quarter"):
        first = date(today.year, 3 * quarter_of(today) - 2, 1)
        day = today if word == "this-quarter" else first - timedelta(days=1)
        period = quarter_period(day.year, quarter_of(day), tz=tz, week_start=ws, label=word)
    else:  # this-year, last-year: 365 or 366 days, always within MAX_DAYS
        year = today.year if word == "this-year" else today.year - 1
        period = year_period(year, tz=tz, week_start=ws, label=word)
    _check_start(text, period.start, today)
    return period


def _make(
    text: str, first: date, last: date, kind: PeriodKind, cal: Calendar, label: str
) -> Period:
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise PeriodError(
            text, f"The period spans {days} days; the longest is {MAX_DAYS}", ACCEPTED
        )
    _check_start(text, first, cal.today)
    if kind == "range" and first == last:
        kind = "day"
    if kind == "range" and days == 7 and first.weekday() == cal.week_start:
        kind = "week"
    return Period(
        start=first, end=last, tz=cal.tz, label=label, kind=kind, week_start=cal.week_start
    )


def _check_year(text: str, shown: str, year: int, today: date, lead: int = 0) -> None:
    """Refuse a year outside EARLIEST..today before any date of it is built."""
    if year < EARLIEST.year:
        raise PeriodError(text, f"{shown} is before {EARLIEST}, the earliest start", ACCEPTED)
    if year > today.year + lead:
        raise PeriodError(text, f"{shown} is in the future (today is {today})", ACCEPTED)


def _check_start(text: str, first: date, today: date) -> None:
    if first < EARLIEST:
        raise PeriodError(
            text, f"The period starts ({first}) before {EARLIEST}, the earliest start", ACCEPTED
        )
    if first > today:
        raise PeriodError(text, f"The period starts in the future ({first})", ACCEPTED)


def _date(value: str, text: str, today: date) -> date:
    year, month, day = (int(part) for part in value.split("-"))
    # a range may end after today (this week's days), but never past the year after it
    _check_year(text, value, year, today, lead=1)
    try:
        return date(year, month, day)
    except ValueError:
        raise PeriodError(text, f"{value} is not a date", ACCEPTED) from None


def shorten(text: str, limit: int = 40) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis: what messages quote
    of what a person typed."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
