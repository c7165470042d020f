"""Schedules asked for in a chat: ``schedule …``, ``schedules``, ``unschedule NAME``.

A request becomes a 5-field crontab string and a period text (checked with the shared
grammar); the scheduling adapter turns them into a trigger. Accepted forms::

    schedule daily 09:00 yesterday
    schedule weekdays 08:30 yesterday              Monday to Friday
    schedule weekly monday 09:00 last-week         any weekday, or its short form
    schedule monthly 1 09:00 last-month            day 1-31 (a month without it is skipped)
    schedule cron "0 9 * * 1-5" last-week          any crontab line: minute hour day month weekday

The time zone is the team's (``TZ``). Names are generated from the request
(``weekly-mon-0900-last-week``) and suffixed ``-2``, ``-3``… when taken.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal

from chatbot.core.errors import PeriodError, UserInputError
from chatbot.core.grammar import (
    ACCEPTED,
    WEEKDAY_NUMBER,
    Calendar,
    normalize,
    parse_period,
    shorten,
)

SCHEDULE_WORDS: tuple[str, ...] = ("schedule", "schedules", "unschedule")
"""The first words of a command that is about schedules, not a report."""

SCHEDULE_FORMS: tuple[str, ...] = (
    "schedule daily 09:00 PERIOD",
    "schedule weekdays 08:30 PERIOD",
    "schedule weekly monday 09:00 PERIOD",
    "schedule monthly 1 09:00 PERIOD",
    'schedule cron "0 9 * * 1-5" PERIOD',
)

NAME_LIMIT = 63
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
# crontab counts Sunday as 0; the grammar, as ``date.weekday``, counts Monday as 0
_WEEKDAYS: dict[str, int] = {name: (n + 1) % 7 for name, n in WEEKDAY_NUMBER.items()}
_SHORT_DAY = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# (field name, lowest, highest, names usable in place of numbers)
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTH_NAMES),
    ("day of week", 0, 7, _SHORT_DAY),
)
_shorten = partial(shorten, limit=30)  # what a schedule message quotes of the request
_QUOTES = "\"'“”‘’`"


class ScheduleRequestError(UserInputError):
    """A schedule request that cannot be used: says what was wrong and what is accepted."""

    def __init__(self, problem: str, accepted: Collection[str] = SCHEDULE_FORMS) -> None:
        self.problem = problem
        self.accepted = tuple(accepted)
        super().__init__(f"{problem}. Accepted: {'; '.join(self.accepted)}.")


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleRequest:
    """What ``schedule …`` asked for: a crontab line, a period, and a name to start from."""

    cron: str
    period: str
    base_name: str
    every: str
    """How the schedule reads to a person: ``every Monday at 09:00``."""

    def __post_init__(self) -> None:
        if len(self.cron.split()) != 5:
            raise ValueError(f"cron needs 5 fields: {self.cron!r}")
        if not _NAME.match(self.base_name):
            raise ValueError(f"bad schedule name {self.base_name!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class ChatSchedule:
    """A schedule made in a chat: kept in the store, posted to the channel it was made in."""

    name: str
    cron: str
    timezone: str
    period: str
    platform: str
    channel: str
    created_by: str
    created_at: datetime

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"bad schedule name {self.name!r}")
        if self.created_at.utcoffset() is None:
            raise ValueError("created_at must be aware")

    @property
    def target(self) -> str:
        """``platform:channel``, as a delivery row names it."""
        return f"{self.platform}:{self.channel}"


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleEntry:
    """One schedule as a listing shows it: from the file or from a chat, with its next firing."""

    name: str
    source: Literal["file", "chat"]
    cron: str
    timezone: str
    period: str
    targets: tuple[str, ...]
    next_fire: datetime | None
    created_by: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleCommand:
    """One parsed schedule command: create (with its request), list, or remove (a name)."""

    action: Literal["create", "list", "remove", "help"]
    request: ScheduleRequest | None = None
    name: str | None = None


def parse_schedule_command(text: str, cal: Calendar) -> ScheduleCommand:
    """Parse ``schedule …``, ``schedules`` or ``unschedule NAME``.

    Raises:
        ScheduleRequestError: the request is not one of the accepted forms.
    """
    word, _, rest = text.strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    if word == "schedules":
        return ScheduleCommand(action="list")
    if word == "unschedule":
        name = rest.strip(_QUOTES).lower()
        if not name:
            raise ScheduleRequestError(
                "Say which schedule to remove", ("unschedule NAME (see `schedules`)",)
            )
        if not _NAME.match(name):
            raise ScheduleRequestError(
                f"'{_shorten(rest)}' is not a schedule name",
                ("unschedule NAME, a name that `schedules` lists",),
            )
        return ScheduleCommand(action="remove", name=name)
    if word != "schedule":
        raise ScheduleRequestError(f"'{_shorten(word)}' is not a schedule command")
    if rest.lower() in ("", "help", "?"):
        return ScheduleCommand(action="help")
    return ScheduleCommand(action="create", request=parse_schedule_request(rest, cal))


def parse_schedule_request(text: str, cal: Calendar) -> ScheduleRequest:
    """The words after ``schedule``: how often, when, and the period to report on."""
    text = text.strip()
    kind, _, rest = text.partition(" ")
    kind = kind.lower()
    if kind == "cron":
        cron, period_text = _split_cron(rest)
        check_cron(cron)
        period = _period(period_text, cal)
        return ScheduleRequest(
            cron=cron,
            period=period,
            base_name=_name("cron", period),
            every=f"on cron {cron}",
        )
    words = rest.split()
    if kind in ("daily", "weekdays"):
        hour, minute = _time(words[:1], kind)
        days = "*" if kind == "daily" else "1-5"
        when = "every day" if kind == "daily" else "Monday to Friday"
        return _at(f"{minute} {hour} * * {days}", kind, hour, minute, words[1:], cal, when)
    if kind == "weekly":
        if not words:
            raise ScheduleRequestError("Say which weekday, e.g. weekly monday 09:00")
        day = _WEEKDAYS.get(words[0].lower().rstrip(","))
        if day is None:
            raise ScheduleRequestError(
                f"'{_shorten(words[0])}' is not a weekday; use monday to sunday or mon to sun"
            )
        hour, minute = _time(words[1:2], kind)
        short = _SHORT_DAY[day]
        when = f"every {_full_day(day)}"
        cron = f"{minute} {hour} * * {day}"
        return _at(cron, f"weekly-{short}", hour, minute, words[2:], cal, when)
    if kind == "monthly":
        if not words:
            raise ScheduleRequestError("Say which day of the month, e.g. monthly 1 09:00")
        if not re.fullmatch(r"\d{1,2}", words[0]) or not 1 <= int(words[0]) <= 31:
            raise ScheduleRequestError(
                f"'{_shorten(words[0])}' is not a day of the month; use 1 to 31"
            )
        day_of_month = int(words[0])
        hour, minute = _time(words[1:2], kind)
        when = f"on day {day_of_month} of each month"
        return _at(
            f"{minute} {hour} {day_of_month} * *",
            f"monthly-{day_of_month}",
            hour,
            minute,
            words[2:],
            cal,
            when,
        )
    raise ScheduleRequestError(
        f"'{_shorten(kind)}' is not how often; use daily, weekdays, weekly, monthly or cron"
    )


def unique_name(base: str, taken: Collection[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… : the first not in ``taken``."""
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: NAME_LIMIT - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1


