"""The bundled demo tickets: real issues, moved in time so that every period has some.

The tickets are real (see ``demo_data/README.md`` and ``demo_data/ATTRIBUTION.md``). At load
time a ticket that carries ``x_demo_days`` is first moved by those whole days (the build
spread the webcompat tickets, all filed on one weekend, over the demo's months); then each
repository's timestamps are shifted by one offset so that its newest activity falls
:data:`NEWEST_ACTIVITY_AGO` before now. The sources hold comment counts only, so comments
are synthesized deterministically from those counts, with empty bodies: at the times and
by the actors of the ticket's real events where it has them (:func:`event_comments`),
otherwise by a made-up team (:func:`synthesize_comments`).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from importlib import resources
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from chatbot.core.errors import DemoRefused
from chatbot.core.models import Comment, Person, Ticket
from chatbot.core.ports import DEMO_META_KEY as DEMO_META_KEY

# ``chatbot.sources.rest`` (its pydantic records) is imported where a demo is loaded, not
# here: a report on a store whose demo is current only reads the load time back.

NEWEST_ACTIVITY_AGO = timedelta(hours=3)
TEAM = ("support-alex", "support-sam", "support-kim")
MAX_OPEN_THREAD = timedelta(days=45)
EVENT_BOT = "webcompat-bot"
CLOSE_SLACK = timedelta(minutes=1)  # a close event may be stamped a second after closed_at


def _records() -> Iterator[dict[str, Any]]:
    data = resources.files("chatbot.sources").joinpath("demo_data/tickets.jsonl")
    with data.open("r", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _rng(ticket: Ticket) -> random.Random:
    seed = hashlib.sha256(ticket.reference.encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def synthesize_comments(ticket: Ticket, snapshot: datetime, repo_index: int) -> tuple[Comment, ...]:
    """``ticket.comment_count`` comments between its opening and its close (or the snapshot).

    The first reply comes from the team four times in five; then the reporter and the team
    take turns, with now and then another user joining; a closed ticket's last word is the
    team's. Times and authors depend only on the ticket, so every load gives the same thread.
    """
    n = ticket.comment_count
    if n == 0:
        return ()
    rng = _rng(ticket)
    end = ticket.closed_at or min(snapshot, ticket.created_at + MAX_OPEN_THREAD)
    span = max((end - ticket.created_at).total_seconds(), 60.0)
    first = min(span * 0.5, rng.uniform(0.5, 30) * 3600)
    offsets = sorted([first] + [rng.uniform(first, span * 0.999) for _ in range(n - 1)])
    team = TEAM[rng.randrange(len(TEAM))]
    comments = []
    for i, offset in enumerate(offsets):
        last_of_closed = ticket.closed_at is not None and i == n - 1
        if (i == 0 and rng.random() < 0.8) or last_of_closed or (i > 0 and i % 2 == 0):
            author = Person(login=team, association="MEMBER")
        elif rng.random() < 0.25:
            author = Person(login=f"user-{rng.randrange(1000, 9999)}", association="NONE")
        else:
            author = ticket.author
        comments.append(
            Comment(
                id=(repo_index + 1) * 10**9 + ticket.number * 100 + i,
                author=author,
                created_at=ticket.created_at + timedelta(seconds=offset),
            )
        )
    return tuple(comments)


def _reply_moments(events: Sequence[dict[str, Any]]) -> list[tuple[str, datetime]]:
    """Where a real person or bot acted on a ticket: its closes, then each person's first act.

    A close is when webcompat's bot or triagers write their closing comment; a triager's
    first label or milestone (before any close of theirs) is when they first looked at the
    report. Each group oldest first.
    """
    from chatbot.sources.rest import parse_time

    closes: dict[tuple[str, datetime], None] = {}
    firsts: dict[tuple[str, datetime], None] = {}
    seen: set[str] = set()
    for event in sorted(events, key=lambda e: str(e.get("created_at"))):
        actor = event.get("actor")
        if not isinstance(actor, str) or not actor:
            continue
        at = parse_time(event.get("created_at"), "x_events.created_at")
        if event.get("event") == "closed":
            closes[(actor, at)] = None
        elif actor != EVENT_BOT and actor not in seen:
            firsts[(actor, at)] = None
        seen.add(actor)
    return [*closes, *(m for m in firsts if m not in closes)]


def event_comments(
    ticket: Ticket, events: Sequence[dict[str, Any]], snapshot: datetime, repo_index: int
) -> tuple[Comment, ...]:
    """``ticket.comment_count`` comments placed at the ticket's real events, by their actors.

    The real events say who acted and when, not who commented: each comment takes one real
    moment (:func:`_reply_moments`) no later than the close, closes first, by that moment's
    actor as a MEMBER (events carry no association; the actors had triage rights, and the
    source records the bot's own issues as MEMBER). Comments beyond the real moments, or
    on a ticket with none, fall back to :func:`synthesize_comments`. Deterministic, like it.
    """
    n = ticket.comment_count
    closed = ticket.closed_at
    moments = [
        (login, min(at, closed) if closed else at)
        for login, at in _reply_moments(events)
        if closed is None or at <= closed + CLOSE_SLACK
    ]
    if n == 0 or not moments:
        return synthesize_comments(ticket, snapshot, repo_index)
    chosen = sorted(moments[:n], key=lambda m: m[1])
    made = [
        Comment(
            id=(repo_index + 1) * 10**9 + ticket.number * 100 + i,
            author=Person(login=login, association="MEMBER"),
            created_at=max(at, ticket.created_at),
        )
        for i, (login, at) in enumerate(chosen)
    ]
    if n > len(made):
        rest = replace(ticket, comment_count=n - len(made))
        extra = synthesize_comments(rest, snapshot, repo_index)
        made += [replace(c, id=c.id + len(made)) for c in extra]
    return tuple(sorted(made, key=lambda c: (c.created_at, c.id)))


def _shift(ticket: Ticket, delta: timedelta) -> Ticket:
    return replace(
        ticket,
        created_at=ticket.created_at + delta,
        updated_at=ticket.updated_at + delta,
        closed_at=ticket.closed_at + delta if ticket.closed_at else None,
        comments=tuple(replace(c, created_at=c.created_at + delta) for c in ticket.comments),
    )


def anchor(now: datetime, tz: str = "UTC") -> datetime:
    """Where the newest demo activity goes: a few hours before now, but never before today.

    Just after midnight the newest activity goes halfway between midnight and now, so that
    ``today`` has tickets too.
    """
    local = now.astimezone(ZoneInfo(tz))
    midnight = datetime.combine(local.date(), time(), local.tzinfo)
    return now - min(NEWEST_ACTIVITY_AGO, (now - midnight) / 2)


def demo_tickets(now: datetime, tz: str = "UTC") -> list[Ticket]:
    """The demo tickets, rebased so each repository's newest activity is a little before now.

    Comments are made in each ticket's real time (open threads end at the repository's
    snapshot), then the ticket moves by its ``x_demo_days``, then its repository's offset.
    """
    from chatbot.sources.rest import ticket_from_rest

    by_repo: dict[str, list[tuple[Ticket, dict[str, Any]]]] = defaultdict(list)
    for record in _records():
        ticket = ticket_from_rest(record, comments=[])
        by_repo[ticket.repo].append((ticket, record))
    result: list[Ticket] = []
    for index, (_, pairs) in enumerate(sorted(by_repo.items())):
        snapshot = max(max(t.created_at, t.closed_at or t.created_at) for t, _ in pairs)
        threaded = []
        for ticket, record in pairs:
            events = record.get("x_events") or []
            comments = (
                event_comments(ticket, events, snapshot, index)
                if events
                else synthesize_comments(ticket, snapshot, index)
            )
            latest = max([ticket.updated_at, *(c.created_at for c in comments)])
            moved = replace(ticket, comments=comments, updated_at=latest)
            threaded.append(_shift(moved, timedelta(days=int(record.get("x_demo_days") or 0))))
        newest = max(
            max([t.created_at, t.closed_at or t.created_at, *(c.created_at for c in t.comments)])
            for t in threaded
        )
        delta = anchor(now, tz) - newest
        result.extend(_shift(t, delta) for t in threaded)
    return result


class DemoStore(Protocol):
    """The part of a ticket store the demo needs."""

    def get_meta(self, key: str) -> str | None: ...

    def count_tickets(self) -> int: ...

    def replace_demo(
        self, items: Sequence[Ticket], loaded_at: str, *, expect: object = ...
    ) -> bool: ...


def load_demo(store: DemoStore, now: datetime, tz: str = "UTC") -> int:
    """Replace the store's demo tickets with the demo set rebased to ``now``; the count.

    Raises:
        DemoRefused: if the store holds imported or synced tickets (they are kept).
    """
    tickets = demo_tickets(now, tz)
    if not store.replace_demo(tickets, now.isoformat()):
        raise DemoRefused("the store")
    return len(tickets)


def _loaded_on(loaded: str, zone: ZoneInfo) -> date | None:
    """The day in ``zone`` of a demo load time as :func:`load_demo` writes it; None if unreadable.

    An unreadable time (a date without a zone, a hand edit) counts as an earlier day's, so
    the demo is reloaded rather than the command failing.
    """
    try:
        moment = datetime.fromisoformat(loaded)
    except ValueError:
        return None
    return None if moment.utcoffset() is None else moment.astimezone(zone).date()


def ensure_demo(store: DemoStore, now: datetime, tz: str = "UTC") -> bool:
    """Load the demo into an empty store, or reload it if it was loaded on an earlier day.

    A store that holds anything but the demo is never touched: the load and its checks
    run in one write transaction that deletes only demo rows, and it gives way if another
    process loaded the demo or wrote real tickets meanwhile. Returns True if it loaded.
    """
    loaded = store.get_meta(DEMO_META_KEY)
    if loaded is None:
        if store.count_tickets():
            return False
    elif not loaded:
        return False  # the demo was replaced by imported or synced tickets
    else:
        zone = ZoneInfo(tz)
        if _loaded_on(loaded, zone) == now.astimezone(zone).date():
            return False
    return store.replace_demo(demo_tickets(now, tz), now.isoformat(), expect=loaded)
