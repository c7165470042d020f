"""Discord failures in words: start-up errors, what is permanent, what a person reads.

::

    ConfigError
     └── DiscordTokenRefused        Discord answered 401 to the token: stop, name the fix
    SupportReportError
     └── DiscordUnavailable         Discord could not be reached at start (network, 5xx)

:func:`describe_http_error` turns a discord.py ``HTTPException`` into a
:class:`DiscordProblem`; :func:`answering` wraps the work done for a person: a
:class:`~chatbot.core.errors.UserInputError` becomes its own message, anything else a logged
traceback and a short apology. Tokens and ticket text never reach the log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import discord

from chatbot.core.errors import ConfigError, SupportReportError, UserInputError
from chatbot.delivery.discord.messages import APOLOGY
from chatbot.lazylog import get_logger
from chatbot.render.discord_embeds import escape

log = get_logger(__name__)

Say = Callable[[str], Awaitable[object]]

MISSING_PERMISSIONS = 50013
MISSING_ACCESS = 50001
UNKNOWN_CHANNEL = 10003
_WHY = {
    MISSING_PERMISSIONS: "missing permissions (50013): grant View Channel, Send Messages,"
    " Embed Links and Read Message History in that channel",
    MISSING_ACCESS: "missing access (50001): the bot cannot see that channel",
    UNKNOWN_CHANNEL: "unknown channel (10003): check the channel id",
}


class DiscordTokenRefused(ConfigError):
    """Discord refused ``DISCORD_TOKEN`` (401): start-up stops with one line."""

    def __init__(self) -> None:
        super().__init__(
            [
                "DISCORD_TOKEN: Discord refused the token (401); reset it under Bot in the"
                " Developer Portal and set the new one"
            ]
        )


class DiscordUnavailable(SupportReportError, RuntimeError):
    """Discord could not be reached at start-up."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"Discord unavailable at start: {reason}; check DISCORD_API_URL")


@dataclass(frozen=True, kw_only=True, slots=True)
class DiscordProblem:
    """A Discord API failure: status, JSON error code, whether a retry can help, and why."""

    status: int
    code: int
    permanent: bool
    reason: str


def describe_http_error(error: discord.HTTPException) -> DiscordProblem:
    """What an ``HTTPException`` means for a post: permanent or not, in a short reason."""
    status = int(error.status or 0)
    code = int(getattr(error, "code", 0) or 0)
    if code in _WHY:
        return DiscordProblem(status=status, code=code, permanent=True, reason=_WHY[code])
    if status == 429:
        return DiscordProblem(
            status=status, code=code, permanent=False, reason="rate limited (429)"
        )
    if status >= 500:
        return DiscordProblem(
            status=status, code=code, permanent=False, reason=f"Discord error (HTTP {status})"
        )
    if status == 401:
        return DiscordProblem(
            status=status,
            code=code,
            permanent=True,
            reason="token refused (401): check DISCORD_TOKEN",
        )
    return DiscordProblem(
        status=status, code=code, permanent=True, reason=f"refused (HTTP {status}, code {code})"
    )


async def _tell(say: Say, text: str) -> None:
    try:
        await say(text)
    except Exception:
        log.exception("discord_reply_failed", platform="discord")


@asynccontextmanager
async def answering(say: Say) -> AsyncIterator[None]:
    """Run the work for a person; whatever fails, they get one clear line, never a traceback."""
    try:
        yield
    except UserInputError as exc:
        log.info("discord_request_refused", platform="discord", problem=str(exc))
        await _tell(say, escape(str(exc)))
    except discord.HTTPException as exc:
        problem = describe_http_error(exc)
        log.warning(
            "discord_api_error",
            platform="discord",
            status=problem.status,
            code=problem.code,
            reason=problem.reason,
        )
        await _tell(say, APOLOGY)
    except Exception:
        log.exception("discord_request_failed", platform="discord")
        await _tell(say, APOLOGY)
