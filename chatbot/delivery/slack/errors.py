"""Slack failures in words: which errors are permanent, what the log says, what a person reads.

:func:`describe_slack_error` turns a ``SlackApiError`` (``ok: false``, a 429 that outlasted
the retries, a 5xx) into a :class:`SlackProblem`. :func:`answering` wraps the work done for a
person: a :class:`~chatbot.core.errors.UserInputError` becomes its own message, a Slack
problem a clear line, anything else a logged traceback and a short apology. Tokens and
ticket text never reach the log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from chatbot.core.errors import UserInputError
from chatbot.delivery.slack.messages import APOLOGY
from chatbot.lazylog import get_logger
from chatbot.render.slack_blocks import escape

log = get_logger(__name__)

Say = Callable[[str], Awaitable[None]]

_NOT_IN_CHANNEL = (
    "I can't post in this channel ({code}): invite me with `/invite @support-report`,"
    " or ask an admin to grant the chat:write.public scope (see slack/manifest.yml)."
)
_AUTH = (
    "Slack refused my token ({code}). Whoever runs the bot needs to check SLACK_BOT_TOKEN"
    " (reinstall the app if it was revoked)."
)
_MESSAGES = {
    "channel_not_found": _NOT_IN_CHANNEL,
    "not_in_channel": _NOT_IN_CHANNEL,
    "is_archived": "This channel is archived ({code}); ask for the report in another one.",
    "invalid_auth": _AUTH,
    "not_authed": _AUTH,
    "token_revoked": _AUTH,
    "token_expired": _AUTH,
    "account_inactive": _AUTH,
    "missing_scope": (
        "The Slack app lacks a permission ({code}: {needed}). Reinstall it from slack/manifest.yml."
    ),
    "ratelimited": "Slack is rate limiting me ({code}); please try again in a minute.",
    "msg_too_long": "Slack refused the report as too long ({code}); the error is logged.",
    "invalid_blocks": "Slack refused the report's layout ({code}); the error is logged.",
}
TRANSIENT = frozenset({"ratelimited", "http_error", "service_unavailable", "internal_error"})


@dataclass(frozen=True, kw_only=True, slots=True)
class SlackProblem:
    """A Slack API failure: its code, whether retrying can help, and what to tell people."""

    code: str
    status: int
    needed: str | None
    permanent: bool
    user_message: str


def describe_slack_error(error: SlackApiError) -> SlackProblem:
    """What a ``SlackApiError`` means: permanent or not, and a sentence for a person."""
    response = error.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    body = data if isinstance(data, dict) else {}
    if status == 429:
        code = "ratelimited"
    elif status >= 500:
        code = "http_error"
    else:
        code = str(body.get("error") or "unknown_error")
    needed = body.get("needed")
    template = _MESSAGES.get(code)
    if template is None and code == "http_error":
        template = "Slack had a problem (HTTP {status}); please try again in a minute."
    if template is None:
        template = "Slack refused the message ({code}); the error is logged."
    message = template.format(code=code, needed=needed or "?", status=status)
    return SlackProblem(
        code=code,
        status=status,
        needed=str(needed) if needed else None,
        permanent=code not in TRANSIENT,
        user_message=message,
    )


def log_slack_problem(problem: SlackProblem, *, method: str | None = None) -> None:
    """One key-value line for a Slack failure (never a token, never ticket text)."""
    log.warning(
        "slack_api_error",
        platform="slack",
        method=method,
        error=problem.code,
        status=problem.status,
        needed=problem.needed,
        permanent=problem.permanent,
    )


def _method(error: SlackApiError) -> str | None:
    url = getattr(error.response, "api_url", "") or ""
    return url.rstrip("/").rsplit("/", 1)[-1] or None


async def _tell(say: Say, text: str) -> None:
    try:
        await say(text)
    except Exception:
        log.exception("slack_reply_failed", platform="slack")


@asynccontextmanager
async def answering(say: Say) -> AsyncIterator[None]:
    """Run the work for a person; whatever fails, they get one clear line, never silence."""
    try:
        yield
    except UserInputError as exc:
        log.info("slack_request_refused", platform="slack", problem=str(exc))
        await _tell(say, escape(str(exc)))
    except SlackApiError as exc:
        problem = describe_slack_error(exc)
        log_slack_problem(problem, method=_method(exc))
        await _tell(say, problem.user_message)
    except Exception:
        log.exception("slack_request_failed", platform="slack")
        await _tell(say, APOLOGY)
