"""What the Slack listeners work with: the report service, the poster, in-flight tracking.

Reports are built off the event loop (the store is blocking), one at a time so that the
loop keeps the GIL often enough to ack new requests within Slack's 3 s, and requests for
the same period that arrive while its report is being built share that one build.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from chatbot.core.periods import Period
from chatbot.core.report import Report
from chatbot.delivery.slack.inflight import Inflight
from chatbot.delivery.slack.poster import SlackPoster
from chatbot.service import ReportService

BUILDS_AT_ONCE = 1


@dataclass(frozen=True, kw_only=True)
class SlackDeps:
    """The collaborators of the Slack listeners."""

    service: ReportService
    poster: SlackPoster
    inflight: Inflight = field(default_factory=Inflight)
    builds_at_once: int = BUILDS_AT_ONCE
    _building: dict[Period, asyncio.Future[Report]] = field(default_factory=dict, repr=False)
    _slots: list[asyncio.Semaphore] = field(default_factory=list, repr=False)

    def _slot(self) -> asyncio.Semaphore:
        if not self._slots:
            self._slots.append(asyncio.Semaphore(self.builds_at_once))
        return self._slots[0]

    async def build_report(self, period: Period) -> Report:
        """The report of ``period``; joins a build of the same period already under way."""
        running = self._building.get(period)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Report] = asyncio.get_running_loop().create_future()
        self._building[period] = future
        try:
            async with self._slot():
                report = await asyncio.to_thread(self.service.build_report, period)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark it retrieved: joiners re-raise it, nobody else must
            raise
        else:
            future.set_result(report)
            return report
        finally:
            del self._building[period]
