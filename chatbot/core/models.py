"""Tickets and comments: the domain values every layer speaks.

A ticket is a GitHub issue of a support repository. Times are timezone-aware UTC.
``author_association`` keeps GitHub's vocabulary (OWNER, MEMBER, COLLABORATOR,
CONTRIBUTOR, FIRST_TIME_CONTRIBUTOR, FIRST_TIMER, MANNEQUIN, NONE); OWNER, MEMBER and
COLLABORATOR count as the support team.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal, TypeVar

TEAM_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})

State = Literal["open", "closed"]

_T = TypeVar("_T")


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Person:
    """Who wrote a ticket or a comment."""

    login: str
    association: str = "NONE"
    is_bot: bool = False

    @property
    def is_team(self) -> bool:
        """True for the support team: owners, members and collaborators, never bots."""
        return self.association in TEAM_ASSOCIATIONS and not self.is_bot


@dataclass(frozen=True, kw_only=True, slots=True)
class Comment:
    """One comment on a ticket."""

    id: int
    author: Person
    created_at: datetime
    body: str = ""

    def __post_init__(self) -> None:
        _require_aware("created_at", self.created_at)


@dataclass(frozen=True, kw_only=True, slots=True)
class Ticket:
    """One support ticket (a GitHub issue) with its comments."""

    repo: str
    number: int
    title: str
    state: State
    author: Person
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    state_reason: str | None = None
    body: str = ""
    url: str = ""
    labels: tuple[str, ...] = ()
    form_fields: tuple[tuple[str, str], ...] = ()
    reactions: int = 0
    comment_count: int = 0
    comments: tuple[Comment, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.number <= 0:
            raise ValueError(f"ticket number must be positive, got {self.number}")
        if "/" not in self.repo:
            raise ValueError(f"repo must be 'owner/name', got {self.repo!r}")
        if self.state not in ("open", "closed"):
            raise ValueError(f"state must be 'open' or 'closed', got {self.state!r}")
        for name in ("created_at", "updated_at", "closed_at"):
            _require_aware(name, getattr(self, name))
        if self.reactions < 0 or self.comment_count < 0:
            raise ValueError("reaction and comment counts cannot be negative")

    @property
    def key(self) -> tuple[str, int]:
        """The ticket's identity: repository and number."""
        return (self.repo, self.number)

    @property
    def reference(self) -> str:
        """``owner/name#number``, unambiguous across repositories."""
        return f"{self.repo}#{self.number}"

    def is_open_at(self, moment: datetime) -> bool:
        """True if the ticket existed and was not closed at ``moment``."""
        if self.created_at >= moment:
            return False
        return self.closed_at is None or self.closed_at >= moment


def _unchecked(cls: type[_T]) -> Callable[..., _T]:
    """A constructor of ``cls`` that takes every field positionally, in declaration order,
    and skips ``__init__``'s checks (``__post_init__``).

    Only for values that were checked once already: rows read back from the store, which
    held nothing but valid tickets. It sets the slots directly (the frozen class's
    ``__setattr__`` refuses), at half the cost of the checked constructor; a wrong number of
    values raises ValueError, so no slot is ever left unset.
    """
    setters = tuple(getattr(cls, f.name).__set__ for f in fields(cls))  # type: ignore[arg-type]
    new = object.__new__

    def build(*values: Any) -> _T:
        built = new(cls)
        for set_value, value in zip(setters, values, strict=True):
            set_value(built, value)
        return built

    build.__doc__ = f"A {cls.__name__} from trusted values, in field order, unchecked."
    return build


trusted_ticket: Callable[..., Ticket] = _unchecked(Ticket)
"""``Ticket`` without its checks, fields positionally in order: for the store's own rows."""
trusted_comment: Callable[..., Comment] = _unchecked(Comment)
"""``Comment`` without its checks, fields positionally in order: for the store's own rows."""
