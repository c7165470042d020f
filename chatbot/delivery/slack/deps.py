"""What the Slack listeners work with: the report service, the poster, in-flight tracking."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from chatbot.core.periods import Period
from chatbot.core.report import Report
from chatbot.core.service import ReportService
from chatbot.delivery.slack.inflight import Inflight
from chatbot.delivery.slack.poster import SlackPoster


@dataclass(frozen=True, kw_only=True)
class SlackDeps:
    """The collaborators of the Slack listeners."""

    service: ReportService
    poster: SlackPoster
    inflight: Inflight = field(default_factory=Inflight)

    async def build_report(self, period: Period) -> Report:
        """The report of ``period``, built off the event loop (the store is blocking)."""
        return await asyncio.to_thread(self.service.build_report, period)
