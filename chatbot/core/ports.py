"""Ports: the roles that adapters play for the core. Adapters satisfy them without inheriting."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chatbot.core.deliveries import Delivery, Status
from chatbot.core.facts import Key, TicketFacts
from chatbot.core.models import Comment, Ticket
from chatbot.core.periods import Period
from chatbot.core.report import Breakdown, DailyLink, Figures, Report
from chatbot.core.schedule_requests import ChatSchedule, ScheduleEntry, ScheduleRequest

DEMO_META_KEY = "demo_loaded_at"
"""Store meta: when the demo was loaded; empty once real tickets came; absent if never."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SaveStats:
    """What saving a batch of tickets changed.

    ``rejected`` holds (repo, number, error class) of tickets the database refused; every
    other ticket of their batch was saved.
    """

    new: int = 0
    updated: int = 0
    comments: int = 0
    rejected: tuple[tuple[str, int, str], ...] = ()


class PeriodSource(Protocol):
    """What a report reads: per-ticket facts and aggregates of a span, and whole tickets
    only for the few a report shows.

    Spans are ``[start, end)``. ``chatbot.analysis.source.TicketsSource`` is the reference:
    it computes every answer from a list of tickets in Python, and a store's answers are the
    same (``tests/test_period_source.py``).
    """

    def period_facts(
        self, start: datetime, end: datetime, as_of: datetime, *, open_only: bool = False
    ) -> list[TicketFacts]:
        """Facts of each ticket opened, closed or commented on in ``[start, end)``, sorted
        by key; with ``open_only``, only those open at ``as_of``."""
        ...

    def touched_keys(self, start: datetime, end: datetime) -> list[Key]:
        """Keys of the tickets opened, closed or commented on in ``[start, end)``, sorted."""
        ...

    def breakdown_counts(self, start: datetime, end: datetime) -> list[Breakdown]:
        """One row per distinct label (dimension ``label``) and form-field answer (dimension:
        the field's name) of the tickets opened or closed in ``[start, end)``: received
        (opened in it), resolved (closed in it), pending (opened in it and open at ``end``).
        A ticket counts once per row. Every value, unfiltered, in no order."""
        ...

    def received_counts(self, start: datetime, end: datetime) -> dict[tuple[str, str], int]:
        """How many tickets opened in ``[start, end)`` have each (dimension, value) row of
        :meth:`breakdown_counts`: its ``received`` column alone, rows of zero left out (a
        report compares a period's rows with the previous period's by this)."""
        ...

    def received_with(
        self, start: datetime, end: datetime, dimension: str, value: str
    ) -> list[Key]:
        """Keys of the tickets opened in ``[start, end)`` with that label (dimension
        ``label``) or form-field answer, sorted."""
        ...

    def tickets(self, keys: Sequence[Key]) -> list[Ticket]:
        """The tickets of ``keys``, with labels, form fields and comments (bodies left out),
        sorted by key; unknown keys are absent."""
        ...

    def ticket_texts(self, keys: Sequence[Key], max_chars: int) -> dict[Key, str]:
        """Body and the first ``TEXT_COMMENTS`` human comment bodies of each ticket of
        ``keys``, each part cut to ``max_chars`` (in the database); unknown keys are absent."""
        ...

    def backlog(self, at: datetime) -> int:
        """How many tickets were open at ``at``."""
        ...

    def period_figures(
        self, start: datetime, end: datetime, *, until: datetime | None = None
    ) -> Figures:
        """The summary figures of ``[start, end)`` from aggregate queries, no ticket loaded:
        those of ``analysis.metrics.figures_of`` over the span's facts, with the backlog at
        ``min(end, until)``; ``until`` cuts the span there (the previous period of one in
        progress, see ``Period.previous_span``)."""
        ...


