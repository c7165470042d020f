"""The GitHub sync engine: issue and comment feeds read by ``since``, saved page by page.

This module knows GitHub's REST conventions but not PyGithub: it talks to a
:class:`Transport` (``chatbot.sources.github`` provides the PyGithub one) and writes to
the store. For each repository it reads two feeds, in this order:

* ``GET /repos/{o}/{r}/issues?state=all&sort=updated&direction=asc&per_page=100[&since=]``
* ``GET /repos/{o}/{r}/issues/comments?sort=updated&direction=asc&per_page=100[&since=]``

How a feed is read (its state lives in store meta, one JSON value per repo and feed):

* **Keyset pages.** After a page is saved, the next request asks again with
  ``since`` = the newest ``updated_at`` of that page minus the overlap, rather than
  following ``page=2``. An issue that is edited while the feed is read moves to the end
  and is read again; nothing shifts past the reader, so nothing is dropped, and saving
  is an upsert, so nothing is duplicated. Only when a whole page shares one minute does
  the reader follow the ``Link`` ``rel="next"`` URL.
* **Saved before advanced.** The state (next ``since``, newest ``updated_at`` seen) is
  written after the page's tickets or comments are saved, so an interrupted sync
  re-reads at most one page and the next sync goes on from there.
* **Conditional head request.** When a sync ends, the ``since`` of its last request
  becomes the next sync's first request, and that response's ``ETag`` is kept: if
  nothing changed, GitHub answers ``304 Not Modified``. The items already saved at
  their current ``updated_at`` are remembered (``seen``), so the overlap re-read is not
  saved or counted again.
* **Comments wait for their issue.** A comment created after the newest issue update
  the issues feed has read may belong to an issue not stored yet; the comments feed
  stops before it and reads it next time, instead of losing it (``save_comments``
  skips comments of unknown issues, which is right for pull-request comments).

Rate limits: ``x-ratelimit-*`` headers are read on every response. When the primary
limit is used up the sync stops cleanly (:class:`RateLimited`, with the reset time) or,
with ``wait``, sleeps until the reset; a secondary limit (403/429 with ``Retry-After``)
is waited out; 5xx answers and connection errors are retried with exponential backoff.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import structlog

from chatbot.core.errors import SourceUnavailable
from chatbot.core.models import Comment, Ticket
from chatbot.core.ports import SaveStats
from chatbot.sources.rest import (
    MappingError,
    comment_from_rest,
    issue_number_of,
    parse_time,
    ticket_from_rest,
)

log = structlog.get_logger(__name__)

PER_PAGE = 100
OVERLAP = timedelta(minutes=1)
MAX_RESET_WAITS = 2
META_PREFIX = "github.sync"
FeedName = Literal["issues", "comments"]
_LINK = re.compile(r'<(?P<url>[^>]+)>\s*;\s*rel="(?P<rel>[^"]+)"')
_PAGE = re.compile(r"[?&]page=(\d+)")


# -- wire ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Response:
    """One GitHub answer: status, lower-cased headers and the parsed JSON body."""

    status: int
    headers: Mapping[str, str]
    data: Any = None

    def link(self, rel: str) -> str | None:
        """The URL of the ``Link`` header's relation ``rel`` (``next``, ``last``), if any."""
        for match in _LINK.finditer(self.headers.get("link", "")):
            if match.group("rel") == rel:
                return match.group("url")
        return None

    @property
    def message(self) -> str:
        """The ``message`` of an error body, or ``""``."""
        if isinstance(self.data, Mapping):
            return str(self.data.get("message") or "")
        return ""


class TransportError(Exception):
    """The request did not get an HTTP answer (connection refused, reset, timed out)."""


class Transport(Protocol):
    """Sends GET requests to the GitHub REST API; never raises for an HTTP status."""

    @property
    def api_url(self) -> str:
        """The API root, e.g. ``https://api.github.com``; sync states are tied to it."""
        ...

    def get(
        self, path: str, params: Mapping[str, str] | None = None, etag: str | None = None
    ) -> Response:
        """GET ``path`` (relative to the API root, or a full URL from a ``Link`` header).

        Raises:
            TransportError: if no HTTP answer came back.
        """
        ...


