"""Schedules: when to post which report where, read from a TOML file.

::

    [[schedules]]
    name = "daily-support"          # unique; part of the delivery key
    cron = "0 9 * * 1-5"            # 5 fields, or 6 with seconds first
    timezone = "Europe/Berlin"
    period = "yesterday"            # any request of the grammar
    targets = ["slack:#support", "slack:C0123ABCD"]

Cron fields follow crontab: day of week 0 or 7 is Sunday, 1 is Monday. (APScheduler 3
counts Monday as 0, so numeric days are translated to names before it sees them.)
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from chatbot.core.errors import ConfigError, PeriodError
from chatbot.core.grammar import Calendar, parse_period
from chatbot.core.periods import Period

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class ScheduleError(ConfigError):
    """A schedule file that cannot be used; names the schedule and the field."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__([f"{where}: {problem}"])


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """Where a scheduled report goes: ``slack:#support``, ``slack:C0123ABCD``."""

    platform: str
    channel: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.channel}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Schedule:
    """One schedule: a cron expression in a time zone, a period request, and targets."""

    name: str
    cron: str
    timezone: str
    period: str
    targets: tuple[Target, ...]
    trigger: CronTrigger = field(compare=False, repr=False)

    def fire_times(self, after: datetime, until: datetime) -> list[datetime]:
        """Fire times strictly after ``after`` and at or before ``until``, in UTC order.

        When clocks fall back, a wall-clock time that happens twice fires once (as cron
        does); APScheduler 3 alone would fire at both.
        """
        times: list[datetime] = []
        previous: datetime | None = None
        moment = self.trigger.get_next_fire_time(None, after)
        while moment is not None and moment.astimezone(UTC) <= until:
            repeated = previous is not None and moment.replace(fold=0) == previous.replace(fold=0)
            if moment.astimezone(UTC) > after and not repeated:
                times.append(moment.astimezone(UTC))
            if previous is not None and moment.astimezone(UTC) <= previous.astimezone(UTC):
                break  # guard against a trigger that does not advance
            previous = moment
            moment = self.trigger.get_next_fire_time(previous, previous)
        return times

    def next_fire_time(self, now: datetime) -> datetime | None:
        """The first fire time after ``now``, in UTC."""
        moment: datetime | None = self.trigger.get_next_fire_time(None, now)
        if moment is not None and moment <= now:
            moment = self.trigger.get_next_fire_time(moment, moment)
        return moment.astimezone(UTC) if moment is not None else None

    def period_at(self, fire_time: datetime, week_start: int = 0) -> Period:
        """The period this schedule reports on when it fires at ``fire_time``."""
        return parse_period(
            self.period, Calendar(now=fire_time, tz=self.timezone, week_start=week_start)
        )


def _day_of_week(expression: str) -> str:
    """Translate crontab day numbers (0/7 Sunday) to the names APScheduler reads."""
    parts = []
    for part in expression.lower().split(","):
        body, _, step = part.partition("/")
        if body == "*" and not step:
            parts.append("*")
            continue
        if body == "*":
            first, last = 0, 6
        elif re.fullmatch(r"\d-\d", body):
            first, last = (int(x) for x in body.split("-"))
        elif re.fullmatch(r"\d", body):
            first = last = int(body)
            if step:
                last = 6
        else:
            parts.append(part)  # names such as mon-fri pass through
            continue
        if not (0 <= first <= 7 and 0 <= last <= 7) or first > last:
            raise ValueError(f"day of week {part!r} is not 0-7")
        stride = int(step) if step else 1
        days = dict.fromkeys(_DAY_NAMES[d] for d in range(first, last + 1, stride))
        parts.append(",".join(days))
    return ",".join(parts)


