"""Common issues, offline: tickets grouped by a shared topical label or title word.

A greedy cover: among the tickets active in the period, take the label or title word that
the most not-yet-grouped tickets share (at least two), make it a theme, and repeat, up to
``limit`` themes. Labels that only describe workflow (status, triage, priority, ...) and
labels carried by most tickets of the period (``bug`` on a bug tracker) say nothing about
the topic and are skipped, as are common English and support words in titles.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from chatbot.analysis.scoring import ticket_ref
from chatbot.core.models import Ticket
from chatbot.core.periods import Period
from chatbot.core.report import Theme

WORKFLOW_LABEL = re.compile(
    r"^(status|triage|pri|priority|severity|sev|needs|stale|resolution|approved|type|kind|"
    r"won'?t ?fix|wontfix|duplicate|invalid|user-filed|good first issue|help wanted|"
    r"bug|enhancement|feature|feature request|question)\b",
    re.IGNORECASE,
)
STOPWORDS = frozenset(
    """
    a about after again all also an and any are as at be been before being but by can
    cannot could did does doesn't doing don't down each even for from get gets getting
    had has have how i if in into is isn't it its it's just like make makes more most
    my new no not of on once only or other our out over same see should so some still
    than that the their them then there these they this those through to too under
    unable until up use used using via was wasn't we were what when where which while
    who why will with without won't would you your
    add added adding allow bug bugs can't error errors fail failed fails failing feature
    fix issue issues problem problems request support work works working broken show
    shows showing option options able instead site page wrong incorrect correctly
    properly causes cause does display displayed displays missing open opening
    """.split()  # noqa: SIM905
)
MIN_TICKETS = 2
MAX_SHARE = 0.6
MAX_CITED = 10
_WORD = re.compile(r"[a-z][a-z0-9+#.]{2,}")


def _label_key(label: str) -> str:
    return "label:" + label


def _keys(ticket: Ticket, common_labels: set[str]) -> set[str]:
    keys = {
        _label_key(label)
        for label in ticket.labels
        if label not in common_labels and not WORKFLOW_LABEL.match(label)
    }
    words = {w.strip(".") for w in _WORD.findall(ticket.title.lower())}
    keys |= {"word:" + w for w in words if len(w) >= 4 and w not in STOPWORDS}
    return keys


def find_themes(
    tickets: Sequence[Ticket], period: Period, order: Sequence[tuple[str, int]], limit: int = 5
) -> list[Theme]:
    """Group the period's tickets into at most ``limit`` themes, largest first.

    ``order`` lists ticket keys most active first; it orders the tickets of each theme.
    """
    rank = {key: i for i, key in enumerate(order)}
    label_counts: dict[str, int] = defaultdict(int)
    for ticket in tickets:
        for label in set(ticket.labels):
            label_counts[label] += 1
    common = {
        label
        for label, n in label_counts.items()
        if len(tickets) >= 5 and n > MAX_SHARE * len(tickets)
    }
    members: dict[str, list[Ticket]] = defaultdict(list)
    for ticket in tickets:
        for key in _keys(ticket, common):
            members[key].append(ticket)

    themes: list[Theme] = []
    grouped: set[tuple[str, int]] = set()
    while len(themes) < limit:
        best = max(
            members.items(),
            key=lambda item: (
                sum(t.key not in grouped for t in item[1]),
                item[0].startswith("label:"),
                item[0],
            ),
            default=None,
        )
        if best is None or sum(t.key not in grouped for t in best[1]) < MIN_TICKETS:
            break
        key, group = best
        del members[key]
        grouped |= {t.key for t in group}
        group = sorted(group, key=lambda t: rank.get(t.key, len(rank)))
        themes.append(_theme(key, group, period))
    return themes


def _theme(key: str, group: Sequence[Ticket], period: Period) -> Theme:
    kind, _, name = key.partition(":")
    still_open = sum(t.is_open_at(period.end_at) for t in group)
    new = sum(period.contains(t.created_at) for t in group)
    n = len(group)
    if kind == "label":
        title = name
        how = f"carry the label '{name}'"
    else:
        title = f"'{name}' in the title"
        how = f"mention '{name}' in their title"
    summary = f"{n} tickets {how}: {new} opened in this period, {still_open} still open."
    return Theme(
        title=title,
        summary=summary,
        tickets=tuple(ticket_ref(t) for t in group[:MAX_CITED]),
        count=n,
        opened=new,
        still_open=still_open,
    )
