"""Use cases: build a report for a period, explain a ticket's activity level, answer questions.

The layer above ``core`` and ``analysis``: every front end (CLI, Slack, the scheduler) calls
the service; it reads the store through the :class:`~chatbot.core.ports.TicketStore` port
and hands the tickets to the pure analysis functions. ``core`` knows neither. Chat
platforms share builds of the same period through :class:`SharedBuilds`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, time

from chatbot.analysis import build_report, score_ticket
from chatbot.analysis.metrics import waiting_between
from chatbot.analysis.scoring import ticket_ref
from chatbot.core.answers import (
    Answer,
    ExplainAnswer,
    ReportPart,
    TrendAnswer,
    TrendPoint,
    WaitingAnswer,
)
from chatbot.core.errors import TicketNotFound
from chatbot.core.facts import micros
from chatbot.core.grammar import Calendar, parse_ticket
from chatbot.core.models import Ticket
from chatbot.core.periods import EARLIEST, Period, utc_now
from chatbot.core.ports import ResultCache, TicketStore
from chatbot.core.questions import TREND_PERIODS, Question
from chatbot.core.report import Activity, DailyLink, Report, TicketRef, Waiting
from chatbot.lazylog import get_logger

log = get_logger(__name__)

TEXT_CHARS = 2000
"""Characters of each ticket's body (and of each comment) read for the themes."""

#: Rewrites a built report (the model), given a way to read a cited ticket's full text.
Refine = Callable[[Report, Callable[[TicketRef], Ticket | None]], Report]
#: The note of a report built offline on purpose although a model is configured.
DAILY_OFFLINE = "Offline analysis: the daily reports of a weekly run do not ask the model"
#: How many waiting tickets an answer carries; renderers show fewer and say "and N more".
WAITING_LISTED = 50


class BestEffortCache:
    """A :class:`ResultCache` whose failures are misses: a report never fails on its cache.

    A store that cannot answer (locked, down, a table missing) is logged once per call and
    the report is built as without a cache.
    """

    def __init__(self, cache: ResultCache) -> None:
        self.cache = cache

    def get(self, key: str) -> str | None:
        """The kept result, or None, also when the cache could not be read."""
        try:
            return self.cache.get(key)
        except Exception as exc:  # a cache is a bonus
            log.warning("result_cache_unavailable", step="get", error=type(exc).__name__)
            return None

    def put(self, key: str, answer: str, now: datetime) -> None:
        """Keep ``answer``; a cache that cannot be written is logged and left alone."""
        try:
            self.cache.put(key, answer, now)
        except Exception as exc:  # a cache is a bonus
            log.warning("result_cache_unavailable", step="put", error=type(exc).__name__)


