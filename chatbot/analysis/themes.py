"""Common issues, offline: the period's tickets grouped by what their text is about.

Each ticket's title, body and comments, with template and markup taken out
(:mod:`chatbot.analysis.ticket_text`), become a TF-IDF vector (sublinear term frequency,
words and word pairs, English and support stop words); non-negative matrix factorization
(NMF, NNDSVD start: no random start, so the same data always gives the same themes)
finds a few topics, and each ticket joins the topic it weighs most in, provided its text
holds one of that topic's leading terms. Topics of fewer than :data:`MIN_THEME` tickets, and
those beyond ``limit``, fold into a final "Other" theme, so every ticket of the period is in
exactly one theme. A period too small for that, or where nothing is shared, has no themes.

Both steps are near-linear in the number of tickets (sparse matrices, a fixed number of
topics and iterations), and the text of each ticket is bounded. The number is bounded too:
beyond :data:`THEME_SAMPLE` tickets, the themes are grouped from :func:`theme_sample` (the
most active and an even sample of the rest) and their counts estimated, and at most
:data:`PREVIOUS_SAMPLE` of the previous period's are placed, so any period's themes cost
about what 1,200 tickets against 2,000 do (``benchmarks/themes.py``; cleaning the text is
about a third of it). Labels are never read: workflow and bot labels
(status, triage, ``ml-*``) cannot name a theme. The TF-IDF (:mod:`chatbot.analysis.tfidf`)
and the NMF (:mod:`chatbot.analysis.nmf`) are scikit-learn's, redone on numpy, which is
imported only when a report groups tickets, so importing the package stays cheap.

Given a :class:`~chatbot.core.ports.ResultCache` (the store's answer table), the grouping
(each topic's members and name terms, and where the previous tickets fall) is kept under a
hash of everything it read: the tickets' keys, titles and texts, and the settings above. The
same report again, on any replica, reads it back instead of grouping, and numpy is never
imported; a changed ticket text gives a new key, so a kept grouping is never stale.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeVar

from chatbot.analysis.scoring import ticket_ref
from chatbot.analysis.ticket_text import TEXT_CHARS, Key, TextsOf, clean_texts, raw_texts
from chatbot.core.models import Ticket
from chatbot.core.periods import Period, utc_now
from chatbot.core.ports import ResultCache
from chatbot.core.report import Theme

if TYPE_CHECKING:
    from chatbot.analysis.nmf import Factors
    from chatbot.analysis.tfidf import SparseRows, TfIdf

MIN_TICKETS = 6
"""Fewer tickets than this in a period: no common theme can honestly be told apart."""
MIN_THEME = 3
"""A theme groups at least this many tickets."""
MAX_CITED = 10
MAX_TOPICS = 12
TICKETS_PER_TOPIC = 8
"""One topic per this many tickets, up to :data:`MAX_TOPICS`, at least two."""
LEADING_TERMS = 8
"""A ticket joins a topic only if its text holds one of the topic's leading terms."""
NAME_TERMS = 3
NAME_SHARE = 0.15
"""A term names a theme only if at least this share of its tickets use it."""
MAX_FEATURES = 6000
MAX_ITER = 50
THEME_SAMPLE = 1200
"""At most this many of a period's tickets are grouped (:func:`theme_sample`): beyond it,
the counts are estimates, and a year's themes cost what this many tickets' do."""
THEME_HEAD = 200
"""... of which the period's most active, always grouped, so the themes cite them."""
PREVIOUS_SAMPLE = 2000
"""At most this many of the previous period's tickets are placed in the themes: beyond it,
an even sample (every k-th by ticket key) is placed and each theme's count scaled up, and
the theme says its previous count is an estimate."""
SUPPORT_WORDS = frozenset(
    """
    able actual actually add added adding afterwards allow already also anymore app application
    attached behavior behaviour browser bug bugs case cause causes com comment comments correctly
    currently describe description details doesn does don error errors example expected fail
    failed fails failing feature fine fix fixed following get gets getting going good happen
    happened happening happens hello help hi http https info information instead is issue
    issues just know let like look looks make makes need needed new note ok okay open opening
    option options os page please possible problem problems properly provide reported
    reproduce reproduced reproducible request result right said say screenshot screenshots
    see seems set shown show shows showing site steps sure thank thanks thing things think
    trying try tried update updated use used user users using version want way work worked
    working works wrong www yes
    """.split()  # noqa: SIM905
)
_ERROR_TERM = re.compile(r"\w{3,}(error|exception)\b")
_PLURAL = re.compile(r"(?:(?<=[sxz])|(?<=ch)|(?<=sh))es$|(?<!s)s$")
_WORD_PATTERN = r"(?u)\b[^\W\d_][\w]+\b"
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Topic:
    """One topic of the fitted model: its member tickets and its name terms."""

    index: int
    members: list[Ticket]
    terms: tuple[str, ...]


