"""Questions to the bot: one grammar for slash text, mentions and ``chatbot ask``.

A question is one of::

    waiting                        tickets without a first team reply, as of now, oldest first
    explain TICKET [period]        how TICKET's activity level adds up (default last-7-days)
    top labels [period]            the label breakdown, largest first (default last-week)
    themes [period]                the common issues alone (default last-week)
    trend [period]                 the summary figures of the period and the 3 before it
    help                           every question and period form

Anything else is a report request, exactly as :func:`chatbot.core.grammar.parse_request`
(slash text) and :func:`~chatbot.core.grammar.parse_mention` (free words) read it: a plain
period (``last-week``, "report for last week") is a report. With ``free_text``, the
question words may stand anywhere among other words ("what is waiting on us?", "how is the
trend for last month?"); a mention with neither a question nor a period gets help.

The words ``schedule``, ``schedules`` and ``unschedule`` first are reserved for chat
schedules: they parse as :data:`kind` ``schedule`` with the text kept, never as help or a
report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from chatbot.core.errors import QuestionError
from chatbot.core.grammar import (
    Calendar,
    normalize,
    parse_mention,
    parse_period,
    parse_ticket,
    shorten,
)
from chatbot.core.periods import Period
from chatbot.core.schedule_requests import SCHEDULE_WORDS

QuestionKind = Literal[
    "report", "help", "waiting", "explain", "labels", "themes", "trend", "schedule"
]

#: The question forms, as help and error messages show them.
QUESTIONS: tuple[str, ...] = (
    "waiting",
    "explain #123 [period]",
    "top labels [period]",
    "themes [period]",
    "trend [period]",
    "help",
)
#: The period a question uses when it names none.
DEFAULT_PERIOD = "last-week"
#: The period ``explain`` uses when it names none (as ``chatbot explain`` does).
EXPLAIN_PERIOD = "last-7-days"
#: How many periods a trend shows: the one asked for and those just before it.
TREND_PERIODS = 4

_HELP_WORDS = ("", "help", "?", "-h", "--help")
_FILLER = ("for", "in", "of", "over", "during")  # "top labels for last week"
_MENTION_TAG = re.compile(r"<[^>]*>")
_PRIVATE = re.compile(r"\bprivate(ly)?\b")
_EXPLAIN = re.compile(r"\bexplain\b", re.IGNORECASE)
# a ticket in free words: 723, #723, owner/name#723; not a part of a date or a longer word
_TICKET_WORD = re.compile(r"(?<![\w/#.-])((?:[\w.-]+/[\w.-]+)?#?[0-9]+)(?![\w#/-])")
_WAITING = re.compile(
    r"\b(?:waiting|waits?\b(?! for)|unanswered|no (?:first )?(?:team )?(?:reply|replies|answer))"
)
_LABELS = re.compile(r"\blabels?\b")
_THEMES = re.compile(r"\b(?:themes?|common[\s-]issues?)\b")
_TREND = re.compile(r"\btrend(?:s|ing)?\b")
# a mention worded as a sub-command: the question word first
_LEAD = re.compile(r"\s*(?:top[\s-]labels?|labels?|themes?|common[\s-]issues?|trends?)\b")
# the first word or two of a slash question that takes a period
_HEADS: dict[tuple[str, ...], QuestionKind] = {
    **dict.fromkeys((("top", "labels"), ("top", "label"), ("labels",), ("label",)), "labels"),
    **dict.fromkeys(
        (("themes",), ("theme",), ("common-issues",), ("common", "issues"), ("common", "issue")),
        "themes",
    ),
    **dict.fromkeys((("trend",), ("trends",)), "trend"),
}
_POLITE = frozenset(
    (*_FILLER, "please", "pls", "thanks", "thank", "you", "now", "the", "private", "privately")
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Question:
    """What a person asked: its kind, the period and ticket it names, and ``private``.

    ``period`` is set for ``report``, ``explain``, ``labels``, ``themes`` and ``trend``;
    ``ticket`` (as typed: ``723``, ``owner/name#723``) for ``explain``; ``text`` is the
    whole text of a ``schedule`` question, for the schedules' own parser.
    """

    kind: QuestionKind
    period: Period | None = None
    ticket: str | None = None
    private: bool = False
    text: str = ""

    def __post_init__(self) -> None:
        if self.kind in ("report", "explain", "labels", "themes", "trend") and self.period is None:
            raise ValueError(f"a {self.kind} question needs a period")
        if self.kind == "explain" and not self.ticket:
            raise ValueError("an explain question needs a ticket")


def parse_question(text: str, cal: Calendar, *, free_text: bool) -> Question:
    """Read a question (or a report request) from slash text or, with ``free_text``, words.

    Raises:
        PeriodError: the period named is not one the grammar takes.
        TicketReferenceError: ``explain`` names something that is not a ticket.
        QuestionError: a question put wrongly (``explain`` without a ticket, ``waiting``
            with a period).
    """
    if free_text:
        return _from_words(text, cal)
    return _from_command(text, cal)


def _from_command(text: str, cal: Calendar) -> Question:
    words = [w for w in normalize(text).split(" ") if w]
    if words and words[0] in SCHEDULE_WORDS:
        return Question(kind="schedule", text=text.strip())
    private = "private" in words
    rest = [w for w in words if w != "private"]
    head = rest[0] if rest else ""
    if head in _HELP_WORDS:
        return Question(kind="help", private=private)
    if head == "waiting":
        if rest[1:]:
            raise QuestionError(
                text, "'waiting' takes no period: it lists the tickets waiting now", QUESTIONS
            )
        return Question(kind="waiting", private=private)
    if head == "explain":
        typed = [w for w in text.split() if w.lower() != "private"]
        if len(rest) < 2 or len(typed) < 2:
            raise QuestionError(text, "'explain' needs a ticket, e.g. explain #723", QUESTIONS)
        parse_ticket(typed[1])
        period = _period_of(rest[2:], EXPLAIN_PERIOD, cal)
        return Question(kind="explain", period=period, ticket=typed[1], private=private)
    for size in (2, 1):  # "top labels last-week", "trend"
        kind = _HEADS.get(tuple(rest[:size]))
        if kind is not None:
            period = _period_of(rest[size:], DEFAULT_PERIOD, cal)
            return Question(kind=kind, period=period, private=private)
    return Question(kind="report", period=parse_period(" ".join(rest), cal), private=private)


def _period_of(words: list[str], default: str, cal: Calendar) -> Period:
    if words and words[0] in _FILLER:
        words = words[1:]
    return parse_period(" ".join(words) or default, cal)


def _from_words(text: str, cal: Calendar) -> Question:
    raw = _MENTION_TAG.sub(" ", text)
    cleaned = normalize(raw)
    first = cleaned.split(" ", 1)[0]
    if first in SCHEDULE_WORDS:
        return Question(kind="schedule", text=" ".join(raw.split()))
    private = bool(_PRIVATE.search(cleaned))
    explain = _EXPLAIN.search(raw)
    if explain is not None:
        after = raw[explain.end() :]
        ticket = _TICKET_WORD.search(after)
        if ticket is None:
            raise QuestionError(
                shorten(raw), "'explain' needs a ticket, e.g. explain #723", QUESTIONS
            )
        parse_ticket(ticket.group(1))
        words = raw[: explain.start()] + after[: ticket.start()] + " " + after[ticket.end() :]
        period = parse_mention(words, cal).period or parse_period(EXPLAIN_PERIOD, cal)
        return Question(kind="explain", period=period, ticket=ticket.group(1), private=private)
    if _WAITING.search(cleaned):
        return Question(kind="waiting", private=private)
    kind: QuestionKind | None = None
    if _LABELS.search(cleaned):
        kind = "labels"
    elif _THEMES.search(cleaned):
        kind = "themes"
    elif _TREND.search(cleaned):
        kind = "trend"
    found = parse_mention(raw, cal)
    if kind is not None:
        period = found.period or _leftover_period(cleaned, cal) or parse_period(DEFAULT_PERIOD, cal)
        return Question(kind=kind, period=period, private=private)
    if found.period is None:
        return Question(kind="help", private=private)
    return Question(kind="report", period=found.period, private=private)


def _leftover_period(cleaned: str, cal: Calendar) -> Period | None:
    """In words that start with the question ("trend fortnight"), what follows it must be a
    period: parsed strictly, so a wrong one is named; None when nothing but filler follows."""
    lead = _LEAD.match(cleaned)
    if lead is None:
        return None
    rest = [w for w in re.split(r"[^\w.-]+", cleaned[lead.end() :]) if w and w not in _POLITE]
    return parse_period(" ".join(rest), cal) if rest else None
