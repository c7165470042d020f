"""What a recommendation is worth, and which ones to keep: ranked by worth, never by rule.

Every rule of :mod:`chatbot.analysis.recommendations` proposes a :class:`Candidate` with a
worth anyone can check::

    worth = urgency × affected × log2(2 + days)

- ``urgency`` is the rule's weight (:data:`URGENCY`): a ticket nobody has answered matters
  more than one waiting on its reporter;
- ``affected`` counts what the recommendation is about: tickets (or, for the most discussed
  ticket, the people in its discussion), or how far a count grew;
- ``days`` is how long the oldest of them has waited, or how long the slow ones took (0 when
  time is not what the rule is about), so a wait of 2 days doubles the worth, 6 days triples it.

:func:`select` keeps the candidates best first (ties: rule name, then first cited ticket),
and drops repetition: a candidate does not cite again a ticket that a better one cited for
the same kind of reason (:attr:`Candidate.reason`); if more than half of the tickets it is
about were already cited that way, or it would cite exactly the tickets of a better one,
it is dropped. At most :data:`MAX_RECOMMENDATIONS` remain.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from chatbot.core.facts import Key
from chatbot.core.report import Recommendation, TicketRef

MAX_RECOMMENDATIONS = 7
MAX_CITED = 5

#: How much one affected ticket of each rule is worth before the time factor.
URGENCY: dict[str, float] = {
    "unanswered": 3.0,
    "reopened": 2.5,
    "hot": 2.0,
    "theme": 2.0,
    "spike": 1.5,
    "stalled": 1.0,
    "slow": 1.0,
    "backlog": 1.0,
}

#: Why a recommendation cites its tickets: ``attention`` (act on these tickets: answer,
#: prioritise, triage, chase or close them) or ``cause`` (look for what they share).
Reason = Literal["attention", "cause"]

#: Builds the sentence from the tickets it cites and how many more it is about.
Text = Callable[[Sequence[TicketRef], int], str]


def worth(rule: str, affected: float, days: float = 0.0) -> float:
    """``urgency × affected × log2(2 + days)`` (see the module docstring)."""
    return URGENCY[rule] * affected * math.log2(2 + max(days, 0.0))


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    """A recommendation a rule would make, before ranking and de-duplication.

    ``pool`` holds the keys of every ticket it is about, in the order it would cite them;
    it cites the first :data:`MAX_CITED` of those not already cited for the same
    ``reason``. Only the cited ones are ever read in full.
    """

    rule: str
    reason: Reason
    score: float
    pool: tuple[Key, ...]
    text: Text

    def __post_init__(self) -> None:
        if self.rule not in URGENCY:
            raise ValueError(f"unknown rule {self.rule!r}")


def select(
    candidates: Sequence[Candidate],
    refs: Callable[[Sequence[Key]], Mapping[Key, TicketRef]],
    limit: int = MAX_RECOMMENDATIONS,
) -> list[Recommendation]:
    """The best ``limit`` candidates as recommendations, best first, without repetition.

    ``refs`` reads the citations of the chosen tickets, once for all of them.
    """
    ordered = sorted(
        (c for c in candidates if c.pool and c.score > 0),
        key=lambda c: (-c.score, c.rule, c.pool[0]),
    )
    cited: dict[Reason, set[Key]] = {"attention": set(), "cause": set()}
    cited_sets: set[frozenset[Key]] = set()
    chosen: list[tuple[Candidate, list[Key], int]] = []
    for candidate in ordered:
        if len(chosen) >= limit:
            break
        seen = cited[candidate.reason]
        fresh = [key for key in candidate.pool if key not in seen]
        if not fresh or len(fresh) * 2 < len(candidate.pool):
            continue  # mostly said already, for the same kind of reason
        shown = fresh[:MAX_CITED]
        keys = frozenset(shown)
        if keys in cited_sets:
            continue
        cited_sets.add(keys)
        seen.update(keys)
        chosen.append((candidate, shown, len(fresh) - len(shown)))
    found = refs([key for _, shown, _ in chosen for key in shown])
    out = []
    for candidate, shown, more in chosen:
        cites = tuple(found[key] for key in shown)
        out.append(Recommendation(text=candidate.text(cites, more), tickets=cites))
    return out
