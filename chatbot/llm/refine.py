"""Start from the offline report, let the model rename themes and rewrite recommendations.

Every answer is checked before it is used: valid JSON under the schema, theme indexes that
exist, at most seven recommendations, no two citing the same tickets or saying the same
thing, every cited ticket in the prompt's data (so in the period), and no link, mention or
ticket number that is not in that data. On any failure the offline report is returned, and
its ``analysis_note`` says which result it shows and why.

Checked answers are cached by (model, period, prompt content hash) in the store's
:class:`~chatbot.core.ports.AnswerCache`, shared by every replica, with a small in-process
LRU in front of it: repeated requests for the same period over the same tickets ask the
model once, on any replica. Concurrent askers of one key wait for a single call:

- in one process, a lock per key lets one thread go on; the others then read its answer;
- across processes, the asker first ``claim``s the key (a lease of the model's whole
  timeout plus :data:`LEASE_MARGIN`); the others poll ``get`` every :data:`POLL` seconds
  and try to claim again. A claimer that fails releases its claim, so the next one asks;
  one that died stops blocking when its lease runs out, and a waiter takes over. A waiter
  that sees no answer and no free claim within the lease (plus two polls) gives up and
  shows the offline analysis, saying another replica is still asking the model.

So one report waits for the model at most ``timeout`` when it asks, and at most the lease
plus ``timeout`` when it waits for another replica first. Rejected answers are never kept.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from pydantic import ValidationError

from chatbot.core.errors import SupportReportError
from chatbot.core.models import Ticket
from chatbot.core.periods import utc_now
from chatbot.core.ports import AnswerCache
from chatbot.core.report import Recommendation, Report, TicketRef
from chatbot.lazylog import get_logger
from chatbot.llm.cache import MemoryAnswerCache
from chatbot.llm.client import ModelClient, ModelError
from chatbot.llm.prompt import Prompt, build_prompt
from chatbot.llm.schema import Answer

log = get_logger(__name__)

#: How many answers the in-process cache keeps.
CACHE_SIZE = 64
#: A claim outlives the model's timeout by this much, in seconds (store round trips).
LEASE_MARGIN = 5.0
#: How often a waiter looks for another replica's answer, in seconds.
POLL = 0.2
STILL_ASKING = "another replica is still asking the model"
_URL = re.compile(r"(?:https?://|www\.)[^\s)>\]]+", re.I)
_MENTION = re.compile(r"(?<![\w/.])@\w|<[@!#]")
_NUMBER = re.compile(r"(?:([\w.-]+/[\w.-]+))?#(\d+)")


class Rejected(SupportReportError, ValueError):
    """A model answer that cannot be used; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w#/]+", " ", text.lower()).split())


def _check_text(text: str, prompt: Prompt) -> None:
    """Links and ``#numbers`` must be in the data sent (a ticket's URL, or its own text)."""
    urls = {ref.url for ref in prompt.allowed.values()}
    for url in _URL.findall(text):
        url = url.rstrip(".,;:!?'\"")
        if url not in urls and url not in prompt.data:
            raise Rejected("the model added a link that is not in the data")
    if _MENTION.search(text):
        raise Rejected("the model added a mention")
    numbers = {ref.number for ref in prompt.allowed.values()}
    for repo, number in _NUMBER.findall(text):
        if repo and f"{repo}#{number}" not in prompt.allowed:
            raise Rejected("the model named a ticket number that is not in the period")
        if not repo and int(number) not in numbers and f"#{number}" not in prompt.data:
            raise Rejected("the model named a ticket number that is not in the period")


def apply_answer(report: Report, prompt: Prompt, raw: str) -> Report:
    """``report`` with the model's themes and recommendations; raises :class:`Rejected`."""
    try:
        answer = Answer.model_validate_json(raw)
    except ValidationError:
        raise Rejected("the model's answer was not JSON under the schema") from None
    themes = list(report.themes)
    seen_index: set[int] = set()
    for item in answer.themes:
        if item.index >= len(themes) or item.index in seen_index:
            raise Rejected("the model named a theme that does not exist")
        seen_index.add(item.index)
        _check_text(item.title, prompt)
        _check_text(item.summary, prompt)
        if themes[item.index].other:
            continue  # "Other" is the rest of the tickets, not a topic to name
        themes[item.index] = replace(
            themes[item.index], title=item.title.strip(), summary=item.summary.strip()
        )
    recommendations: list[Recommendation] = []
    cited_sets: set[frozenset[str]] = set()
    texts: set[str] = set()
    for rec in answer.recommendations if report.recommendations else ():
        refs: list[TicketRef] = []
        for reference in dict.fromkeys(rec.tickets):
            if reference not in prompt.allowed:
                raise Rejected("the model cited a ticket that is not in the period")
            refs.append(prompt.allowed[reference])
        _check_text(rec.text, prompt)
        key = frozenset(r.reference for r in refs)
        if key in cited_sets or _normal(rec.text) in texts:
            raise Rejected("the model repeated a recommendation")
        cited_sets.add(key)
        texts.add(_normal(rec.text))
        recommendations.append(Recommendation(text=rec.text.strip(), tickets=tuple(refs)))
    return replace(report, themes=tuple(themes), recommendations=tuple(recommendations))