class TicketStore(PeriodSource, Protocol):
    """Where tickets live between a sync and a report; what a report reads (the period
    source) among them."""

    def save_tickets(self, tickets: Iterable[Ticket], *, with_comments: bool = True) -> SaveStats:
        """Insert or replace tickets: labels and form fields always, comments if asked."""
        ...

    def save_comments(self, repo: str, items: Iterable[tuple[int, Comment]]) -> int:
        """Insert or replace comments given as (issue number, comment); unknown issues skipped."""
        ...

    def tickets_touched(self, start: datetime, end: datetime) -> list[Ticket]:
        """Tickets opened, closed or commented on in ``[start, end)``, with all their comments."""
        ...

    def find_tickets(self, number: int, repo: str | None = None) -> list[Ticket]:
        """Tickets with that number (in ``repo`` if given), with their comments."""
        ...

    def repos(self) -> list[str]:
        """The repositories the store holds tickets of."""
        ...

    def count_tickets(self) -> int:
        """How many tickets the store holds."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A stored setting of the store itself (sync cursors, demo load time)."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting of the store itself."""
        ...

    def clear(self, repos: Sequence[str] | None = None) -> None:
        """Delete every ticket (of ``repos`` if given)."""
        ...

    def exclusive(
        self, name: str, *, wait: bool = True, on_wait: Callable[[], None] | None = None
    ) -> AbstractContextManager[bool]:
        """A lock one process holds at a time; yields False if ``wait`` is off and it is taken.

        ``on_wait`` is called once if the lock is taken and ``wait`` is on, before waiting.
        """
        ...


class AnswerCache(Protocol):
    """The model's checked answers, shared by every replica, by key.

    A key names the model, the period and the prompt's content hash, so an answer is reused
    only for the same question. Only answers that passed every check are put.

    ``claim`` makes concurrent askers, in any process, ask the model once: the one caller
    that gets the claim asks, then puts the answer (or releases the claim on a failure);
    the others poll :meth:`get` and try :meth:`claim` again until a bounded wait runs out.
    A claim lapses at ``now + lease``, so a claimer that died blocks nobody for longer.
    """

    def get(self, key: str) -> str | None:
        """The answer kept under ``key``, or None (never asked, or being asked)."""
        ...

    def claim(self, key: str, worker: str, now: datetime, lease: timedelta) -> bool:
        """True if ``worker`` now holds the claim on ``key``: no answer, no live claim."""
        ...

    def put(self, key: str, answer: str, now: datetime) -> None:
        """Keep ``answer`` under ``key`` (ending any claim); a kept answer is never replaced."""
        ...

    def release(self, key: str, worker: str) -> None:
        """Drop ``worker``'s claim on ``key`` without an answer, so another may ask."""
        ...


class ResultCache(Protocol):
    """Results worth keeping across reports and replicas, by a key that hashes their inputs.

    The themes' groupings are kept this way (``analysis.themes``): the same tickets and
    texts give the same key, so a repeated report skips the grouping. The store's answer
    cache plays this role too; it drops entries older than a few days as it puts new ones.
    """

    def get(self, key: str) -> str | None:
        """The result kept under ``key``, or None."""
        ...

    def put(self, key: str, answer: str, now: datetime) -> None:
        """Keep ``answer`` under ``key``; a kept result is never replaced."""
        ...


class ReportBuilder(Protocol):
    """Builds the report of a period: the report use case (``chatbot.service``)."""

    @property
    def week_start(self) -> int:
        """The team's first day of the week, 0 for Monday."""
        ...

    def build_report(self, period: Period, daily_links: Sequence[DailyLink] = ()) -> Report:
        """The report of ``period``, with its trend against the period before."""
        ...


