"""Chat schedules: the ones made with ``/support-report schedule …``, beside the TOML file's.

:class:`ChatScheduleBook` is what the chat front ends call (the
:class:`~chatbot.core.ports.ScheduleBook` port): it names a new schedule (unique among the
file's and the store's), keeps it in the store, starts its planning horizon at once (so a
firing right after it was made is not missed by a replica that sees it a tick later), lists
a channel's schedules with their next fire times, and removes one; each change is logged
with who made it. :meth:`ChatScheduleBook.schedules` is what the delivery runner reads every
tick: the file's schedules and the store's, so every replica picks a new or removed one up
within one tick.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from chatbot.core.periods import utc_now
from chatbot.core.ports import ChatScheduleStore, DeliveryLog
from chatbot.core.schedule_requests import (
    ChatSchedule,
    ScheduleEntry,
    ScheduleRequest,
    ScheduleRequestError,
    unique_name,
)
from chatbot.lazylog import get_logger
from chatbot.scheduling.schedules import Schedule, Target, make_trigger

log = get_logger(__name__)

ADD_ATTEMPTS = 20


def file_entry(schedule: Schedule, now: datetime) -> ScheduleEntry:
    """A schedule of the TOML file, as a listing shows it."""
    return ScheduleEntry(
        name=schedule.name,
        source="file",
        cron=schedule.cron,
        timezone=schedule.timezone,
        period=schedule.period,
        targets=tuple(str(t) for t in schedule.targets),
        next_fire=schedule.next_fire_time(now),
    )


class ChatScheduleBook:
    """Chat schedules over the store, checked against the file's names."""

    def __init__(
        self,
        *,
        store: ChatScheduleStore,
        deliveries: DeliveryLog,
        file_schedules: Sequence[Schedule] = (),
        timezone: str = "UTC",
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.deliveries = deliveries
        self.file_schedules = {s.name: s for s in file_schedules}
        self.timezone = timezone
        self.clock = clock
        self._built: dict[ChatSchedule, Schedule] = {}

    # -- what the runner reads ----------------------------------------------------------

    def schedules(self) -> list[Schedule]:
        """The file's schedules and the store's; a chat one named like a file one is left out."""
        built: dict[ChatSchedule, Schedule] = {}
        for row in self.store.chat_schedules():
            if row.name in self.file_schedules:
                continue
            schedule = self._built.get(row) or self._schedule(row)
            if schedule is not None:
                built[row] = schedule
        self._built = built  # triggers are kept while their rows stay the same
        return [*self.file_schedules.values(), *built.values()]

    def _schedule(self, row: ChatSchedule) -> Schedule | None:
        try:
            trigger = make_trigger(row.cron, row.timezone)
        except (ValueError, LookupError) as exc:
            log.warning("chat_schedule_unusable", schedule=row.name, reason=str(exc))
            return None
        return _as_schedule(row, trigger)

    # -- what the chats call ---------------------------------------------------------------

    def create(
        self, request: ScheduleRequest, *, platform: str, channel: str, by: str
    ) -> ScheduleEntry:
        """Keep a schedule of ``request`` posting to ``channel``, under a name nobody uses."""
        now = self.clock()
        try:
            trigger = make_trigger(request.cron, self.timezone)
        except ValueError as exc:  # core checked the fields; this is a last guard
            raise ScheduleRequestError(f"cron '{request.cron}': {exc}") from None
        taken = set(self.file_schedules) | {s.name for s in self.store.chat_schedules()}
        for _ in range(ADD_ATTEMPTS):
            name = unique_name(request.base_name, taken)
            row = ChatSchedule(
                name=name,
                cron=request.cron,
                timezone=self.timezone,
                period=request.period,
                platform=platform,
                channel=channel,
                created_by=by,
                created_at=now,
            )
            if self.store.add_schedule(row):
                break
            taken.add(name)  # made by someone else meanwhile
        else:
            raise ScheduleRequestError(f"Too many schedules are called {request.base_name}")
        # A name used before (removed, made again) must not bring back its old firings.
        self.deliveries.advance_horizon(name, now)
        log.info(
            "schedule_created",
            schedule=name,
            by=by,
            platform=platform,
            channel=channel,
            cron=request.cron,
            timezone=self.timezone,
            period=request.period,
        )
        return self._entry(row, _as_schedule(row, trigger), now)

    def listing(self, platform: str, channel: str) -> list[ScheduleEntry]:
        """The schedules posting to ``channel``: the file's (by channel id) and the chat's."""
        target = f"{platform}:{channel}"
        return [e for e in self.all_entries() if target in e.targets]

    def all_entries(self) -> list[ScheduleEntry]:
        """Every schedule, the file's and the chat's, by name (``chatbot schedules``)."""
        now = self.clock()
        entries = [file_entry(s, now) for s in self.file_schedules.values()]
        for row in self.store.chat_schedules():
            if row.name not in self.file_schedules:
                entries.append(self._entry(row, self._schedule(row), now))
        return sorted(entries, key=lambda e: e.name)

    def remove(self, name: str, *, platform: str, channel: str, by: str) -> ScheduleEntry:
        """Remove the chat schedule ``name`` of ``channel``; a pending firing of it then fails."""
        if name in self.file_schedules:
            raise ScheduleRequestError(
                f"{name} comes from the schedules file",
                ("edit CHATBOT_CONFIG to change it", "unschedule NAME for a chat schedule"),
            )
        target = f"{platform}:{channel}"
        found = next((s for s in self.store.chat_schedules() if s.name == name), None)
        ours = found is not None and found.target == target
        removed = self.store.remove_schedule(name) if ours else None
        if removed is None:  # none here, or removed by someone else meanwhile
            raise ScheduleRequestError(
                f"No schedule {name} posts to this channel",
                ("unschedule NAME, a name that `schedules` lists here",),
            )
        log.info("schedule_removed", schedule=name, by=by, platform=platform, channel=channel)
        return self._entry(removed, None, self.clock())

    def _entry(self, row: ChatSchedule, schedule: Schedule | None, now: datetime) -> ScheduleEntry:
        return ScheduleEntry(
            name=row.name,
            source="chat",
            cron=row.cron,
            timezone=row.timezone,
            period=row.period,
            targets=(row.target,),
            next_fire=schedule.next_fire_time(now) if schedule is not None else None,
            created_by=row.created_by,
        )


def _as_schedule(row: ChatSchedule, trigger: CronTrigger) -> Schedule:
    """The runner's schedule of a chat row: one target, the channel it was made in."""
    return Schedule(
        name=row.name,
        cron=row.cron,
        timezone=row.timezone,
        period=row.period,
        targets=(Target(platform=row.platform, channel=row.channel),),
        trigger=trigger,
    )
