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
from chatbot.sources.records import (
    ASSOCIATION_WIDTH,
    LOGIN_WIDTH,
    MAX_ID,
    NAME_WIDTH,
    STATE_REASON_WIDTH,
    CommentRecord,
    IssueRecord,
    MappingError,
    UserRecord,
    clip,
    comment_record,
    issue_record,
    to_utc,
)

__all__ = [
    "COMMENTS_KEY",
    "MappingError",
    "comment_from_rest",
    "issue_number_of",
    "parse_form_fields",
    "parse_time",
    "ticket_from_rest",
]

COMMENTS_KEY = "x_comments"
NO_RESPONSE = "_No response_"
_REPO_IN_API_URL = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+?)(?:/|$)")
_REPO_IN_WEB_URL = re.compile(r"^https?://[^/]+/(?P<repo>[^/]+/[^/]+)/(?:issues|pull)/")
_REPO = re.compile(r"^[^/\s]{1,100}/[^/\s]{1,99}$")
_FORM_HEADING = re.compile(r"^### (?P<label>[^\n]+?)\s*$", re.MULTILINE)
MAX_BOLD_KEY = 40
MAX_BOLD_VALUE = 200
MAX_BOLD_FIELDS = 30
# ``**Key**: value`` or ``**Key:** value`` on one line: a common Markdown issue template shape.
_BOLD_FIELD = re.compile(
    rf"^\*\*(?P<label>[^*:\n]{{1,{MAX_BOLD_KEY}}}?)\s*(?:\*\*:|:\*\*)[ \t]*"
    rf"(?P<value>\S[^\n]{{0,{MAX_BOLD_VALUE - 1}}}?)\s*$"
)
_FENCE = re.compile(r"^\s*(```|~~~)")
_ISSUE_URL = re.compile(r"/issues/(\d{1,19})$")


def parse_time(value: Any, field: str) -> datetime:
    """An ISO 8601 time as GitHub writes it (``2025-04-21T09:00:00Z``), aware UTC."""
    if not isinstance(value, str):
        raise MappingError(f"{field} must be an ISO 8601 time")
    try:
        return to_utc(value)
    except ValueError as exc:
        raise MappingError(f"{field}: {exc}") from None


def person(user: UserRecord | None, association: str | None = None) -> Person:
    """The author of an issue or comment; bots by user type or a ``[bot]`` login."""
    role = clip(association or "NONE", ASSOCIATION_WIDTH)
    if user is None or not user.login:
        return Person(login="ghost", association=role)
    login = clip(user.login, LOGIN_WIDTH)
    is_bot = user.type == "Bot" or login.endswith("[bot]")
    return Person(login=login, association=role, is_bot=is_bot)


def repo_of(issue: IssueRecord) -> str | None:
    """``owner/name`` from the issue's API or web URL."""
    for value, pattern in (
        (issue.repository_url, _REPO_IN_API_URL),
        (issue.url, _REPO_IN_API_URL),
        (issue.html_url, _REPO_IN_WEB_URL),
    ):
        if value and (match := pattern.search(value)):
            return match.group("repo")
    return None


def issue_number_of(url: Any) -> int | None:
    """The issue number at the end of a comment's ``issue_url``, if it fits a BIGINT."""
    match = _ISSUE_URL.search(url) if isinstance(url, str) else None
    number = int(match.group(1)) if match else None
    return number if number is not None and 0 < number <= MAX_ID else None


def parse_form_fields(body: str) -> tuple[tuple[str, str], ...]:
    """Form fields from a body: issue-form headings, then one-line ``**Key**: value`` fields.

    GitHub issue forms write ``### Label`` headings, each followed by its value; empty
    answers (``_No response_``) are kept as empty strings so a breakdown can skip them.
    Markdown templates often write ``**Browser / Version**: Firefox 89.0`` lines instead
    (webcompat does); those count too, but only in a bounded shape, so that ordinary bold
    prose does not become a field: a key of at most :data:`MAX_BOLD_KEY` characters
    starting a line, a value on the same line of at most :data:`MAX_BOLD_VALUE`, no code
    block, at most :data:`MAX_BOLD_FIELDS` of them, and no name a heading already gave.
    """
    text = body.replace("\r\n", "\n")
    headings = list(_FORM_HEADING.finditer(text))
    fields: list[tuple[str, str]] = []
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        value = text[heading.end() : end].strip()
        name = clip(heading.group("label").strip(), NAME_WIDTH)
        fields.append((name, "" if value == NO_RESPONSE else value))
    return tuple(fields) + _bold_fields(text, {name for name, _ in fields})


def _bold_fields(text: str, taken: set[str]) -> tuple[tuple[str, str], ...]:
    """The ``**Key**: value`` lines of ``text`` outside code blocks, first of each name."""
    fields: list[tuple[str, str]] = []
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or not line.startswith("**"):
            continue
        match = _BOLD_FIELD.match(line)
        if match is None:
            continue
        name = match.group("label").strip()
        if not name or name in taken:
            continue
        taken.add(name)
        fields.append((name, match.group("value")))
        if len(fields) == MAX_BOLD_FIELDS:
            break
    return tuple(fields)


def _comment(record: CommentRecord) -> Comment:
    return Comment(
        id=record.id,
        author=person(record.user, record.author_association),
        created_at=record.created_at,
        body=record.body or "",
    )


def comment_from_rest(data: Any) -> Comment:
    """A core comment from a REST comment object (validated and cleaned)."""
    return _comment(comment_record(data))


def _labels(record: IssueRecord) -> tuple[str, ...]:
    """Label names, from label objects or plain strings, cut to the column's width."""
    return tuple(dict.fromkeys(clip(name, NAME_WIDTH) for name in record.labels if name))


def ticket_from_rest(
    issue: Any,
    *,
    repo: str | None = None,
    comments: Sequence[Comment] | None = None,
) -> Ticket:
    """A core ticket from a REST issue object (pull requests are refused).

    Raises:
        MappingError: if ``issue`` is not a usable issue; the message names the fields.
    """
    if isinstance(issue, Mapping) and issue.get("pull_request"):
        raise MappingError("a pull request, not an issue")
    record = issue_record(issue)
    where = repo or repo_of(record)
    if where is None or not _REPO.match(where):
        raise MappingError("no owner/name repository: give repository_url or html_url")
    created = record.created_at
    closed = record.closed_at
    if closed is not None and closed < created:
        closed = created  # never seen, but the backlog count relies on it
    state = (record.state or ("closed" if closed else "open")).lower()
    if state not in ("open", "closed"):
        raise MappingError("state must be open or closed")
    if comments is None:
        comments = [_comment(c) for c in record.x_comments or ()]
    moments = [created, *(m for m in [closed] if m), *(c.created_at for c in comments)]
    updated = record.updated_at or max(moments)
    total = record.reactions.total_count if record.reactions else None
    body = record.body or ""
    return Ticket(
        repo=where,
        number=record.number,
        title=record.title,
        state="closed" if state == "closed" else "open",
        state_reason=clip(record.state_reason, STATE_REASON_WIDTH) if record.state_reason else None,
        author=person(record.user, record.author_association),
        created_at=created,
        updated_at=updated,
        closed_at=closed if state == "closed" else None,
        body=body,
        url=record.html_url or f"https://github.com/{where}/issues/{record.number}",
        labels=_labels(record),
        form_fields=parse_form_fields(body),
        reactions=total or 0,
        comment_count=record.comments if record.comments is not None else len(comments),
        comments=tuple(sorted(comments, key=lambda c: (c.created_at, c.id))),
    )