class SyncStore(Protocol):
    """What the sync needs from the ticket store."""

    def save_tickets(self, items: Iterable[Ticket], *, with_comments: bool = True) -> SaveStats:
        """Insert or replace tickets (labels and fields always, comments if asked)."""
        ...

    def save_comments(self, repo: str, items: Iterable[tuple[int, Comment]]) -> int:
        """Insert or replace comments given as (issue number, comment); unknown issues skipped."""
        ...

    def get_meta(self, key: str) -> str | None:
        """A stored setting of the store itself."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting of the store itself."""
        ...

    def exclusive(
        self, name: str, *, wait: bool = True, on_wait: Callable[[], None] | None = None
    ) -> AbstractContextManager[bool]:
        """A lock one process holds at a time; yields False if ``wait`` is off and it is taken."""
        ...


# -- errors ----------------------------------------------------------------------------


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


# -- rate limits -----------------------------------------------------------------------


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


# -- results ---------------------------------------------------------------------------


@dataclass(kw_only=True, slots=True)
class RepoReport:
    """What the sync did for one repository."""

    repo: str
    new: int = 0
    updated: int = 0
    comments: int = 0
    pull_requests: int = 0
    skipped: int = 0
    complete: bool = False
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


# -- feed state ------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    """A time as GitHub writes it: ``2025-04-21T09:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta_key(repo: str, feed: FeedName) -> str:
    """The store meta key that holds one feed's state."""
    return f"{META_PREFIX}:{repo.lower()}:{feed}"


@dataclass(kw_only=True, slots=True)
class FeedState:
    """Where a feed stands: kept as JSON in store meta between syncs.

    Attributes:
        api: the API root the state belongs to; another root starts afresh.
        since: ``since`` of the next sync's first request (None: from the beginning).
        etag: the ``ETag`` of the answer to exactly that request, if it was read whole.
        cursor: the newest ``updated_at`` read and saved.
        seen: ``updated_at`` of the items at or after ``since`` already saved, by key.
    """

    api: str
    since: str | None = None
    etag: str | None = None
    cursor: str | None = None
    seen: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str | None, api: str) -> FeedState:
        """The state stored as ``text``; a fresh one if absent, unreadable or for another API."""
        fresh = cls(api=api)
        if not text:
            return fresh
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return fresh
        if not isinstance(data, dict) or data.get("api") != api:
            return fresh
        seen = data.get("seen")
        return cls(
            api=api,
            since=data.get("since") if isinstance(data.get("since"), str) else None,
            etag=data.get("etag") if isinstance(data.get("etag"), str) else None,
            cursor=data.get("cursor") if isinstance(data.get("cursor"), str) else None,
            seen={str(k): str(v) for k, v in seen.items()} if isinstance(seen, dict) else {},
        )

    def dump(self) -> str:
        """The state as compact JSON."""
        return json.dumps(
            {
                "api": self.api,
                "since": self.since,
                "etag": self.etag,
                "cursor": self.cursor,
                "seen": self.seen,
            },
            separators=(",", ":"),
        )

    def cursor_time(self) -> datetime | None:
        """``cursor`` as a time."""
        return parse_time(self.cursor, "cursor") if self.cursor else None

    def prune(self) -> None:
        """Forget seen items older than ``since``: no later request returns them unchanged."""
        if self.since is None:
            return
        start = parse_time(self.since, "since")
        self.seen = {k: v for k, v in self.seen.items() if parse_time(v, "seen") >= start}


@dataclass(kw_only=True, slots=True)
class _Page:
    """What reading one page gave: the items handled, and whether the feed must stop."""

    handled: list[tuple[str, datetime]] = field(default_factory=list)
    deferred: bool = False


# -- the engine ------------------------------------------------------------------------