class ReportPoster(Protocol):
    """Posts rendered reports to one platform's channels (Slack, Discord)."""

    platform: str

    def render(self, report: Report) -> str:
        """The message(s) for ``report``, as the JSON text kept on the delivery row."""
        ...

    async def find_posted(self, channel: str, key: str, since: datetime) -> str | None:
        """The id of a message already posted with delivery ``key`` since ``since``, if any."""
        ...

    async def post(self, channel: str, payload: str, key: str) -> str:
        """Post ``payload`` tagged with ``key``; returns the message id.

        Raises:
            DeliveryFailed: with ``permanent`` set for errors a retry cannot fix.
        """
        ...

    async def resume(self, channel: str, payload: str, message_id: str) -> None:
        """Finish a post that :meth:`find_posted` found made: the steps after its message.

        Slack uploads the files its thread does not show yet (the chart); a platform whose
        post is one message does nothing. Never raises: the message is out and stands.
        """
        ...


class DeliveryLog(Protocol):
    """The log that makes scheduled posts exactly once: one row per (schedule, target, fire time).

    Every step after :meth:`claim` succeeds only while ``worker`` still holds the claim and its
    lease has not run out at ``now``; it returns False otherwise, and changes nothing.
    """

    def plan(self, firings: Iterable[tuple[str, str, datetime, Status]], now: datetime) -> int:
        """Add the (schedule, target, fire time, status) rows that are not there yet."""
        ...

    def claim(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        limit: int = 10,
        exclude: Sequence[int] = (),
    ) -> list[Delivery]:
        """Claim up to ``limit`` due rows (pending, or claimed with a lapsed lease)."""
        ...

    def save_payload(self, delivery_id: int, worker: str, now: datetime, payload: str) -> bool:
        """Keep the rendered message on the row, so a retry posts the same thing."""
        ...

    def extend(self, delivery_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
        """Renew the lease before a slow step."""
        ...

    def mark_posted(self, delivery_id: int, worker: str, now: datetime, message_id: str) -> bool:
        """Posted, with the platform's message id."""
        ...

    def retry_later(
        self, delivery_id: int, worker: str, now: datetime, not_before: datetime, error: str
    ) -> bool:
        """A transient failure: back to pending, not to be tried before ``not_before``."""
        ...

    def mark_failed(self, delivery_id: int, worker: str, now: datetime, error: str) -> bool:
        """A permanent failure, with its reason."""
        ...

    def horizon(self, schedule: str) -> datetime | None:
        """The latest fire time of ``schedule`` already planned."""
        ...

    def advance_horizon(self, schedule: str, moment: datetime) -> None:
        """Move the planning horizon of ``schedule`` forward, never back."""
        ...

    def recent(self, limit: int = 50, schedule: str | None = None) -> list[Delivery]:
        """The newest rows first."""
        ...

    def all(self) -> list[Delivery]:
        """Every row, oldest first."""
        ...

    def counts(self) -> dict[str, int]:
        """How many rows have each status."""
        ...


class ChatScheduleStore(Protocol):
    """The schedules made in chats, kept beside the tickets and read by every replica."""

    def add_schedule(self, schedule: ChatSchedule) -> bool:
        """Keep ``schedule``; False (and nothing changed) if its name is taken."""
        ...

    def chat_schedules(self) -> list[ChatSchedule]:
        """Every chat schedule, by name."""
        ...

    def remove_schedule(self, name: str) -> ChatSchedule | None:
        """Delete the schedule called ``name``; the removed one, or None if there was none."""
        ...


class ScheduleBook(Protocol):
    """What the chat front ends do with schedules: create, list, remove (``chatbot.scheduling``).

    Changes are logged with who made them; permissions are the front end's to check.
    """

    def create(
        self, request: ScheduleRequest, *, platform: str, channel: str, by: str
    ) -> ScheduleEntry:
        """Keep a schedule of ``request`` posting to ``channel``, under a name nobody uses."""
        ...

    def listing(self, platform: str, channel: str) -> list[ScheduleEntry]:
        """The schedules posting to ``channel`` (the file's and the chat's), by name."""
        ...

    def remove(self, name: str, *, platform: str, channel: str, by: str) -> ScheduleEntry:
        """Remove the chat schedule ``name`` of ``channel``.

        Raises:
            ScheduleRequestError: no such chat schedule in that channel (the message says why).
        """
        ...