class ReportService:
    """Builds reports from a ticket store; with a ``theme_cache``, keeps the themes' groupings."""

    def __init__(
        self,
        store: TicketStore,
        *,
        tz: str = "UTC",
        week_start: int = 0,
        top: int = 5,
        clock: Callable[[], datetime] = utc_now,
        refine: Refine | None = None,
        theme_cache: ResultCache | None = None,
    ) -> None:
        self.store = store
        self.tz = tz
        self.week_start = week_start
        self.top = top
        self.clock = clock
        self.refine = refine
        self.theme_cache = None if theme_cache is None else BestEffortCache(theme_cache)

    def calendar(self) -> Calendar:
        """The team calendar at this moment, for the request grammar."""
        return Calendar(now=self.clock(), tz=self.tz, week_start=self.week_start)

    def build_report(
        self,
        period: Period,
        daily_links: Sequence[DailyLink] = (),
        *,
        use_model: bool = True,
    ) -> Report:
        """The report of ``period``, with its trend against the period before.

        With ``use_model`` off, a configured model is not asked: the report is the offline
        one, and its note says so (the dailies of a weekly run, see ``delivery.files``).
        """
        now = self.clock()
        before, until = period.previous(), None
        if period.in_progress(now):
            # Compare what has elapsed with the same elapsed time of the period before.
            before, until = period.previous_span(now)
        report = build_report(
            period=period,
            source=self.store,
            backlog=self.store.backlog(min(period.end_at, now)),
            previous=self.store.period_figures(before.start_at, before.end_at, until=until),
            now=now,
            repos=self.store.repos(),
            top=self.top,
            daily_links=daily_links,
            previous_period=before,
            previous_until=until,
            texts=lambda keys: self.store.ticket_texts(keys, TEXT_CHARS),
            theme_cache=self.theme_cache,
        )
        if self.refine is None:
            return report
        if not use_model:
            return replace(report, analysis_note=DAILY_OFFLINE)
        return self.refine(report, self._full_text)

    def _full_text(self, ref: TicketRef) -> Ticket | None:
        """The cited ticket with its body (the period's read leaves bodies out)."""
        found = self.store.find_tickets(ref.number, ref.repo)
        return found[0] if found else None

    def explain(self, reference: str, period: Period) -> Activity:
        """The activity level of one ticket (``123`` or ``owner/name#123``) in ``period``."""
        repo, number = parse_ticket(reference)
        found = self.store.find_tickets(number, repo)
        if not found:
            raise TicketNotFound(reference)
        if len(found) > 1:
            raise TicketNotFound(reference, [t.reference for t in found])
        return score_ticket(found[0], period, self.clock())

    def waiting(self, limit: int = WAITING_LISTED) -> WaitingAnswer:
        """Open tickets with no first team reply as of now, oldest first.

        Read through ``period_facts`` with ``open_only`` (no ticket is loaded but the
        ``limit`` listed); the rule is the report's waiting list without its period.
        """
        now = self.clock()
        start = datetime.combine(EARLIEST, time(), UTC)
        as_of = micros(now)
        facts = self.store.period_facts(start, now, now, open_only=True)
        waiting = waiting_between(facts, micros(start), as_of, as_of)
        shown = waiting[:limit]
        refs = {t.key: ticket_ref(t) for t in self.store.tickets([f.key for f, _ in shown])}
        listed = tuple(
            Waiting(ticket=refs[f.key], hours=hours) for f, hours in shown if f.key in refs
        )
        return WaitingAnswer(
            as_of=now, tickets=listed, total=len(waiting), repos=tuple(self.store.repos())
        )

    def trend(self, period: Period, count: int = TREND_PERIODS) -> TrendAnswer:
        """The summary figures of ``period`` and the ``count - 1`` periods before it, oldest
        first; one still in progress counts up to now."""
        now = self.clock()
        periods = [period]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        points = []
        for each in reversed(periods):
            partial = each.in_progress(now)
            figures = self.store.period_figures(
                each.start_at, each.end_at, until=now if partial else None
            )
            points.append(TrendPoint(period=each, figures=figures, partial=partial))
        return TrendAnswer(points=tuple(points))


class SharedBuilds:
    """Reports built off the loop, one at a time; requests for a period being built share it.

    One blocking build at a time keeps the event loop holding the GIL often enough to defer
    new interactions at once; 50 people asking for last week while it is being built get
    that one report.
    """

    def __init__(self, service: ReportService, at_once: int = 1) -> None:
        self.service = service
        self.at_once = at_once
        self._running: dict[Period, asyncio.Future[Report]] = {}
        self._slot: asyncio.Semaphore | None = None  # made inside the running loop

    async def build(self, period: Period) -> Report:
        """The report of ``period``; joins a build of the same period already under way."""
        running = self._running.get(period)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Report] = asyncio.get_running_loop().create_future()
        self._running[period] = future
        if self._slot is None:
            self._slot = asyncio.Semaphore(self.at_once)
        try:
            async with self._slot:
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
            del self._running[period]


async def answer_question(
    service: ReportService, build: Callable[[Period], Awaitable[Report]], question: Question
) -> Answer:
    """The answer to ``question`` (not help, a report or a schedule), read off the loop.

    ``top labels`` and ``themes`` are parts of the period's report, built through ``build``
    (a :class:`SharedBuilds`), so they share a build with reports of the same period.
    """
    period = question.period
    if question.kind == "waiting":
        return await asyncio.to_thread(service.waiting)
    if period is None:
        raise ValueError(f"a {question.kind} question needs a period")
    if question.kind == "explain":
        ticket = question.ticket or ""
        activity = await asyncio.to_thread(service.explain, ticket, period)
        return ExplainAnswer(period=period, activity=activity)
    if question.kind == "trend":
        return await asyncio.to_thread(service.trend, period)
    if question.kind in ("labels", "themes"):
        return ReportPart(part=question.kind, report=await build(period))
    raise ValueError(f"{question.kind} is not a question with an answer")
