"""What a GitHub sync did and how far it has got: the summary, the problems, progress events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from chatbot.sources.github.ratelimit import RateLimit
from chatbot.sources.github.wire import FeedName


@dataclass(kw_only=True, slots=True)
class RepoReport:
    """What the sync did for one repository."""

    repo: str
    new: int = 0
    updated: int = 0
    comments: int = 0
    pull_requests: int = 0
    skipped: int = 0
    """Records GitHub sent that could not be kept (each logged with its reference)."""
    error: str | None = None


@dataclass(kw_only=True, slots=True)
class SyncReport:
    """What a sync did, for the summary line and the logs."""

    repos: list[RepoReport] = field(default_factory=list)
    requests: int = 0
    not_modified: int = 0
    rate: RateLimit | None = None
    stopped_until: datetime | None = None
    demo_cleared: bool = False
    skipped: bool = False
    """True when another process was syncing and this sync did not run."""

    @property
    def new(self) -> int:
        """Issues seen for the first time."""
        return sum(r.new for r in self.repos)

    @property
    def updated(self) -> int:
        """Issues already in the store that changed."""
        return sum(r.updated for r in self.repos)

    @property
    def comments(self) -> int:
        """Comments saved (new or edited)."""
        return sum(r.comments for r in self.repos)

    @property
    def bad_records(self) -> int:
        """Issues and comments skipped as unusable."""
        return sum(r.skipped for r in self.repos)

    @property
    def failed(self) -> list[RepoReport]:
        """Repositories that could not be read."""
        return [r for r in self.repos if r.error]

    def summary(self) -> str:
        """One line: issues new and updated, comments, requests, rate limit left."""
        count = len(self.repos)
        line = (
            f"synced {count} repositor{'y' if count == 1 else 'ies'}:"
            f" {self.new} new and {self.updated} updated issues, {self.comments} comments;"
            f" {self.requests} request{'' if self.requests == 1 else 's'}"
            f" ({self.not_modified} not modified)"
        )
        if self.bad_records:
            line += f"; {self.bad_records} bad record(s) skipped (see the log)"
        if self.rate is not None:
            reset = self.rate.reset_at.strftime("%H:%M UTC")
            line += f"; rate limit {self.rate.remaining}/{self.rate.limit} left, resets {reset}"
        return line

    def problems(self) -> list[str]:
        """Lines for what did not go right: a stop at the rate limit, unreadable repos."""
        lines = [f"error: {r.repo}: {r.error}" for r in self.failed]
        if self.stopped_until is not None:
            when = self.stopped_until.strftime("%Y-%m-%d %H:%M:%S UTC")
            lines.append(
                f"stopped early: the GitHub rate limit is used up until {when}; what was"
                " fetched is saved, and `chatbot sync` goes on from there after that time"
                " (or run it with --wait)"
            )
        return lines


@dataclass(frozen=True, kw_only=True, slots=True)
class ProgressEvent:
    """How far one feed of one repository has got; ``total`` is an estimate or None."""

    repo: str
    feed: FeedName
    done: int
    total: int | None
    finished: bool = False


Progress = Callable[[ProgressEvent], None]
