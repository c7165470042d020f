"""The GitHub sync engine: issue and comment feeds read by ``since``, saved page by page.

This module knows GitHub's REST conventions but not PyGithub: it talks to a
:class:`~chatbot.sources.github.wire.Transport` (``transport.py`` provides the PyGithub
one) and writes to the store. For each repository it reads two feeds, in this order:

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

Rate limits and retries are :mod:`chatbot.sources.github.ratelimit`'s; feed states are
:mod:`chatbot.sources.github.cursors`'.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatbot.core.errors import SourceUnavailable
from chatbot.core.models import Comment, Ticket
from chatbot.core.ports import TicketStore
from chatbot.lazylog import get_logger
from chatbot.sources.github.cursors import FeedState, meta_key, remember
from chatbot.sources.github.options import SyncOptions
from chatbot.sources.github.ratelimit import RateLimited, RepoUnavailable, Requester
from chatbot.sources.github.report import Progress, ProgressEvent, RepoReport, SyncReport
from chatbot.sources.github.wire import FeedName, Response, Transport, format_time
from chatbot.sources.rest import (
    MappingError,
    comment_from_rest,
    issue_number_of,
    parse_time,
    ticket_from_rest,
)

log = get_logger(__name__)

_PAGE = re.compile(r"[?&]page=(\d+)")


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
        store: TicketStore,
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
        self.report = SyncReport()
        self.requester = Requester(transport, self.options, sleep=sleep, clock=clock)

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
            newest = remember(state, page.handled)
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
        """One GET through the requester; the report's request counts follow it."""
        try:
            return self.requester.get(repo, path, params, etag)
        finally:
            self.report.requests = self.requester.requests
            self.report.not_modified = self.requester.not_modified
            self.report.rate = self.requester.rate


# -- small helpers ---------------------------------------------------------------------


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