def theme_sample(order: Sequence[Key], size: int = THEME_SAMPLE) -> list[Key]:
    """The keys of the period's tickets to group: all of ``order`` if it holds ``size`` or fewer.

    Beyond that, the :data:`THEME_HEAD` most active (``order`` lists them first), which the
    themes cite, and an even sample of the rest, every k-th by key: ``size`` keys in all at
    most, so grouping a year costs what grouping :data:`THEME_SAMPLE` tickets does.
    :func:`find_themes` given the sample's tickets and the whole ``order`` scales its counts.
    """
    if len(order) <= size:
        return list(order)
    if size <= THEME_HEAD:
        raise ValueError(f"a theme sample of {size} keys leaves no room past the head")
    return [*order[:THEME_HEAD], *_every_kth(sorted(order[THEME_HEAD:]), size - THEME_HEAD)]


def previous_sample(keys: Sequence[Key], size: int = PREVIOUS_SAMPLE) -> list[Key]:
    """The previous period's keys to place in the themes: all, or every k-th by key beyond ``size``.

    ``find_themes(..., previous=tickets of these, previous_total=len(keys))`` scales them up.
    """
    return _every_kth(sorted(keys), size)


def _every_kth(items: Sequence[_T], size: int) -> list[_T]:
    """At most ``size`` of ``items``, evenly spread: every k-th from the first."""
    return list(items[:: -(-len(items) // size)]) if items else []


def find_themes(
    tickets: Sequence[Ticket],
    period: Period,
    order: Sequence[Key],
    limit: int = 6,
    *,
    texts: TextsOf | None = None,
    previous: Sequence[Ticket] | None = None,
    previous_total: int | None = None,
    cache: ResultCache | None = None,
    now: datetime | None = None,
) -> list[Theme]:
    """Group the period's ``tickets`` into at most ``limit`` themes plus "Other", largest first.

    ``order`` lists the period's ticket keys most active first; it orders the tickets each
    theme cites. When ``tickets`` are fewer than ``order`` (:func:`theme_sample`), the
    counts are estimates: the :data:`THEME_HEAD` most active weigh one ticket, each other
    one stands for an equal share of the rest, and the themes say ``estimated``.
    ``texts`` reads the body and comment bodies of the tickets grouped or placed, and of
    no others (without it, what the tickets carry). ``previous``, the previous period's
    tickets (or :func:`previous_sample` of them, with ``previous_total`` the number they
    stand for), are placed in the fitted themes to fill each theme's ``previous`` count
    (None when not given). With a ``cache``, the grouping (which tickets form which topic,
    and where the previous ones fall) is kept under a hash of what it read, put at ``now``:
    the same tickets and texts again skip the TF-IDF and NMF, and give the same themes.
    """
    tickets = sorted(tickets, key=_key)  # the input order never matters
    if len(tickets) < MIN_TICKETS:
        return []
    past = sorted(previous or (), key=_key)
    keys = {t.key for t in tickets}
    sample = _every_kth(past, PREVIOUS_SAMPLE)
    docs = [*tickets, *(t for t in sample if t.key not in keys)]
    given = raw_texts(docs) if texts is None else texts([t.key for t in docs])
    weigh = _Weights.of(tickets, order)
    grouping = _grouping(
        tickets, sample, docs, given, weigh.period_total, previous is not None, cache, now
    )
    by_key = {t.key: t for t in tickets}
    topics = [
        _Topic(index=index, members=[by_key[k] for k in members], terms=terms)
        for index, members, terms in grouping.topics
    ]
    kept = sorted(topics, key=lambda tp: (-weigh.total(tp.members), tp.terms))[:limit]
    if not kept:
        return []
    past_counts = None if grouping.placed is None else Counter(grouping.placed)
    scale = 1.0
    if past:
        scale = (len(past) if previous_total is None else previous_total) / len(sample)
    grouped = {t.key for tp in kept for t in tp.members}
    rest = [t for t in tickets if t.key not in grouped]
    groups = [tp.members for tp in kept] + ([rest] if rest else [])
    counts = _apportion([weigh.total(g) for g in groups], weigh.period_total)
    rank = {key: i for i, key in enumerate(order)}
    themes = [
        _theme(
            tp.members,
            _tallied(tp.members, counts[i], period, weigh),
            rank,
            tp.terms,
            None if past_counts is None else round(past_counts[tp.index] * scale),
            previous_estimated=scale > 1,
        )
        for i, tp in enumerate(kept)
    ]
    if rest:
        themes.append(_other(rest, _tallied(rest, counts[-1], period, weigh), rank))
    return themes


@dataclass(frozen=True, slots=True)
class _Grouping:
    """What the fitted model says: each topic's index, member keys and name terms, and how
    many of the previous sample fall in each topic (None when no previous was given)."""

    topics: list[tuple[int, list[Key], tuple[str, ...]]]
    placed: dict[int, int] | None

    def dumps(self) -> str:
        topics = [[i, [list(k) for k in members], list(terms)] for i, members, terms in self.topics]
        placed = None if self.placed is None else sorted(self.placed.items())
        return json.dumps({"topics": topics, "placed": placed}, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> _Grouping | None:
        """The grouping ``text`` holds; None if it is not one (an older format)."""
        try:
            data = json.loads(text)
            topics = [
                (int(i), [(str(r), int(n)) for r, n in members], tuple(map(str, terms)))
                for i, members, terms in data["topics"]
            ]
            placed = data["placed"]
            counts = None if placed is None else {int(i): int(n) for i, n in placed}
        except (ValueError, TypeError, KeyError):
            return None
        return cls(topics=topics, placed=counts)


def _grouping(
    tickets: Sequence[Ticket],
    sample: Sequence[Ticket],
    docs: Sequence[Ticket],
    given: Mapping[Key, str],
    n: int,
    placing: bool,
    cache: ResultCache | None,
    now: datetime | None,
) -> _Grouping:
    """The grouping of ``tickets`` (``n`` tickets in the period), kept in ``cache`` if given."""
    if cache is None:
        return _group(tickets, sample, docs, given, n, placing)
    key = _grouping_key(tickets, sample, docs, given, n, placing)
    kept = cache.get(key)
    grouping = None if kept is None else _Grouping.loads(kept)
    members = {t.key for t in tickets}
    if grouping is None or any(k not in members for _, ks, _ in grouping.topics for k in ks):
        grouping = _group(tickets, sample, docs, given, n, placing)
        cache.put(key, grouping.dumps(), utc_now() if now is None else now)
    return grouping


GROUPING_VERSION = 1
"""Part of each cached grouping's key: raise it when the grouping's code changes."""


def _grouping_key(
    tickets: Sequence[Ticket],
    sample: Sequence[Ticket],
    docs: Sequence[Ticket],
    given: Mapping[Key, str],
    n: int,
    placing: bool,
) -> str:
    """A hash of everything the grouping reads: its keys, titles and texts, and settings."""
    settings = (
        GROUPING_VERSION, MIN_THEME, MAX_TOPICS, TICKETS_PER_TOPIC, LEADING_TERMS, NAME_TERMS,
        NAME_SHARE, MAX_FEATURES, MAX_ITER, TEXT_CHARS, n, placing, len(tickets),
    )  # fmt: skip
    digest = hashlib.blake2b(repr(settings).encode(), digest_size=32)
    digest.update(repr([t.key for t in sample]).encode())
    for t in docs:
        text = given.get(t.key, "")
        # lengths first: no two different inputs run together into the same bytes
        digest.update(f"\0{t.repo}\0{t.number}\0{len(t.title)}\0{len(text)}\0".encode())
        digest.update(t.title.encode("utf-8", "surrogatepass"))
        digest.update(text.encode("utf-8", "surrogatepass"))
    return f"themes:{digest.hexdigest()}"


def _group(
    tickets: Sequence[Ticket],
    sample: Sequence[Ticket],
    docs: Sequence[Ticket],
    given: Mapping[Key, str],
    n: int,
    placing: bool,
) -> _Grouping:
    """TF-IDF and NMF over the tickets' cleaned texts: the topics, and the sample placed."""
    cleaned = clean_texts(docs, given)
    fitted = _fit([cleaned[t.key] for t in tickets], n)
    if fitted is None:
        return _Grouping(topics=[], placed=None if not placing else {})
    vectorizer, matrix, factors = fitted
    leading = _leading(factors.components, LEADING_TERMS)
    assigned = _assign(matrix, factors.weights, leading)
    topics = _topics(tickets, assigned, factors.components, vectorizer.terms, cleaned)
    placed: dict[int, int] | None = None if not placing else {}
    if sample and topics:
        from chatbot.analysis.nmf import place

        past_matrix = vectorizer.transform([cleaned[t.key] for t in sample])
        with _one_thread():
            past_weights = place(past_matrix, factors.components, MAX_ITER)
        placed = dict(Counter(int(i) for i in _assign(past_matrix, past_weights, leading)))
    return _Grouping(
        topics=[(tp.index, [t.key for t in tp.members], tp.terms) for tp in topics],
        placed=placed,
    )


def _key(ticket: Ticket) -> Key:
    return ticket.key


@dataclass(frozen=True, slots=True)
class _Weights:
    """How many of the period's tickets each grouped ticket stands for.

    All one when the tickets are the whole period. For a :func:`theme_sample`, the head
    (the most active, all taken) weigh one and the others share the rest of the period.
    """

    head: frozenset[Key]
    other: float
    period_total: int
    estimated: bool

    @classmethod
    def of(cls, tickets: Sequence[Ticket], order: Sequence[Key]) -> _Weights:
        if len(order) <= len(tickets):
            return cls(head=frozenset(), other=1.0, period_total=len(tickets), estimated=False)
        head = frozenset(order[:THEME_HEAD]).intersection(t.key for t in tickets)
        sampled = len(tickets) - len(head)
        other = (len(order) - len(head)) / sampled if sampled else 1.0
        return cls(head=head, other=other, period_total=len(order), estimated=True)

    def of_ticket(self, ticket: Ticket) -> float:
        return 1.0 if ticket.key in self.head else self.other

    def total(self, group: Sequence[Ticket]) -> float:
        return sum(map(self.of_ticket, group))


def _apportion(shares: Sequence[float], total: int) -> list[int]:
    """``shares`` rounded so that they add up to ``total`` (largest remainders first).

    Exact counts pass unchanged; estimated ones still add up to the period's tickets.
    """
    floors = [int(s) for s in shares]
    left = total - sum(floors)
    by_remainder = sorted(range(len(shares)), key=lambda i: (floors[i] - shares[i], i))
    for i in by_remainder[: max(0, left)]:
        floors[i] += 1
    return floors


@dataclass(frozen=True, slots=True)
class _Tally:
    """A group's counts for its theme: exact, or estimated from a sample."""

    count: int
    opened: int
    still_open: int
    estimated: bool


def _tallied(group: Sequence[Ticket], count: int, period: Period, weigh: _Weights) -> _Tally:
    """``group``'s counts, ``count`` (apportioned) among them: the others in proportion."""
    share = weigh.total(group)
    opened = sum(weigh.of_ticket(t) for t in group if period.contains(t.created_at))
    still_open = sum(weigh.of_ticket(t) for t in group if t.is_open_at(period.end_at))
    return _Tally(
        count=count,
        opened=round(opened * count / share),  # all opened: exactly ``count``
        still_open=round(still_open * count / share),
        estimated=weigh.estimated,
    )


def _fit(docs: list[str], n: int) -> tuple[TfIdf, SparseRows, Factors] | None:
    """TF-IDF and NMF fitted on ``docs``; None when they share no term at all."""
    from chatbot.analysis.nmf import factorize
    from chatbot.analysis.tfidf import ENGLISH_STOP_WORDS, TfIdf

    fitted = TfIdf.fit(
        docs,
        token_pattern=_WORD_PATTERN,
        stop_words=ENGLISH_STOP_WORDS | SUPPORT_WORDS,
        min_df=2,
        max_df=0.7,
        max_features=MAX_FEATURES,
    )
    if fitted is None or len(fitted[0].terms) < 2:
        return None  # nothing left: every term too rare or too common
    vectorizer, matrix = fitted
    topics = max(2, min(MAX_TOPICS, n // TICKETS_PER_TOPIC, len(vectorizer.terms)))
    with _one_thread():
        factors = factorize(matrix, topics, MAX_ITER)
    return vectorizer, matrix, factors


@contextmanager
def _one_thread() -> Iterator[None]:
    """The factorization's BLAS calls on one thread.

    Its matrices are small (a QR of 22 columns): one BLAS thread does them in a fifth of
    the time two take on a busy machine, and leaves the other core to the rest of the
    service.
    """
    with _threads().limit(limits=1, user_api="blas"):
        yield


@cache
def _threads() -> Any:
    """The thread pools of the loaded BLAS, found once."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _leading(components: Any, count: int) -> Any:
    """For each topic, the indexes of its ``count`` heaviest terms (ties by term index)."""
    import numpy as np

    return np.argsort(-components, axis=1, kind="stable")[:, :count]


def _assign(matrix: SparseRows, weights: Any, leading: Any) -> Any:
    """Each document's topic: the one it weighs most in, or -1 (none: "Other").

    A document joins its topic only if it holds one of the topic's leading terms, so a
    ticket that merely leans on a topic's rarer words does not pad it.
    """
    import numpy as np

    topics, count = leading.shape
    marks = np.zeros((matrix.shape[1], topics), dtype=np.float32)
    marks[leading.ravel(), np.repeat(np.arange(topics), count)] = 1
    held = matrix.dot(marks)  # documents x topics: weight of leading terms held
    rows = np.arange(weights.shape[0])
    best = np.argmax(weights, axis=1)
    keep = (weights[rows, best] > 0) & (held[rows, best] > 0)
    return np.where(keep, best, -1)


def _topics(
    tickets: Sequence[Ticket],
    assigned: Any,
    components: Any,
    vocabulary: Any,
    cleaned: Mapping[Key, str],
) -> list[_Topic]:
    """The topics with at least :data:`MIN_THEME` members, each with its name terms."""
    members: dict[int, list[Ticket]] = {}
    for ticket, topic in zip(tickets, assigned, strict=True):
        if topic >= 0:
            members.setdefault(int(topic), []).append(ticket)
    out = []
    for index, group in sorted(members.items()):
        if len(group) < MIN_THEME:
            continue
        ranked = [str(vocabulary[i]) for i in _leading(components[index : index + 1], 12)[0]]
        terms = _name_terms(ranked, [cleaned[t.key] for t in group[:200]])
        if terms:
            out.append(_Topic(index=index, members=group, terms=terms))
    return out


def _name_terms(ranked: Sequence[str], texts: Sequence[str]) -> tuple[str, ...]:
    """Up to :data:`NAME_TERMS` distinct terms, heaviest first, as the tickets spell them.

    Error names come first. A term must occur in a good share of the theme's tickets (a
    topic's weights can lean on a word few of its tickets use). A word pair replaces its
    word ("results grid" rather than "grid"); a term that repeats a word already shown
    adds nothing ("field initialized", then not "initialized startup").
    """
    chosen: list[str] = []
    needed = max(2.0, NAME_SHARE * len(texts))
    held = _Texts(texts)
    # an error's name says the symptom best: ``LateInitializationError`` before "crash"
    for term in sorted(ranked, key=lambda term: not _ERROR_TERM.search(term)):
        words = _stems(term)
        if any(words & _stems(c) for c in chosen if not _stems(c) < words):
            continue  # repeats a word already shown
        if _documents_with(term, held) < needed:
            continue
        chosen = [c for c in chosen if not _stems(c) < words]  # the pair replaces its word
        chosen.append(term)
        if len(chosen) == NAME_TERMS:
            break
    return tuple(" ".join(_spelled(word, held) for word in term.split()) for term in chosen)


class _Texts(list[str]):
    """A theme's texts, with their lower-case forms to look words up in before a regex does."""

    def __init__(self, texts: Sequence[str]) -> None:
        super().__init__(texts)
        self.lower = [text.lower() for text in texts]

    def holding(self, words: Sequence[str]) -> Iterator[tuple[str, str]]:
        """Each text, with its lower case, in which all ``words`` (lower case) occur.

        Maybe only inside longer words: the regex that follows tells.
        """
        for text, lower in zip(self, self.lower, strict=True):
            if all(word in lower for word in words):
                yield text, lower


def _documents_with(term: str, texts: _Texts) -> int:
    """How many of ``texts`` hold ``term`` (its words in a row, any case)."""
    # words in a row on one line: a pair made across lines by the tokenizer names nothing
    words = term.split()  # the vocabulary's terms are lower case
    pattern = re.compile(r"\b" + r"[^\w\n]+".join(map(re.escape, words)) + r"\b")
    return sum(1 for _, lower in texts.holding(words) if pattern.search(lower))


def _stems(term: str) -> set[str]:
    """The words of ``term`` without a plural ending: "notebooks" repeats "notebook"."""
    return {_PLURAL.sub("", w) if len(w) > 3 else w for w in term.split()}


def _spelled(word: str, texts: _Texts) -> str:
    """``word`` as the tickets most often write it (``LateInitializationError``, ``AD``).

    Lower case unless most writings carry capitals after the first letter; a word merely
    capitalized at the start of a sentence stays lower case.
    """
    pattern = re.compile(rf"\b{re.escape(word)}\b", re.I)
    forms = Counter(chain.from_iterable(pattern.findall(text) for text, _ in texts.holding([word])))
    if not forms:
        return word
    form, _ = min(forms.items(), key=lambda item: (-item[1], item[0]))
    return form if form[1:] != form[1:].lower() else word


def _cited(group: Sequence[Ticket], rank: Mapping[Key, int]) -> tuple[Any, ...]:
    ordered = sorted(group, key=lambda t: (rank.get(t.key, len(rank)), t.key))
    return tuple(ticket_ref(t) for t in ordered[:MAX_CITED])


def _join(terms: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return terms[0] if len(terms) == 1 else ", ".join(terms[:-1]) + " and " + terms[-1]


def _about(n: int, estimated: bool) -> str:
    return f"about {n}" if estimated else str(n)


def _tally(tally: _Tally) -> str:
    opened, still_open = (_about(n, tally.estimated) for n in (tally.opened, tally.still_open))
    return f"{opened} opened this period, {still_open} still open"


def _theme(
    group: Sequence[Ticket],
    tally: _Tally,
    rank: Mapping[Key, int],
    terms: tuple[str, ...],
    previous: int | None,
    *,
    previous_estimated: bool = False,
) -> Theme:
    name = _join(terms[:2])
    count = _about(tally.count, tally.estimated)
    return Theme(
        title=name[:1].upper() + name[1:],
        summary=f"{count[:1].upper()}{count[1:]} tickets report {_join(terms)} issues;"
        f" {_tally(tally)}.",
        tickets=_cited(group, rank),
        count=tally.count,
        opened=tally.opened,
        still_open=tally.still_open,
        estimated=tally.estimated,
        previous=previous,
        previous_estimated=previous_estimated and previous is not None,
        terms=terms,
    )


def _other(group: Sequence[Ticket], tally: _Tally, rank: Mapping[Key, int]) -> Theme:
    noun = "ticket shares" if tally.count == 1 else "tickets share"
    count = _about(tally.count, tally.estimated)
    return Theme(
        title="Other",
        summary=f"{count[:1].upper()}{count[1:]} {noun} no common theme; {_tally(tally)}.",
        tickets=_cited(group, rank),
        count=tally.count,
        opened=tally.opened,
        still_open=tally.still_open,
        estimated=tally.estimated,
        other=True,
    )
