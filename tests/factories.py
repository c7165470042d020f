"""Small builders for tickets and comments in tests (the domain values themselves, no mocks)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from chatbot.core.models import Comment, Person, Ticket

_ids = count(1)
REPO = "acme/support"
TEAM = Person(login="agent", association="MEMBER")
USER = Person(login="customer", association="NONE")
MIXED_PEOPLE = [
    TEAM,
    Person(login="owner", association="OWNER"),
    Person(login="helper", association="COLLABORATOR"),
    Person(login="ci[bot]", association="MEMBER", is_bot=True),
    USER,
    Person(login="contributor", association="CONTRIBUTOR"),
    Person(login="agent", association="NONE"),  # the same login outside the team
]
"""Every kind of author the store's queries tell apart: team, bot, reporter, the same
login inside and outside the team (index 0 is the team's agent, 4 the customer)."""


def at(text: str) -> datetime:
    """``2025-04-21 09:00`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def comment(when: str, author: Person = TEAM, body: str = "") -> Comment:
    """A comment at ``when`` (UTC) by ``author``."""
    return Comment(id=next(_ids), author=author, created_at=at(when), body=body)


def ticket(
    number: int,
    created: str,
    *,
    closed: str | None = None,
    title: str = "",
    labels: tuple[str, ...] = (),
    comments: tuple[Comment, ...] = (),
    reactions: int = 0,
    author: Person = USER,
    repo: str = REPO,
    form_fields: tuple[tuple[str, str], ...] = (),
) -> Ticket:
    """A ticket opened at ``created`` (UTC), closed at ``closed`` if given."""
    moments = [at(created), *(c.created_at for c in comments)]
    if closed:
        moments.append(at(closed))
    return Ticket(
        repo=repo,
        number=number,
        title=title or f"Ticket {number}",
        state="closed" if closed else "open",
        author=author,
        created_at=at(created),
        updated_at=max(moments),
        closed_at=at(closed) if closed else None,
        url=f"https://github.com/{repo}/issues/{number}",
        labels=labels,
        reactions=reactions,
        comment_count=len(comments),
        comments=comments,
        form_fields=form_fields,
    )


class Clock:
    """A clock the test moves by hand (``clock.now = ...``); counts how often it was read."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.now
