"""Start from the offline report, let the model rename themes and rewrite recommendations.

Every answer is checked before it is used: valid JSON under the schema, theme indexes that
exist, at most seven recommendations, no two citing the same tickets or saying the same
thing, every cited ticket in the prompt's data (so in the period), and no link, mention or
ticket number that is not in that data. On any failure the offline report is returned, and
its ``analysis_note`` says which result it shows and why.

Answers are cached in-process by (period, content hash): repeated requests for the same
period and the same tickets ask the model once.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

import structlog
from pydantic import ValidationError

from chatbot.core.errors import SupportReportError
from chatbot.core.models import Ticket
from chatbot.core.report import Recommendation, Report, TicketRef
from chatbot.llm.client import ModelClient, ModelError
from chatbot.llm.prompt import Prompt, build_prompt
from chatbot.llm.schema import Answer

log = structlog.get_logger(__name__)

#: How many answers the in-process cache keeps.
CACHE_SIZE = 64
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


class ModelRefiner:
    """The service's ``refine`` hook: the model's analysis, or the offline one and why."""

    def __init__(self, client: ModelClient, *, budget_tokens: int = 6000) -> None:
        self.client = client
        self.budget_tokens = budget_tokens
        self._answers: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}

    def __call__(self, report: Report, text_of: Callable[[TicketRef], Ticket | None]) -> Report:
        """``report`` refined by the model; never raises for a bad or missing answer.

        ``text_of`` gives a cited ticket with its body and comments (None if it is gone).
        """
        model = self.client.config.model
        if not report.themes and not report.recommendations:
            return replace(report, analysis_note="Offline analysis: nothing for the model to add")
        prompt = build_prompt(report, text_of, model=model, budget_tokens=self.budget_tokens)
        period = report.period
        key = (f"{period.start}/{period.end}/{period.tz}", prompt.key)
        try:
            raw = self._answer(key, prompt)
            refined = apply_answer(report, prompt, raw)
        except (ModelError, Rejected) as exc:
            reason = exc.reason
            log.warning("model_answer_unused", model=model, reason=reason)
            with self._guard:
                self._answers.pop(key, None)  # a rejected answer is asked for again next time
            return replace(report, analysis_note=f"Offline analysis: {reason}")
        return replace(
            refined,
            analysis_note=f"Themes and recommendations by the model {model}, checked against "
            "the period's tickets",
        )

    def _answer(self, key: tuple[str, str], prompt: Prompt) -> str:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # concurrent requests for the same period wait for one model call
            with self._guard:
                if key in self._answers:
                    self._answers.move_to_end(key)
                    return self._answers[key]
            raw = self.client.complete(prompt.messages)
            with self._guard:
                self._answers[key] = raw
                while len(self._answers) > CACHE_SIZE:
                    self._answers.popitem(last=False)
                self._locks.pop(key, None)
            return raw
