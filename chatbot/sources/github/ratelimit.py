"""GitHub's rate limits and the retry policy: how one GET is sent until it is answered.

``x-ratelimit-*`` headers are read on every response. When the primary limit is used up
the request stops (:class:`RateLimited`, with the reset time) or, with ``wait``, sleeps
until the reset; a secondary limit (403/429 with ``Retry-After``) is waited out; 5xx
answers and connection errors are retried with exponential backoff. Any other answer
that is not 200 or 304 becomes the error that names its fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from chatbot.core.errors import SourceUnavailable
from chatbot.lazylog import get_logger
from chatbot.sources.github.options import SyncOptions
from chatbot.sources.github.wire import Response, Transport, TransportError, format_time

log = get_logger(__name__)

MAX_RESET_WAITS = 2


class RateLimited(SourceUnavailable):
    """GitHub's rate limit is used up; the sync can go on at ``reset_at``."""

    def __init__(self, reset_at: datetime, kind: str = "primary") -> None:
        self.reset_at = reset_at
        self.kind = kind
        when = reset_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        super().__init__("GitHub", f"{kind} rate limit reached; it resets at {when}")


class RepoUnavailable(SourceUnavailable):
    """One repository cannot be read (not found, gone, or no access); others still sync."""

    def __init__(self, repo: str, status: int, message: str) -> None:
        self.repo = repo
        self.status = status
        hint = "check GITHUB_REPOS and that the token or app can read it"
        detail = f" ({message})" if message else ""
        super().__init__(f"GitHub repository {repo}", f"HTTP {status}{detail}; {hint}")


@dataclass(frozen=True, kw_only=True, slots=True)
class RateLimit:
    """GitHub's primary rate limit as the last response's ``x-ratelimit-*`` headers said."""

    limit: int
    remaining: int
    reset_at: datetime
    used: int | None = None
    resource: str = "core"

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit | None:
        """The limit from response headers, or None if they carry none."""
        try:
            limit = int(float(headers["x-ratelimit-limit"]))
            remaining = int(float(headers["x-ratelimit-remaining"]))
            reset = datetime.fromtimestamp(int(float(headers["x-ratelimit-reset"])), UTC)
        except (KeyError, ValueError, OverflowError):
            return None
        used_text = headers.get("x-ratelimit-used")
        used = int(used_text) if used_text and used_text.isdigit() else None
        return cls(
            limit=limit,
            remaining=remaining,
            reset_at=reset,
            used=used,
            resource=headers.get("x-ratelimit-resource", "core"),
        )


class Requester:
    """Sends GETs through a transport with the retry and rate-limit policy; counts them.

    Attributes:
        requests: requests sent (each retry counts).
        not_modified: ``304 Not Modified`` answers.
        rate: the primary limit as the last answer that carried one said.
    """

    def __init__(
        self,
        transport: Transport,
        options: SyncOptions,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = transport
        self.options = options
        self.sleep = sleep
        self.clock = clock
        self.requests = 0
        self.not_modified = 0
        self.rate: RateLimit | None = None

    def get(
        self, repo: str, path: str, params: Mapping[str, str] | None, etag: str | None
    ) -> Response:
        """One GET with the retry and rate-limit policy; 200 and 304 come back.

        Raises:
            RateLimited: if a limit is used up and cannot (or may not) be waited out.
            RepoUnavailable: if ``repo`` is not found, gone, or not readable.
            SourceUnavailable: if GitHub cannot be reached or refuses the credentials.
        """
        failures = secondary = resets = 0
        while True:
            self._respect_known_limit()
            try:
                response = self.transport.get(path, params, etag)
            except TransportError as exc:
                self.requests += 1
                if failures >= self.options.retries:
                    raise SourceUnavailable(
                        "GitHub", f"no answer from {self.transport.api_url}: {exc}"
                    ) from exc
                self._back_off(failures, path, "connection")
                failures += 1
                continue
            self.requests += 1
            self.rate = RateLimit.from_headers(response.headers) or self.rate
            status = response.status
            if status == 304:
                self.not_modified += 1
                return response
            if 200 <= status < 300:
                return response
            if _is_primary_limit(response):
                if resets >= MAX_RESET_WAITS:
                    raise RateLimited(self._reset_at(response))
                self._wait_for_reset(self._reset_at(response))
                resets += 1
                continue
            if _is_secondary_limit(response):
                if secondary >= self.options.secondary_retries:
                    raise RateLimited(self._after(self._retry_after(response)), "secondary")
                self._wait_secondary(response, path)
                secondary += 1
                continue
            if status >= 500 and failures < self.options.retries:
                self._back_off(failures, path, str(status))
                failures += 1
                continue
            raise _error(repo, path, response)

    def _respect_known_limit(self) -> None:
        rate = self.rate
        if rate is not None and rate.remaining <= 0 and rate.reset_at.timestamp() > self.clock():
            self._wait_for_reset(rate.reset_at)

    def _wait_for_reset(self, reset_at: datetime) -> None:
        seconds = reset_at.timestamp() - self.clock() + 1
        if not self.options.wait or seconds > self.options.max_wait:
            raise RateLimited(reset_at)
        log.warning("github_rate_limit_wait", until=format_time(reset_at), seconds=round(seconds))
        self.sleep(max(seconds, 0.0))
        self.rate = None

    def _wait_secondary(self, response: Response, path: str) -> None:
        seconds = self._retry_after(response)
        if seconds > self.options.max_wait:
            raise RateLimited(self._after(seconds), "secondary")
        log.warning("github_secondary_limit_wait", path=path, seconds=seconds)
        self.sleep(seconds)

    def _retry_after(self, response: Response) -> float:
        text = response.headers.get("retry-after", "")
        try:
            return max(float(text), 0.0)
        except ValueError:
            pass
        rate = RateLimit.from_headers(response.headers)
        if rate is not None and rate.remaining == 0:
            return max(rate.reset_at.timestamp() - self.clock() + 1, 0.0)
        return self.options.secondary_wait

    def _reset_at(self, response: Response) -> datetime:
        rate = RateLimit.from_headers(response.headers)
        if rate is not None:
            return rate.reset_at
        return self._after(self.options.secondary_wait)

    def _after(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(self.clock() + seconds, UTC)

    def _back_off(self, failures: int, path: str, why: str) -> None:
        seconds = min(self.options.backoff * 2**failures, 60.0)
        log.warning("github_retry", path=path, reason=why, attempt=failures + 1, seconds=seconds)
        if seconds > 0:
            self.sleep(seconds)


def _error(repo: str, path: str, response: Response) -> SourceUnavailable:
    status, message = response.status, response.message
    if status == 401:
        return SourceUnavailable(
            "GitHub",
            "the credentials were refused (401 Bad credentials); check GITHUB_TOKEN"
            " or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID",
        )
    if status in (403, 404, 410, 451):
        return RepoUnavailable(repo, status, message)
    detail = f": {message}" if message else ""
    return SourceUnavailable("GitHub", f"HTTP {status} for {path}{detail}")


def _is_primary_limit(response: Response) -> bool:
    if response.status not in (403, 429):
        return False
    if response.headers.get("x-ratelimit-remaining") == "0" and "retry-after" not in (
        response.headers
    ):
        return True
    return "api rate limit exceeded" in response.message.lower()


def _is_secondary_limit(response: Response) -> bool:
    if response.status == 429:
        return True
    if response.status != 403:
        return False
    message = response.message.lower()
    return (
        "retry-after" in response.headers
        or "secondary rate limit" in message
        or "abuse detection" in message
    )