class GitHubSync:
    """Reads the issue and comment feeds of repositories into a store."""

    def __init__(
        self,
        transport: Transport,
        store: SyncStore,
        *,
        options: SyncOptions | None = None,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = transport
        self.store = store
        self.options = options or SyncOptions()
        self.progress = progress
        self.sleep = sleep
        self.clock = clock
        self.report = SyncReport()

    # -- running -----------------------------------------------------------------------

    def run(self, repos: Sequence[str]) -> SyncReport:
        """Sync every repository; stops early, keeping what was saved, at the rate limit."""
        for repo in repos:
            result = RepoReport(repo=repo)
            self.report.repos.append(result)
            try:
                self._sync_repo(repo, result)
            except RepoUnavailable as exc:
                result.error = exc.reason
                log.warning("github_repo_unavailable", repo=repo, status=exc.status)
            except RateLimited as exc:
                self.report.stopped_until = exc.reset_at
                log.warning(
                    "github_sync_stopped",
                    repo=repo,
                    kind=exc.kind,
                    resumes_at=format_time(exc.reset_at),
                )
                break
        log.info(
            "github_sync_done",
            repos=len(self.report.repos),
            new=self.report.new,
            updated=self.report.updated,
            comments=self.report.comments,
            requests=self.report.requests,
            not_modified=self.report.not_modified,
            rate_remaining=self.report.rate.remaining if self.report.rate else None,
        )
        return self.report

    def _sync_repo(self, repo: str, result: RepoReport) -> None:
        issues = self._load_state(repo, "issues")
        self._read_feed(repo, "issues", issues, result, cap=None)
        comments = self._load_state(repo, "comments")
        self._read_feed(repo, "comments", comments, result, cap=issues.cursor_time())
        result.complete = True

    def _load_state(self, repo: str, feed: FeedName) -> FeedState:
        api = self.transport.api_url
        if self.options.full:
            return FeedState(api=api)
        return FeedState.load(self.store.get_meta(meta_key(repo, feed)), api)

    # -- one feed ----------------------------------------------------------------------

    def _read_feed(
        self,
        repo: str,
        feed: FeedName,
        state: FeedState,
        result: RepoReport,
        cap: datetime | None,
    ) -> None:
        """Read one feed from ``state.since`` to its end, saving page by page."""
        path = f"/repos/{repo}/issues" if feed == "issues" else f"/repos/{repo}/issues/comments"
        since = state.since
        next_url: str | None = None
        head = True
        done = 0
        while True:
            etag = state.etag if head else None
            if next_url is not None:
                response = self._get(repo, next_url, None, etag)
            else:
                response = self._get(repo, path, self._params(feed, since), etag)
            if response.status == 304:
                self._notify(repo, feed, done, done, finished=True)
                return
            items = response.data
            if not isinstance(items, list):
                raise SourceUnavailable("GitHub", f"{path} did not answer with a list")
            if feed == "issues":
                page = self._save_issues(repo, items, state, result)
            else:
                page = self._save_comments(repo, items, state, result, cap)
            done += len(page.handled)
            newest = _remember(state, page)
            more = response.link("next")
            if page.deferred or more is None:
                whole = next_url is None and not page.deferred
                self._finish(repo, feed, state, since, response, reusable=whole)
                self._notify(repo, feed, done, done, finished=True)
                return
            advanced = self._advance(since, newest)
            if advanced == since:
                next_url = more
            else:
                since, next_url = advanced, None
            state.since, state.etag = since, None
            state.prune()
            self.store.set_meta(meta_key(repo, feed), state.dump())
            self._notify(repo, feed, done, done + self._left(response))
            head = False

    def _params(self, feed: FeedName, since: str | None) -> dict[str, str]:
        params = {"sort": "updated", "direction": "asc", "per_page": str(self.options.per_page)}
        if feed == "issues":
            params["state"] = "all"
        if since is not None:
            params["since"] = since
        return params

    def _advance(self, since: str | None, newest: datetime | None) -> str | None:
        """The next page's ``since``: the newest update read, less the overlap."""
        if newest is None:
            return since
        candidate = newest - self.options.overlap
        if since is not None and candidate <= parse_time(since, "since"):
            return since
        return format_time(candidate)

    def _finish(
        self,
        repo: str,
        feed: FeedName,
        state: FeedState,
        since: str | None,
        response: Response,
        *,
        reusable: bool,
    ) -> None:
        """Store where the next sync starts and, if this answer was read whole, its ETag.

        The answer's ETag fits the next sync's first request only if that request is the
        same (same ``since``, first page) and every item of the answer was handled.
        """
        start = since
        cursor = state.cursor_time()
        if cursor is not None and start is not None:
            latest_start = cursor - self.options.overlap
            if parse_time(start, "since") > latest_start:
                start = format_time(latest_start)
        state.since = start
        state.etag = response.headers.get("etag") if reusable and start == since else None
        state.prune()
        self.store.set_meta(meta_key(repo, feed), state.dump())

    def _left(self, response: Response) -> int:
        last = response.link("last")
        match = _PAGE.search(last) if last else None
        pages = int(match.group(1)) if match else 1
        return pages * self.options.per_page

    def _notify(
        self, repo: str, feed: FeedName, done: int, total: int | None, *, finished: bool = False
    ) -> None:
        if self.progress is not None:
            self.progress(
                ProgressEvent(repo=repo, feed=feed, done=done, total=total, finished=finished)
            )

    # -- saving pages ------------------------------------------------------------------

    def _save_issues(
        self, repo: str, items: list[Any], state: FeedState, result: RepoReport
    ) -> _Page:
        page = _Page()
        tickets: list[Ticket] = []
        for item in items:
            key, moment = _identity(item, "number")
            if key is None or moment is None:
                result.skipped += 1
                continue
            page.handled.append((key, moment))
            if state.seen.get(key) == format_time(moment):
                continue
            if item.get("pull_request"):
                result.pull_requests += 1
                continue
            try:
                tickets.append(ticket_from_rest(item, repo=repo, comments=()))
            except (MappingError, ValueError) as exc:
                result.skipped += 1
                log.warning("github_issue_skipped", repo=repo, number=key, problem=str(exc))
        if tickets:
            stats = self.store.save_tickets(tickets, with_comments=False)
            result.new += stats.new
            result.updated += stats.updated
            result.skipped += len(stats.rejected)
        return page

    def _save_comments(
        self,
        repo: str,
        items: list[Any],
        state: FeedState,
        result: RepoReport,
        cap: datetime | None,
    ) -> _Page:
        page = _Page()
        pairs: list[tuple[int, Comment]] = []
        for item in items:
            key, moment = _identity(item, "id")
            if key is None or moment is None:
                result.skipped += 1
                continue
            created = _time_or_none(item.get("created_at"))
            if cap is None or created is None or created > cap:
                page.deferred = True
                break
            page.handled.append((key, moment))
            if state.seen.get(key) == format_time(moment):
                continue
            number = issue_number_of(item.get("issue_url"))
            try:
                if number is None:
                    raise MappingError("comment has no usable issue_url")
                pairs.append((number, comment_from_rest(item)))
            except (MappingError, ValueError) as exc:
                result.skipped += 1
                log.warning("github_comment_skipped", repo=repo, comment=key, problem=str(exc))
        if pairs:
            result.comments += self.store.save_comments(repo, pairs)
        return page

    # -- requests ----------------------------------------------------------------------

    def _get(
        self, repo: str, path: str, params: Mapping[str, str] | None, etag: str | None
    ) -> Response:
        """One GET with the retry and rate-limit policy; 200 and 304 come back."""
        failures = secondary = resets = 0
        while True:
            self._respect_known_limit()
            try:
                response = self.transport.get(path, params, etag)
            except TransportError as exc:
                self.report.requests += 1
                if failures >= self.options.retries:
                    raise SourceUnavailable(
                        "GitHub", f"no answer from {self.transport.api_url}: {exc}"
                    ) from exc
                self._back_off(failures, path, "connection")
                failures += 1
                continue
            self.report.requests += 1
            self.report.rate = RateLimit.from_headers(response.headers) or self.report.rate
            status = response.status
            if status == 304:
                self.report.not_modified += 1
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
            raise self._error(repo, path, response)

    def _respect_known_limit(self) -> None:
        rate = self.report.rate
        if rate is not None and rate.remaining <= 0 and rate.reset_at.timestamp() > self.clock():
            self._wait_for_reset(rate.reset_at)

    def _wait_for_reset(self, reset_at: datetime) -> None:
        seconds = reset_at.timestamp() - self.clock() + 1
        if not self.options.wait or seconds > self.options.max_wait:
            raise RateLimited(reset_at)
        log.warning("github_rate_limit_wait", until=format_time(reset_at), seconds=round(seconds))
        self.sleep(max(seconds, 0.0))
        self.report.rate = None

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

    def _error(self, repo: str, path: str, response: Response) -> SourceUnavailable:
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


# -- small helpers ---------------------------------------------------------------------


def _remember(state: FeedState, page: _Page) -> datetime | None:
    """Mark a saved page's items as seen and move the cursor; returns the page's newest."""
    newest = max((moment for _, moment in page.handled), default=None)
    if newest is not None:
        state.seen.update((key, format_time(moment)) for key, moment in page.handled)
        if state.cursor is None or newest > parse_time(state.cursor, "cursor"):
            state.cursor = format_time(newest)
    return newest


def _time_or_none(value: Any) -> datetime | None:
    try:
        return parse_time(value, "time")
    except MappingError:
        return None


def _identity(item: Any, key_field: str) -> tuple[str | None, datetime | None]:
    """An item's key (issue number or comment id) and ``updated_at``."""
    if not isinstance(item, Mapping):
        return None, None
    key = item.get(key_field)
    if not isinstance(key, int) or isinstance(key, bool):
        return None, None
    return str(key), _time_or_none(item.get("updated_at"))


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
