"""The request grammar: one parser for the CLI, slash commands and mentions.

Accepted periods (case and spacing forgiving; ``_`` or spaces may stand for ``-``)::

    today | yesterday | this-week | last-week | this-month | last-month
    last-N-days (last N days)     N whole days ending today
    YYYY-MM-DD                    one day
    YYYY-MM-DD..YYYY-MM-DD        both days included
    YYYY-MM                       a calendar month
    YYYY-Www                      a week (its days follow the team's first weekday)
    since YYYY-MM-DD              that day through today

Every period starts between 1970-01-01 and today and spans at most 366 days; the bounds are
checked before any date arithmetic, so no year (0000 to 9999) can overflow.

A request may also carry the words ``help`` and ``private``. :func:`parse_period` is
strict (the CLI); :func:`parse_request` reads a slash command's text; :func:`parse_mention`
finds a period inside free text ("report for this month please"). :func:`parse_ticket`
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
    week_period,
    week_start_of,
)

ACCEPTED: tuple[str, ...] = (
    "today",
    "yesterday",
    "this-week",
    "last-week",
    "this-month",
    "last-month",
    "last-N-days",
    "YYYY-MM-DD",
    "YYYY-MM-DD..YYYY-MM-DD",
    "YYYY-MM",
    "YYYY-Www",
    "since YYYY-MM-DD",
)

TICKET_FORMS: tuple[str, ...] = ("123", "owner/name#123")
MAX_TICKET = 2**63 - 1  # the widest integer a store column holds
_TICKET = re.compile(r"#?(?:(?P<repo>[\w.-]+/[\w.-]+)#)?(?P<n>[0-9]{1,19})", re.ASCII)

_DATE = r"\d{4}-\d{1,2}-\d{1,2}"
_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("range", rf"(?P<a>{_DATE})\s*(?:\.\.|\bto\b|\buntil\b|\bthrough\b)\s*(?P<b>{_DATE})"),
        ("since", rf"\bsince\s+(?P<a>{_DATE})"),
        ("day", rf"(?<![\d-])(?P<a>{_DATE})(?![\d-])"),
        ("isoweek", r"\b(?P<y>\d{4})-?w(?P<w>\d{1,2})\b"),
        ("month", r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d{1,2})(?![\d-])"),
        # one separator each side: "last--1-days" is not "last-1-days"
        ("lastdays", r"\b(?:last|past)[\s-](?P<n>\d+)[\s-]days?\b"),
        ("named", r"\b(?P<word>today|yesterday|(?:this|last)[\s-]+(?:week|month))\b"),
    )
)

_LOOSE_LASTDAYS = re.compile(r"(?:last|past)[\s-]+\S*?[\s-]*days?")


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
    if _LOOSE_LASTDAYS.fullmatch(cleaned):  # last--1-days, last-1.5-days, last few days
        raise PeriodError(
            text, f"'{_shorten(text)}': N in last-N-days must be 1 to {MAX_DAYS}", ACCEPTED
        )
    raise PeriodError(text, f"'{_shorten(text)}' is not a period", ACCEPTED)


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
        match = pattern.search(cleaned)
        if match:
            return Request(period=_build(form, match, match.group(0), cal), private=private)
    return Request(period=None, help=True, private=private)


def parse_ticket(text: str) -> tuple[str | None, int]:
    """Read ``123``, ``#123`` or ``owner/name#123`` as (repository or None, number)."""
    match = _TICKET.fullmatch(text.strip())
    number = int(match.group("n")) if match else 0
    if match is None or not 1 <= number <= MAX_TICKET:
        raise TicketReferenceError(text, TICKET_FORMS)
    return match.group("repo"), number


def _build(form: str, match: re.Match[str], text: str, cal: Calendar) -> Period:
    today = cal.today
    if form == "named":
        word = re.sub(r"[\s-]+", "-", match.group("word"))
        return _named(word, cal)
    if form == "lastdays":
        digits = match.group("n")
        n = int(digits) if len(digits) <= len(str(MAX_DAYS)) else 0
        if not 1 <= n <= MAX_DAYS:
            raise PeriodError(
                text, f"last-{_shorten(digits, 8)}-days: N must be 1 to {MAX_DAYS}", ACCEPTED
            )
        return _make(text, today - timedelta(days=n - 1), today, "range", cal, f"last-{n}-days")
    if form == "day":
        day = _date(match.group("a"), text, today)
        return _make(text, day, day, "day", cal, day.isoformat())
    if form == "since":
        first = _date(match.group("a"), text, today)
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
    # month
    year, month = int(match.group("y")), int(match.group("m"))
    if not 1 <= month <= 12:
        raise PeriodError(text, f"{year}-{month:02d} is not a month", ACCEPTED)
    _check_year(text, f"{year:04d}-{month:02d}", year, today)
    _check_start(text, date(year, month, 1), today)
    return month_period(year, month, tz=cal.tz, week_start=cal.week_start)


def _named(word: str, cal: Calendar) -> Period:
    today, tz, ws = cal.today, cal.tz, cal.week_start
    if word == "today":
        return day_period(today, tz=tz, week_start=ws, label=word)
    if word == "yesterday":
        return day_period(today - timedelta(days=1), tz=tz, week_start=ws, label=word)
    this_week = week_start_of(today, ws)
    if word == "this-week":
        return week_period(this_week, tz=tz, week_start=ws, label=word)
    if word == "last-week":
        return week_period(this_week - timedelta(days=7), tz=tz, week_start=ws, label=word)
    if word == "this-month":
        return month_period(today.year, today.month, tz=tz, week_start=ws, label=word)
    last = today.replace(day=1) - timedelta(days=1)
    return month_period(last.year, last.month, tz=tz, week_start=ws, label=word)


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


def _shorten(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
