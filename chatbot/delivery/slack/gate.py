"""The door of ``POST /slack/events``: size, signature and shape, checked on the raw bytes.

Nothing of a request is parsed before its signature is verified, and Bolt sees only requests
that are signed and well formed::

    body larger than MAX_BODY (or Content-Length saying so)          -> 413
    missing, non-numeric or stale timestamp; missing, malformed or
    wrong signature (v0=HMAC-SHA256(secret, "v0:{ts}:{raw body}"))  -> 401
    signed, but not UTF-8, not a JSON object, nested too deep,
    a ``payload=`` that is not a JSON object, a form without command -> 400

The signature follows slack_sdk's ``SignatureVerifier`` (five minutes either way), computed
on the bytes as received. Rejections are logged by :class:`RejectionLog`: one short line
(status and reason, never the body or a header value), at most one every ``every`` seconds,
with the count of those left out since the last line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from aiohttp import web

from chatbot.lazylog import get_logger

log = get_logger(__name__)

#: Slack's payloads are far smaller; anything above this is not from Slack.
MAX_BODY = 1024 * 1024
#: How far a request's timestamp may be from now, in seconds (slack_sdk's window).
MAX_AGE = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Rejection:
    """Why a request is refused, and with which status."""

    status: int
    reason: str

    def response(self) -> web.Response:
        """The short JSON answer (Bolt's for 401)."""
        error = "invalid request" if self.status == 401 else self.reason.replace("_", " ")
        return web.json_response({"error": error}, status=self.status)


BodyKind = Literal["json", "payload", "form"]


@dataclass(frozen=True, kw_only=True, slots=True)
class SignedRequest:
    """A signed, well-formed request: its text for Bolt, what it says, and its signature."""

    text: str
    body: dict[str, Any]
    kind: BodyKind
    signature: str

    @property
    def form(self) -> bool:
        """Form-encoded (a slash command or an interaction payload), not Events API JSON."""
        return self.kind != "json"

    @property
    def bolt_text(self) -> str:
        """The text to hand Bolt, which it parses into the same fields.

        Bolt takes any form *containing* ``payload`` for an interaction and finds no fields in
        it, so a command typed in a channel named ``#payload-team`` went unanswered. Spelling
        the ``p`` as ``%70`` decodes to the same values (a ``p`` is never part of a ``%XX``).
        """
        return self.text.replace("payload", "%70ayload") if self.kind == "form" else self.text


def signature_problem(
    secret: bytes, timestamp: str | None, signature: str | None, body: bytes, now: float
) -> str | None:
    """``None`` when Slack signed ``body``; otherwise why not (any header value is safe)."""
    if not timestamp or not signature:
        return "unsigned"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "bad_timestamp"
    if abs(now - int(timestamp)) > MAX_AGE:
        return "stale_timestamp"
    if not _SIGNATURE.fullmatch(signature):
        return "bad_signature"
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "bad_signature"
    return None


def parse_body(text: str, content_type: str | None) -> tuple[dict[str, Any], BodyKind] | None:
    """The body (JSON, a form's ``payload``, or a form) and which of these it was.

    ``None`` when it is none of these in a shape Slack sends: a JSON object with a ``type``,
    a ``payload`` holding such an object, or a form naming a slash ``command`` (or Slack's
    ``ssl_check``).
    """
    try:
        if content_type == "application/json" or text.startswith("{"):
            found = json.loads(text)
            return (found, "json") if _typed_object(found) else None
        fields = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" in fields:
            found = json.loads(fields["payload"])
            return (found, "payload") if _typed_object(found) else None
    except (ValueError, RecursionError):
        return None
    if fields.get("command", "").startswith("/") or "ssl_check" in fields:
        return fields, "form"
    return None


def _typed_object(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str)


async def read_capped(request: web.Request, cap: int = MAX_BODY) -> bytes | None:
    """The body, or ``None`` as soon as it is known to be larger than ``cap`` bytes."""
    if request.content_length is not None and request.content_length > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def admit(
    request: web.Request, secret: bytes, *, now: float | None = None, cap: int = MAX_BODY
) -> SignedRequest | Rejection:
    """Read, verify and parse ``request``; a :class:`Rejection` at the first thing wrong."""
    raw = await read_capped(request, cap)
    if raw is None:
        return Rejection(status=413, reason="too_large")
    signature = request.headers.get("X-Slack-Signature")
    problem = signature_problem(
        secret,
        request.headers.get("X-Slack-Request-Timestamp"),
        signature,
        raw,
        time.time() if now is None else now,
    )
    if problem is not None or signature is None:
        return Rejection(status=401, reason=problem or "unsigned")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Rejection(status=400, reason="not_utf8")
    content_type = request.headers.get("Content-Type")
    parsed = parse_body(text, content_type.split(";")[0].strip() if content_type else None)
    if parsed is None:
        return Rejection(status=400, reason="malformed_body")
    body, kind = parsed
    return SignedRequest(text=text, body=body, kind=kind, signature=signature)


class RejectionLog:
    """One ``slack_request_rejected`` line per ``every`` seconds at most; the rest counted."""

    def __init__(self, every: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self._clock = clock
        self._last: float | None = None
        self._suppressed = 0

    def note(self, status: int, reason: str) -> None:
        """Record one rejection; log it unless a line was written less than ``every`` s ago."""
        now = self._clock()
        if self._last is not None and now - self._last < self.every:
            self._suppressed += 1
            return
        log.warning(
            "slack_request_rejected",
            platform="slack",
            status=status,
            reason=reason,
            suppressed=self._suppressed,
        )
        self._last = now
        self._suppressed = 0
