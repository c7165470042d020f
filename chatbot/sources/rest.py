"""GitHub REST JSON to core tickets: one mapping for imports, the demo and the GitHub sync.

Takes issue objects as ``GET /repos/{owner}/{repo}/issues`` returns them and comment objects
as ``GET /repos/{owner}/{repo}/issues/comments`` returns them. An import file may carry an
issue's comments under the key :data:`COMMENTS_KEY` (``x_comments``), since the REST field
``comments`` is only a count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from chatbot.core.models import Comment, Person, Ticket

COMMENTS_KEY = "x_comments"
NO_RESPONSE = "_No response_"
_REPO_IN_API_URL = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+?)(?:/|$)")
_REPO_IN_WEB_URL = re.compile(r"^https?://[^/]+/(?P<repo>[^/]+/[^/]+)/(?:issues|pull)/")
_FORM_HEADING = re.compile(r"^### (?P<label>[^\n]+?)\s*$", re.MULTILINE)


class MappingError(ValueError):
    """A JSON object that is not a usable GitHub issue or comment."""


def parse_time(value: Any, field: str) -> datetime:
    """An ISO 8601 time as GitHub writes it (``2025-04-21T09:00:00Z``), aware."""
    if not isinstance(value, str):
        raise MappingError(f"{field} must be an ISO 8601 time, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"{field} is not an ISO 8601 time: {value!r}") from None
    if moment.utcoffset() is None:
        raise MappingError(f"{field} has no time zone: {value!r}")
    return moment


def person(user: Any, association: Any = None) -> Person:
    """The author of an issue or comment; bots by user type or a ``[bot]`` login."""
    if not isinstance(user, Mapping) or not isinstance(user.get("login"), str):
        return Person(login="ghost", association=str(association or "NONE"))
    login = user["login"]
    is_bot = user.get("type") == "Bot" or login.endswith("[bot]")
    return Person(login=login, association=str(association or "NONE"), is_bot=is_bot)


def repo_of(issue: Mapping[str, Any]) -> str | None:
    """``owner/name`` from the issue's API or web URL."""
    for key, pattern in (
        ("repository_url", _REPO_IN_API_URL),
        ("url", _REPO_IN_API_URL),
        ("html_url", _REPO_IN_WEB_URL),
    ):
        value = issue.get(key)
        if isinstance(value, str) and (match := pattern.search(value)):
            return match.group("repo")
    return None


def parse_form_fields(body: str) -> tuple[tuple[str, str], ...]:
    """Issue-form fields from a body: ``### Label`` headings, each followed by its value.

    Empty answers (``_No response_``) are kept as empty strings so a breakdown can skip them.
    A body with no ``### `` heading is not a form and gives no fields.
    """
    text = body.replace("\r\n", "\n")
    headings = list(_FORM_HEADING.finditer(text))
    fields: list[tuple[str, str]] = []
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        value = text[heading.end() : end].strip()
        fields.append((heading.group("label").strip(), "" if value == NO_RESPONSE else value))
    return tuple(fields)


def comment_from_rest(data: Mapping[str, Any]) -> Comment:
    """A core comment from a REST comment object."""
    if not isinstance(data.get("id"), int):
        raise MappingError("comment has no integer id")
    return Comment(
        id=data["id"],
        author=person(data.get("user"), data.get("author_association")),
        created_at=parse_time(data.get("created_at"), "comment created_at"),
        body=str(data.get("body") or ""),
    )


def labels_of(issue: Mapping[str, Any]) -> tuple[str, ...]:
    """Label names, from label objects or plain strings."""
    names: list[str] = []
    for label in issue.get("labels") or ():
        name = label.get("name") if isinstance(label, Mapping) else label
        if isinstance(name, str) and name:
            names.append(name)
    return tuple(dict.fromkeys(names))


def ticket_from_rest(
    issue: Mapping[str, Any],
    *,
    repo: str | None = None,
    comments: Sequence[Comment] | None = None,
) -> Ticket:
    """A core ticket from a REST issue object (pull requests are refused)."""
    if not isinstance(issue, Mapping):
        raise MappingError("not a JSON object")
    if issue.get("pull_request"):
        raise MappingError("a pull request, not an issue")
    number = issue.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise MappingError("number must be a positive integer")
    title = issue.get("title")
    if not isinstance(title, str):
        raise MappingError("title must be a string")
    where = repo or repo_of(issue)
    if where is None:
        raise MappingError("no repository: give repository_url or html_url")
    created = parse_time(issue.get("created_at"), "created_at")
    closed = parse_time(issue["closed_at"], "closed_at") if issue.get("closed_at") else None
    if closed is not None and closed < created:
        closed = created  # never seen, but the backlog count relies on it
    state = str(issue.get("state") or ("closed" if closed else "open")).lower()
    if state not in ("open", "closed"):
        raise MappingError(f"state must be open or closed, got {state!r}")
    if comments is None:
        raw = issue.get(COMMENTS_KEY) or []
        if not isinstance(raw, list):
            raise MappingError(f"{COMMENTS_KEY} must be a list of comment objects")
        comments = [comment_from_rest(c) for c in raw]
    moments = [created, *(m for m in [closed] if m), *(c.created_at for c in comments)]
    updated = (
        parse_time(issue["updated_at"], "updated_at") if issue.get("updated_at") else max(moments)
    )
    reactions = issue.get("reactions")
    total = reactions.get("total_count", 0) if isinstance(reactions, Mapping) else 0
    count = issue.get("comments")
    body = str(issue.get("body") or "")
    return Ticket(
        repo=where,
        number=number,
        title=title,
        state="closed" if state == "closed" else "open",
        state_reason=issue.get("state_reason")
        if isinstance(issue.get("state_reason"), str)
        else None,
        author=person(issue.get("user"), issue.get("author_association")),
        created_at=created,
        updated_at=updated,
        closed_at=closed if state == "closed" else None,
        body=body,
        url=str(issue.get("html_url") or f"https://github.com/{where}/issues/{number}"),
        labels=labels_of(issue),
        form_fields=parse_form_fields(body),
        reactions=int(total) if isinstance(total, int) and total >= 0 else 0,
        comment_count=count if isinstance(count, int) and count >= 0 else len(comments),
        comments=tuple(sorted(comments, key=lambda c: (c.created_at, c.id))),
    )