def answer_key(model: str, report: Report, prompt: Prompt) -> str:
    """The cache key of an answer: the model, the period and the prompt's content hash."""
    period = report.period
    return f"{model}|{period.start}/{period.end}/{period.tz}|{prompt.key}"


def _worker_name() -> str:
    """Who holds a claim: host, process and a random part (two refiners of one process)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class ModelRefiner:
    """The service's ``refine`` hook: the model's analysis, or the offline one and why.

    ``cache`` is where checked answers are kept and claimed (the store's, shared by every
    replica; without one, this process's memory). ``wait`` bounds how long a report waits
    for another replica's answer; by default the lease plus two polls, so a dead claimer's
    key is taken over before a waiter gives up.
    """

    def __init__(
        self,
        client: ModelClient,
        *,
        cache: AnswerCache | None = None,
        budget_tokens: int = 6000,
        clock: Callable[[], datetime] = utc_now,
        wait: float | None = None,
    ) -> None:
        self.client = client
        self.cache: AnswerCache = cache if cache is not None else MemoryAnswerCache()
        self.budget_tokens = budget_tokens
        self.clock = clock
        self.lease = timedelta(seconds=client.config.timeout + LEASE_MARGIN)
        self.wait = self.lease.total_seconds() + 2 * POLL if wait is None else wait
        self.worker = _worker_name()
        self._answers: OrderedDict[str, str] = OrderedDict()
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def __call__(self, report: Report, text_of: Callable[[TicketRef], Ticket | None]) -> Report:
        """``report`` refined by the model; never raises for a bad or missing answer.

        ``text_of`` gives a cited ticket with its body and comments (None if it is gone).
        """
        model = self.client.config.model
        if not report.themes and not report.recommendations:
            return replace(report, analysis_note="Offline analysis: nothing for the model to add")
        prompt = build_prompt(report, text_of, model=model, budget_tokens=self.budget_tokens)
        try:
            refined = self._refined(answer_key(model, report, prompt), report, prompt)
        except (ModelError, Rejected) as exc:
            reason = exc.reason
            log.warning("model_answer_unused", model=model, reason=reason)
            return replace(report, analysis_note=f"Offline analysis: {reason}")
        return replace(
            refined,
            analysis_note=f"Themes and recommendations by the model {model}, checked against "
            "the period's tickets",
        )

    def _refined(self, key: str, report: Report, prompt: Prompt) -> Report:
        """``report`` with the answer for ``key``: remembered, kept by a replica, or asked."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # concurrent requests of this process for the same key wait for one
            with self._guard:
                raw = self._answers.get(key)
                if raw is not None:
                    self._answers.move_to_end(key)
            if raw is None:
                raw, asked = self._shared_answer(key, prompt)
                try:
                    refined = apply_answer(report, prompt, raw)
                except Rejected:
                    if asked:
                        self.cache.release(key, self.worker)  # a rejected answer is not kept
                    raise
                if asked:
                    self.cache.put(key, raw, self.clock())
                with self._guard:
                    self._answers[key] = raw
                    while len(self._answers) > CACHE_SIZE:
                        self._answers.popitem(last=False)
                    self._locks.pop(key, None)
                return refined
        return apply_answer(report, prompt, raw)

    def _shared_answer(self, key: str, prompt: Prompt) -> tuple[str, bool]:
        """The answer another replica kept, or one asked under this refiner's claim.

        Returns the answer and whether it was asked here (so it still has to be kept).
        """
        give_up = time.monotonic() + self.wait
        while True:
            raw = self.cache.get(key)
            if raw is not None:
                return raw, False
            if self.cache.claim(key, self.worker, self.clock(), self.lease):
                try:
                    return self.client.complete(prompt.messages), True
                except Exception:
                    self.cache.release(key, self.worker)
                    raise
            if time.monotonic() >= give_up:
                raise ModelError(STILL_ASKING)
            time.sleep(min(POLL, max(0.0, give_up - time.monotonic())))
