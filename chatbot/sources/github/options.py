"""How a GitHub sync behaves: pacing, retries, waits and page size, as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

PER_PAGE = 100
OVERLAP = timedelta(minutes=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class SyncOptions:
    """How a sync behaves; the defaults suit api.github.com.

    Attributes:
        full: read everything again, ignoring cursors and ETags.
        wait: when the primary limit runs out, sleep until it resets instead of stopping.
        throttle: seconds between two requests (PyGithub's ``seconds_between_requests``);
            0 sends them back to back.
        backoff: seconds before the first retry of a 5xx or connection error, doubled on
            each further retry; 0 retries at once.
        retries: how many times a 5xx or connection error is retried.
        secondary_retries: how many secondary-limit answers are waited out per request.
        secondary_wait: seconds to wait on a secondary limit without ``Retry-After``.
        max_wait: the longest single wait (secondary limit, or the primary reset with
            ``wait``); a longer one stops the sync as if ``wait`` were off.
        per_page: items per request (GitHub's maximum is 100).
        overlap: how far before the last seen update the next request starts.
        timeout: seconds before one request is given up.
    """

    full: bool = False
    wait: bool = False
    throttle: float = 0.25
    backoff: float = 1.0
    retries: int = 4
    secondary_retries: int = 3
    secondary_wait: float = 60.0
    max_wait: float = 3900.0
    per_page: int = PER_PAGE
    overlap: timedelta = OVERLAP
    timeout: int = 15

    def __post_init__(self) -> None:
        if self.throttle < 0 or self.backoff < 0 or self.max_wait < 0:
            raise ValueError("throttle, backoff and max_wait cannot be negative")
        if not 1 <= self.per_page <= PER_PAGE:
            raise ValueError(f"per_page must be 1 to {PER_PAGE}")
        if self.retries < 0 or self.secondary_retries < 0:
            raise ValueError("retries cannot be negative")