def make_trigger(cron: str, timezone: str) -> CronTrigger:
    """An APScheduler trigger from 5 crontab fields, or 6 with seconds first."""
    fields = cron.split()
    if len(fields) == 5:
        second, (minute, hour, day, month, dow) = "0", fields
    elif len(fields) == 6:
        second, minute, hour, day, month, dow = fields
    else:
        raise ValueError(f"needs 5 fields (or 6 with seconds first), got {len(fields)}")
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_day_of_week(dow),
        timezone=ZoneInfo(timezone),
    )


def parse_target(text: Any, platforms: Collection[str] | None = None) -> Target:
    """``platform:channel``; the platform must be one of ``platforms`` when they are given."""
    if not isinstance(text, str) or ":" not in text:
        raise ValueError(f"{text!r} is not platform:channel (e.g. slack:#support)")
    platform, _, channel = text.partition(":")
    if not platform or (platforms is not None and platform not in platforms):
        known = ", ".join(sorted(platforms or ())) or "none"
        raise ValueError(f"{text!r}: no platform {platform!r}; this bot posts to {known}")
    if not channel.strip() or any(c.isspace() for c in channel):
        raise ValueError(f"{text!r}: the channel is empty or has spaces")
    return Target(platform=platform, channel=channel)


def _field(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScheduleError(where, f"{key} must be a non-empty string")
    return value.strip()


def parse_schedule(
    table: Any, where: str, now: datetime, platforms: Collection[str] | None = None
) -> Schedule:
    """One ``[[schedules]]`` table, checked field by field."""
    if not isinstance(table, dict):
        raise ScheduleError(where, "must be a table")
    name = _field(table, "name", where)
    where = f"schedule '{name}'"
    if not _NAME_RE.match(name):
        raise ScheduleError(where, "name: letters, digits, . _ - only, at most 63")
    timezone = str(table.get("timezone", "UTC"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(where, f"timezone: unknown time zone {timezone!r}") from None
    cron = _field(table, "cron", where)
    try:
        trigger = make_trigger(cron, timezone)
    except ValueError as exc:
        raise ScheduleError(where, f"cron {cron!r}: {exc}") from None
    period = _field(table, "period", where)
    try:
        parse_period(period, Calendar(now=now, tz=timezone))
    except PeriodError as exc:
        raise ScheduleError(where, f"period: {exc}") from None
    raw_targets = table.get("targets")
    if not isinstance(raw_targets, list) or not raw_targets:
        raise ScheduleError(where, "targets must be a non-empty list like ['slack:#support']")
    try:
        targets = tuple(dict.fromkeys(parse_target(t, platforms) for t in raw_targets))
    except ValueError as exc:
        raise ScheduleError(where, f"targets: {exc}") from None
    unknown = set(table) - {"name", "cron", "timezone", "period", "targets"}
    if unknown:
        raise ScheduleError(where, f"unknown field(s): {', '.join(sorted(unknown))}")
    return Schedule(
        name=name, cron=cron, timezone=timezone, period=period, targets=targets, trigger=trigger
    )


def parse_schedules(
    text: str,
    now: datetime,
    source: str = "schedules",
    platforms: Collection[str] | None = None,
) -> list[Schedule]:
    """Every schedule of a TOML document; names must be unique."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(source, f"not valid TOML ({exc})") from None
    tables = document.get("schedules", [])
    if not isinstance(tables, list):
        raise ScheduleError(source, "use [[schedules]] tables")
    schedules = [
        parse_schedule(t, f"{source} #{i}", now, platforms) for i, t in enumerate(tables, 1)
    ]
    seen: set[str] = set()
    for schedule in schedules:
        if schedule.name in seen:
            raise ScheduleError(f"schedule '{schedule.name}'", "name: used twice")
        seen.add(schedule.name)
    return schedules


def load_schedules(
    path: Path, now: datetime, platforms: Collection[str] | None = None
) -> list[Schedule]:
    """The schedules in ``path``; none if the file does not exist.

    With ``platforms`` given, a target naming another platform is refused here, at load,
    rather than failing at its first fire time.
    """
    if not path.is_file():
        return []
    return parse_schedules(path.read_text(encoding="utf-8"), now, str(path), platforms)