def check_cron(cron: str) -> None:
    """Raise :class:`ScheduleRequestError` unless ``cron`` is 5 crontab fields in range."""
    fields = cron.split()
    if len(fields) != 5:
        raise ScheduleRequestError(
            f"cron '{_shorten(cron)}' has {len(fields)} fields, not 5"
            " (minute hour day month weekday)"
        )
    for value, (label, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in value.lower().split(","):
            if not _cron_part_ok(part, low, high, names):
                allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
                raise ScheduleRequestError(
                    f"cron '{_shorten(cron)}': {label} '{_shorten(part)}' is not *, a value"
                    f" {allowed}, a range a-b, a list a,b or a step */n"
                )


def _cron_part_ok(part: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    body, slash, step = part.partition("/")
    if slash and not (step.isdigit() and int(step) >= 1):
        return False

    def value(text: str) -> int | None:
        if text.isdigit():
            number = int(text)
            return number if low <= number <= high else None
        if text in names:
            return names.index(text) + (1 if low == 1 else 0)
        return None

    if body == "*":
        return True
    first, dash, last = body.partition("-")
    start = value(first)
    if start is None:
        return False
    if dash:
        end = value(last)
        return end is not None and start <= end
    return True


def _split_cron(rest: str) -> tuple[str, str]:
    """A quoted crontab line, then the period; unquoted, the first five words."""
    rest = rest.strip()
    if rest and rest[0] in _QUOTES:
        body = rest[1:]
        end = next((i for i, c in enumerate(body) if c in _QUOTES), -1)
        if end < 0:
            raise ScheduleRequestError("The cron line has no closing quote")
        return " ".join(body[:end].split()), body[end + 1 :].strip()
    words = rest.split()
    if len(words) < 5:
        raise ScheduleRequestError(
            'Give the cron line in quotes, e.g. cron "0 9 * * 1-5" last-week'
        )
    return " ".join(words[:5]), " ".join(words[5:])


def _time(words: list[str], kind: str) -> tuple[int, int]:
    if not words:
        raise ScheduleRequestError(f"Say at what time, e.g. {kind} … 09:00")
    match = _TIME.match(words[0])
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ScheduleRequestError(
            f"'{_shorten(words[0])}' is not a time; use HH:MM from 00:00 to 23:59"
        )
    return int(match.group(1)), int(match.group(2))


def _at(
    cron: str,
    prefix: str,
    hour: int,
    minute: int,
    period_words: list[str],
    cal: Calendar,
    when: str,
) -> ScheduleRequest:
    period = _period(" ".join(period_words), cal)
    return ScheduleRequest(
        cron=cron,
        period=period,
        base_name=_name(f"{prefix}-{hour:02d}{minute:02d}", period),
        every=f"{when} at {hour:02d}:{minute:02d}",
    )


def _period(text: str, cal: Calendar) -> str:
    if not text.strip():
        raise ScheduleRequestError("Say which period to report on, e.g. last-week", ACCEPTED)
    try:
        parse_period(text, cal)
    except PeriodError as exc:
        raise ScheduleRequestError(f"period: {exc.problem}", exc.accepted) from None
    return normalize(text)


def _name(prefix: str, period: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", period.lower()).strip("-")
    return f"{prefix}-{slug}"[:NAME_LIMIT].rstrip("-.") if slug else prefix


def _full_day(day: int) -> str:
    return ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")[day]


