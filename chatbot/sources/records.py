"""Validate and clean GitHub REST issue and comment records before they become tickets.

pydantic models of the fields the mapping reads. A record that cannot be kept raises
:class:`MappingError`, whose message names the fields at fault and never echoes their
values (they are ticket text). What can be kept is cleaned: NUL characters are dropped
and lone surrogates become U+FFFD in every string, so any database can store it; ids
must fit a signed 64-bit column (``BIGINT``); counts are clamped to a 32-bit column;
text that has a column width is cut to it. A ``labels`` string is one label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

from chatbot.core.errors import SupportReportError

MAX_ID = 2**63 - 1
MAX_COUNT = 2**31 - 1
LOGIN_WIDTH = 100
ASSOCIATION_WIDTH = 40
STATE_REASON_WIDTH = 30
NAME_WIDTH = 200
_SURROGATE = re.compile("[\ud800-\udfff]")


class MappingError(SupportReportError, ValueError):
    """A JSON record that is not a usable GitHub issue or comment."""


def clean_text(value: str) -> str:
    """``value`` without NUL characters, lone surrogates replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii() and _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    return value


def clip(value: str, width: int) -> str:
    """``value`` cut to ``width`` characters (a column's width)."""
    return value if len(value) <= width else value[:width]


def to_utc(value: str) -> datetime:
    """An ISO 8601 time with a zone (``2025-04-21T09:00:00Z``), as aware UTC."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("is not an ISO 8601 time") from None
    if moment.utcoffset() is None:
        raise ValueError("has no time zone")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 in UTC") from None


def _or_none(value: Any, kind: type) -> Any:
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> Any:
    return _or_none(value, str)


def _count(value: Any) -> int | None:
    """A non-negative count, clamped to a 32-bit column; anything else is unknown."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return None
    return min(value, MAX_COUNT)


def _id(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        raise ValueError("must be a positive integer below 2**63")
    return value


def _labels(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return value


def _label_name(value: Any) -> Any:
    return value.get("name") if isinstance(value, Mapping) else value


CleanStr = Annotated[StrictStr, AfterValidator(clean_text)]
OptionalText = Annotated[CleanStr | None, BeforeValidator(_str_or_none)]
Id = Annotated[StrictInt, BeforeValidator(_id)]


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time")
    return to_utc(clean_text(value))


def _optional_time(value: Any) -> datetime | None:
    return None if value is None or value == "" else _time(value)


Time = Annotated[datetime, BeforeValidator(_time)]
OptionalTime = Annotated[datetime | None, BeforeValidator(_optional_time)]
Count = Annotated[int | None, BeforeValidator(_count)]
LabelName = Annotated[CleanStr | None, BeforeValidator(lambda v: _str_or_none(_label_name(v)))]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class UserRecord(_Record):
    """``user``: who wrote an issue or comment."""

    login: OptionalText = None
    type: OptionalText = None


def _user(value: Any) -> Any:
    return value if isinstance(value, Mapping) else None


User = Annotated[UserRecord | None, BeforeValidator(_user)]


class ReactionsRecord(_Record):
    """``reactions``: only the total is read."""

    total_count: Count = None


Reactions = Annotated[
    ReactionsRecord | None, BeforeValidator(lambda v: v if isinstance(v, Mapping) else None)
]


class CommentRecord(_Record):
    """A REST comment object."""

    id: Id
    user: User = None
    author_association: OptionalText = None
    created_at: Time
    updated_at: OptionalTime = None
    body: OptionalText = None
    issue_url: OptionalText = None


class IssueRecord(_Record):
    """A REST issue object, with its comments under ``x_comments`` in an import file."""

    number: Id
    title: CleanStr
    body: OptionalText = None
    state: OptionalText = None
    state_reason: OptionalText = None
    user: User = None
    author_association: OptionalText = None
    created_at: Time
    updated_at: OptionalTime = None
    closed_at: OptionalTime = None
    html_url: OptionalText = None
    url: OptionalText = None
    repository_url: OptionalText = None
    labels: Annotated[list[LabelName], BeforeValidator(_labels)] = Field(default_factory=list)
    reactions: Reactions = None
    comments: Count = None
    x_comments: list[CommentRecord] | None = None


_MESSAGES = {
    "missing": "is missing",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "string_type": "must be a string",
    "list_type": "must be a list",
}


def _problem(exc: ValidationError) -> str:
    """The first few faults, as ``field: what is wrong`` (never the values)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False)[:3]:
        where = ".".join(str(part) for part in error["loc"]) or "record"
        kind = str(error["type"])
        message = _MESSAGES.get(kind) or str(error["msg"]).removeprefix("Value error, ")
        parts.append(
            f"{where} {message}"
            if kind in _MESSAGES or kind == "value_error"
            else f"{where}: {message}"
        )
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def issue_record(data: Any) -> IssueRecord:
    """The validated, cleaned issue record of ``data``.

    Raises:
        MappingError: if ``data`` is not a usable issue object.
    """
    if not isinstance(data, Mapping):
        raise MappingError("not a JSON object")
    try:
        return IssueRecord.model_validate(data)
    except ValidationError as exc:
        raise MappingError(_problem(exc)) from None


def comment_record(data: Any) -> CommentRecord:
    """The validated, cleaned comment record of ``data``.

    Raises:
        MappingError: if ``data`` is not a usable comment object.
    """
    if not isinstance(data, Mapping):
        raise MappingError("comment: not a JSON object")
    try:
        return CommentRecord.model_validate(data)
    except ValidationError as exc:
        raise MappingError("comment " + _problem(exc)) from None
