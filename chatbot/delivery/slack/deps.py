"""What the Slack listeners work with: the report service, the poster, in-flight tracking.

Reports are built off the event loop (the store is blocking), one at a time so that the
loop keeps the GIL often enough to ack new requests within Slack's 3 s, and requests for
the same period that arrive while its report is being built share that one build.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chatbot.core.periods import Period
from chatbot.core.ports import ScheduleBook
from chatbot.core.report import Report
from chatbot.delivery.inflight import Inflight
from chatbot.delivery.slack.poster import SlackPoster
from chatbot.service import ReportService, SharedBuilds

BUILDS_AT_ONCE = 1


@dataclass(frozen=True, kw_only=True)
class SlackDeps:
    """The collaborators of the Slack listeners."""

    service: ReportService
    poster: SlackPoster
    inflight: Inflight = field(default_factory=Inflight)
    builds_at_once: int = BUILDS_AT_ONCE
    #: the chat's schedules (``schedule …`` commands), and who may change them besides admins
    schedules: ScheduleBook | None = None
    schedule_admins: frozenset[str] = frozenset()
    _builds: SharedBuilds = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_builds", SharedBuilds(self.service, self.builds_at_once))

    async def build_report(self, period: Period) -> Report:
        """The report of ``period``; joins a build of the same period already under way."""
        return await self._builds.build(period)
