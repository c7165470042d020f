"""A fake GitHub REST API on 127.0.0.1 that speaks GitHub's wire format.

It serves repositories of issue records (the licensed fixtures under
``tests/fixtures/github/``, or a resampled set of any size) with the real JSON shapes,
headers and behaviours the sync depends on:

* ``GET /repos/{o}/{r}/issues`` with ``state``, ``since``, ``sort``, ``direction``,
  ``per_page`` (max 100) and ``page``; pull requests are listed too, with a
  ``pull_request`` key, as GitHub does;
* ``GET /repos/{o}/{r}/issues/comments`` with ``since``, ``sort``, ``direction``;
  ``/issues/{n}``, ``/issues/{n}/comments``, ``/issues/{n}/reactions``, ``/rate_limit``;
  ``POST /app/installations/{id}/access_tokens`` for GitHub App sign-in;
* ``Link`` headers (``next``/``last``/``first``/``prev``) whose URLs carry this server's
  own host and port, weak ``ETag`` headers and ``304`` on ``If-None-Match``;
* ``x-ratelimit-*`` headers with a budget per credential (60 without one); a used-up
  budget answers ``403`` "API rate limit exceeded" with ``x-ratelimit-remaining: 0``;
  304 answers to authorized requests are free, as on GitHub;
* injected faults: 5xx answers, secondary limits (403/429 with ``Retry-After``);
* a log of every request it received.

Times move with a fake clock: every change a test makes (edit, close, comment) happens
one minute after the previous one, so ``updated_at`` values are distinct and increasing.
An optional path prefix (``/api/v3``) makes it look like GitHub Enterprise Server.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import parse_qsl, urlencode, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github"
FIXTURE_REPOS = {
    "webcompat/web-bugs": "webcompat-web-bugs.issues.jsonl",
    "microsoft/vscode-mssql": "vscode-mssql.issues.jsonl",
}
TEAM = ("support-alex", "support-sam", "support-kim")
REACTIONS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")
DOCS = "https://docs.github.com/rest"


class UserJSON(TypedDict, total=False):
    """A ``user`` object as GitHub returns it (the fields the sync reads, and a few more)."""

    login: str
    id: int
    node_id: str
    avatar_url: str
    url: str
    html_url: str
    type: str
    site_admin: bool


class CommentJSON(TypedDict):
    """An issue comment as ``GET /repos/{o}/{r}/issues/comments`` returns it."""

    url: str
    html_url: str
    issue_url: str
    id: int
    node_id: str
    user: UserJSON
    created_at: str
    updated_at: str
    author_association: str
    body: str
    reactions: dict[str, Any]
    performed_via_github_app: None


@dataclass(frozen=True, slots=True)
class Request:
    """One request the fake received, and what it answered."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    if_none_match: str | None
    authorization: str | None


@dataclass(slots=True)
class Fault:
    """An answer to give instead of the real one, ``times`` times."""

    status: int
    times: int = 1
    retry_after: int | None = None
    message: str = "Server Error"
    path: str | None = None


@dataclass(slots=True)
class Budget:
    """One credential's primary rate limit."""

    limit: int
    remaining: int
    reset: int

    @property
    def used(self) -> int:
        """Requests counted so far in this window."""
        return self.limit - self.remaining


@dataclass(slots=True)
class Repo:
    """One repository: issues (and pull requests) by number, comments by id."""

    name: str
    id: int
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, CommentJSON] = field(default_factory=dict)
    gone: set[int] = field(default_factory=set)


def iso(moment: datetime) -> str:
    """GitHub's time format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """A GitHub time string as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _sort_key(field_name: str) -> Callable[[dict[str, Any]], tuple[Any, int]]:
    def key(item: dict[str, Any]) -> tuple[Any, int]:
        return (item[field_name], item["id"])

    return key


class FakeGitHub:
    """The fake server; use as a context manager or call :meth:`start` and :meth:`stop`."""

    def __init__(
        self,
        *,
        prefix: str = "",
        rate_limit: int = 5000,
        reset_in: int = 3600,
        tokens: set[str] | None = None,
    ) -> None:
        self.prefix = prefix.rstrip("/")
        self.rate_limit = rate_limit
        self.reset_in = reset_in
        self.tokens = tokens
        self.repos: dict[str, Repo] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.on_request: Callable[[Request], None] | None = None
        self.app_tokens: dict[str, int] = {}
        self._budgets: dict[str, Budget] = {}
        self._default_remaining: int | None = None
        self._lock = threading.RLock()
        self._now = datetime(2020, 1, 1, tzinfo=UTC)
        self._next_id = 5_000_000_000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The API root to set as ``GITHUB_API_URL``."""
        return self.origin + self.prefix

    # -- data ------------------------------------------------------------------------

    def tick(self) -> datetime:
        """Advance the fake clock by a minute and return the new time."""
        with self._lock:
            self._now += timedelta(minutes=1)
            return self._now

    def _see(self, moment: datetime) -> None:
        if moment > self._now:
            self._now = moment

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def repo(self, name: str) -> Repo:
        """The repository ``name``, created empty if new."""
        with self._lock:
            if name not in self.repos:
                self.repos[name] = Repo(name=name, id=1000 + len(self.repos))
            return self.repos[name]

    def load_fixtures(self, *, pull_requests: int = 3, seed: int = 7) -> FakeGitHub:
        """Serve both fixture repositories, with comments and a few pull requests each."""
        for name, filename in FIXTURE_REPOS.items():
            records = _read_jsonl(FIXTURES / filename)
            rng = random.Random(f"{seed}:{name}")
            for record in records:
                self._add_record(name, record, rng)
            for _ in range(pull_requests):
                self.add_pull_request(name, comments=1)
        return self

    def synthesize(
        self, name: str, *, issues: int, comments: int, seed: int = 11, days: int = 730
    ) -> FakeGitHub:
        """Serve ``issues`` issues with ``comments`` comments in all, resampled from the fixtures.

        Titles, bodies, labels, authors and states come from randomly drawn fixture
        records; numbers, times and comment threads are new.
        """
        pool = [r for f in FIXTURE_REPOS.values() for r in _read_jsonl(FIXTURES / f)]
        rng = random.Random(seed)
        counts = [0] * issues
        for _ in range(comments):
            counts[rng.randrange(issues)] += 1
        start = datetime(2023, 1, 1, tzinfo=UTC)
        span = timedelta(days=days).total_seconds()
        created = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(issues))
        for number, (when, count) in enumerate(zip(created, counts, strict=True), 1):
            record = dict(rng.choice(pool))
            record.update(number=number, created_at=iso(when), comments=count)
            record.pop("id", None)
            record.pop("node_id", None)
            closed = record.get("state") == "closed"
            end = when + timedelta(days=rng.uniform(0.1, 40))
            record["closed_at"] = iso(end) if closed else None
            record["updated_at"] = None
            self._add_record(name, record, rng)
        return self

    def _add_record(self, name: str, record: dict[str, Any], rng: random.Random) -> None:
        repo = self.repo(name)
        issue = self._complete_issue(repo, record)
        created = parse_iso(issue["created_at"])
        closed = parse_iso(issue["closed_at"]) if issue["closed_at"] else None
        updated = parse_iso(issue["updated_at"]) if issue.get("updated_at") else None
        end = updated or closed or created + timedelta(days=rng.uniform(1, 30))
        span = max((end - created).total_seconds(), 60.0)
        times = sorted(
            created + timedelta(seconds=rng.uniform(30, span)) for _ in range(issue["comments"])
        )
        reporter = issue["user"]
        for i, moment in enumerate(times):
            if i % 2 == 0:
                user = _user(TEAM[rng.randrange(len(TEAM))])
                association = "MEMBER"
            else:
                user, association = reporter, issue["author_association"]
            comment = self._comment(repo, issue["number"], user, association, moment, rng)
            repo.comments[comment["id"]] = comment
        newest = max([created, *(t for t in times), *(m for m in [closed] if m)])
        if updated is None or updated < newest:
            issue["updated_at"] = iso(newest)
        repo.issues[issue["number"]] = issue
        self._see(parse_iso(issue["updated_at"]))

    def _complete_issue(self, repo: Repo, record: dict[str, Any]) -> dict[str, Any]:
        """A full REST issue object from a fixture record, URLs on this server."""
        number = int(record["number"])
        api = f"{self._api_placeholder()}/repos/{repo.name}"
        labels = [_label(api, label) for label in record.get("labels") or []]
        reactions = record.get("reactions") or {}
        total = int(reactions.get("total_count") or 0)
        state = record.get("state") or "open"
        closed = state == "closed"
        issue: dict[str, Any] = {
            "url": f"{api}/issues/{number}",
            "repository_url": api,
            "labels_url": f"{api}/issues/{number}/labels{{/name}}",
            "comments_url": f"{api}/issues/{number}/comments",
            "events_url": f"{api}/issues/{number}/events",
            "html_url": f"https://github.com/{repo.name}/issues/{number}",
            "id": record.get("id") or repo.id * 10_000_000 + number,
            "node_id": record.get("node_id") or f"I_kwFake{repo.id}_{number}",
            "number": number,
            "title": record["title"],
            "user": _user(record["user"]["login"], record["user"].get("type", "User")),
            "labels": labels,
            "state": state,
            "locked": False,
            "assignee": record.get("assignee"),
            "assignees": record.get("assignees") or [],
            "milestone": record.get("milestone"),
            "comments": int(record.get("comments") or 0),
            "created_at": record["created_at"],
            "updated_at": record.get("updated_at"),
            "closed_at": record.get("closed_at") if closed else None,
            "author_association": record.get("author_association") or "NONE",
            "active_lock_reason": None,
            "body": record.get("body"),
            "reactions": _reactions(f"{api}/issues/{number}", total),
            "timeline_url": f"{api}/issues/{number}/timeline",
            "performed_via_github_app": None,
            "state_reason": record.get("state_reason") or ("completed" if closed else None),
        }
        return issue

    def _comment(
        self,
        repo: Repo,
        number: int,
        user: UserJSON,
        association: str,
        moment: datetime,
        rng: random.Random | None = None,
        body: str | None = None,
    ) -> CommentJSON:
        api = f"{self._api_placeholder()}/repos/{repo.name}"
        cid = self._new_id()
        if body is None:
            body = f"Synthetic comment {cid} on #{number}" + (
                " (thanks for the report)" if rng and rng.random() < 0.5 else ""
            )
        return {
            "url": f"{api}/issues/comments/{cid}",
            "html_url": f"https://github.com/{repo.name}/issues/{number}#issuecomment-{cid}",
            "issue_url": f"{api}/issues/{number}",
            "id": cid,
            "node_id": f"IC_kwFake{cid}",
            "user": user,
            "created_at": iso(moment),
            "updated_at": iso(moment),
            "author_association": association,
            "body": body,
            "reactions": _reactions(f"{api}/issues/comments/{cid}", 0),
            "performed_via_github_app": None,
        }

    @staticmethod
    def _api_placeholder() -> str:
        return "{API}"

    # -- changes made by tests ---------------------------------------------------------

    def open_issue(
        self,
        name: str,
        title: str,
        body: str = "",
        *,
        login: str = "reporter",
        association: str = "NONE",
        labels: tuple[str, ...] = (),
        bot: bool = False,
    ) -> int:
        """Open a new issue now; returns its number."""
        with self._lock:
            repo = self.repo(name)
            number = max(repo.issues, default=0) + 1
            now = iso(self.tick())
            record = {
                "number": number,
                "title": title,
                "body": body,
                "state": "open",
                "user": {"login": login, "type": "Bot" if bot else "User"},
                "author_association": association,
                "created_at": now,
                "updated_at": now,
                "closed_at": None,
                "comments": 0,
                "labels": [{"name": n} for n in labels],
            }
            repo.issues[number] = self._complete_issue(repo, record)
            return number

    def edit_issue(self, name: str, number: int, **changes: Any) -> None:
        """Change fields of an issue (title, body, labels as names...) now."""
        with self._lock:
            repo = self.repos[name]
            issue = repo.issues[number]
            if "labels" in changes:
                api = f"{self._api_placeholder()}/repos/{name}"
                changes["labels"] = [_label(api, {"name": n}) for n in changes["labels"]]
            issue.update(changes)
            issue["updated_at"] = iso(self.tick())

    def close_issue(self, name: str, number: int, reason: str = "completed") -> None:
        """Close an issue now."""
        with self._lock:
            now = iso(self.tick())
            issue = self.repos[name].issues[number]
            issue.update(state="closed", state_reason=reason, closed_at=now, updated_at=now)

    def add_comment(
        self,
        name: str,
        number: int,
        body: str = "a comment",
        *,
        login: str = "support-alex",
        association: str = "MEMBER",
        bot: bool = False,
    ) -> int:
        """Comment on an issue (or pull request) now; returns the comment id."""
        with self._lock:
            repo = self.repos[name]
            now = self.tick()
            user = _user(login, "Bot" if bot else "User")
            comment = self._comment(repo, number, user, association, now, body=body)
            repo.comments[comment["id"]] = comment
            issue = repo.issues[number]
            issue["comments"] += 1
            issue["updated_at"] = iso(now)
            return comment["id"]

    def edit_comment(self, name: str, comment_id: int, body: str) -> None:
        """Edit a comment now (its issue's ``updated_at`` does not move, as on GitHub)."""
        with self._lock:
            comment = self.repos[name].comments[comment_id]
            comment["body"] = body
            comment["updated_at"] = iso(self.tick())

    def add_pull_request(self, name: str, *, comments: int = 0) -> int:
        """Open a pull request (listed among the issues with a ``pull_request`` key)."""
        with self._lock:
            repo = self.repo(name)
            number = max(repo.issues, default=0) + 1
            now = self.tick()
            record = {
                "number": number,
                "title": f"Pull request {number}",
                "body": "Fixes a thing.",
                "state": "open",
                "user": {"login": "contributor", "type": "User"},
                "author_association": "CONTRIBUTOR",
                "created_at": iso(now),
                "updated_at": iso(now),
                "closed_at": None,
                "comments": 0,
            }
            pr = self._complete_issue(repo, record)
            web = f"https://github.com/{name}/pull/{number}"
            pr["html_url"] = web
            pr["draft"] = False
            pr["pull_request"] = {
                "url": f"{self._api_placeholder()}/repos/{name}/pulls/{number}",
                "html_url": web,
                "diff_url": f"{web}.diff",
                "patch_url": f"{web}.patch",
                "merged_at": None,
            }
            repo.issues[number] = pr
        for _ in range(comments):
            self.add_comment(name, number, "Looks good to me.")
        return number

    def delete_issue(self, name: str, number: int) -> None:
        """Delete an issue: it leaves every list, and ``GET`` on it answers 410 Gone."""
        with self._lock:
            repo = self.repos[name]
            del repo.issues[number]
            repo.gone.add(number)
            for cid in [
                c for c, v in repo.comments.items() if v["issue_url"].endswith(f"/{number}")
            ]:
                del repo.comments[cid]

    # -- faults and limits ---------------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        message: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests (to paths containing ``path``) with ``status``."""
        default = (
            "You have exceeded a secondary rate limit."
            if retry_after is not None
            else ("Server Error")
        )
        self.faults.append(
            Fault(
                status=status,
                times=times,
                retry_after=retry_after,
                message=message or default,
                path=path,
            )
        )

    def set_budget(self, remaining: int) -> None:
        """Leave ``remaining`` requests in the current window of every credential."""
        with self._lock:
            self._default_remaining = remaining
            for budget in self._budgets.values():
                budget.remaining = max(0, min(remaining, budget.limit))

    def reset_rate_limit(self) -> None:
        """Start a new rate-limit window: every budget is full again."""
        with self._lock:
            self._budgets.clear()
            self._default_remaining = None

    def _budget(self, key: str) -> Budget:
        if key not in self._budgets:
            limit = self.rate_limit if key else 60
            remaining = limit
            if self._default_remaining is not None:
                remaining = min(limit, self._default_remaining)
            self._budgets[key] = Budget(limit, remaining, int(time.time()) + self.reset_in)
        return self._budgets[key]

    # -- what happened -----------------------------------------------------------------

    def requests_to(self, suffix: str) -> list[Request]:
        """Requests whose path ends with ``suffix``."""
        return [r for r in self.requests if r.path.endswith(suffix)]

    def clear_log(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self.requests.clear()

    def issues_of(self, name: str) -> list[dict[str, Any]]:
        """The issues (not pull requests) of a repository, rendered for the wire."""
        return [
            self._render(i) for i in self.repos[name].issues.values() if "pull_request" not in i
        ]

    def comments_of(self, name: str) -> list[CommentJSON]:
        """Every comment of a repository (issues and pull requests)."""
        return list(self.repos[name].comments.values())

    # -- answering ---------------------------------------------------------------------

    def _render(self, item: Any) -> Any:
        text = json.dumps(item).replace("{API}", self.url)
        return json.loads(text)

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request: status, headers, body; log it, then run ``on_request``."""
        parts = urlsplit(raw_path)
        query = dict(parse_qsl(parts.query))
        auth = headers.get("authorization")
        with self._lock:
            status, extra, payload = self._answer(method, parts.path, query, headers, body)
            data = b"" if payload is None else json.dumps(payload).encode()
            if status == 200 and method == "GET":
                extra["etag"] = 'W/"' + hashlib.sha256(data).hexdigest() + '"'
                if headers.get("if-none-match") == extra["etag"]:
                    status, data = 304, b""
                    if auth:  # conditional requests answered 304 are free when authorized
                        budget = self._budget(self._credential(auth))
                        budget.remaining += 1
                        extra.update(self._rate_headers(budget))
            record = Request(
                method=method,
                path=parts.path,
                query=query,
                status=status,
                if_none_match=headers.get("if-none-match"),
                authorization=auth,
            )
            self.requests.append(record)
            hook = self.on_request
        if hook is not None:
            hook(record)
        return status, extra, data

    def _credential(self, auth: str | None) -> str:
        if not auth:
            return ""
        return auth.split(None, 1)[-1]

    def _rate_headers(self, budget: Budget) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(budget.limit),
            "x-ratelimit-remaining": str(budget.remaining),
            "x-ratelimit-reset": str(budget.reset),
            "x-ratelimit-used": str(budget.used),
            "x-ratelimit-resource": "core",
        }

    def _answer(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                return 404, {}, {"message": "Not Found", "documentation_url": DOCS}
            path = path[len(self.prefix) :]
        auth = headers.get("authorization")
        if method == "POST" and path.startswith("/app/installations/"):
            return self._installation_token(path, auth)
        credential = self._credential(auth)
        if (
            auth
            and self.tokens is not None
            and credential not in self.tokens
            and (credential not in self.app_tokens)
        ):
            return 401, {}, {"message": "Bad credentials", "documentation_url": DOCS}
        budget = self._budget(credential)
        if budget.reset <= time.time():
            budget.remaining, budget.reset = budget.limit, int(time.time()) + self.reset_in
        rate = self._rate_headers(budget)
        fault = self._take_fault(path)
        if fault is not None:
            extra = dict(rate)
            if fault.retry_after is not None:
                extra["retry-after"] = str(fault.retry_after)
            return fault.status, extra, {"message": fault.message, "documentation_url": DOCS}
        if path == "/rate_limit":
            core = {
                "limit": budget.limit,
                "remaining": budget.remaining,
                "reset": budget.reset,
                "used": budget.used,
            }
            return 200, rate, {"resources": {"core": core}, "rate": core}
        if budget.remaining <= 0:
            message = (
                "API rate limit exceeded for user ID 1."
                if auth
                else (
                    "API rate limit exceeded for 127.0.0.1. (But here's the good news:"
                    " Authenticated requests get a higher rate limit.)"
                )
            )
            return 403, rate, {"message": message, "documentation_url": DOCS}
        budget.remaining -= 1
        rate = self._rate_headers(budget)
        status, payload, link = self._route(method, path, query)
        if link:
            rate["link"] = link
        return status, rate, payload

    def _installation_token(self, path: str, auth: str | None) -> tuple[int, dict[str, str], Any]:
        if not auth or not auth.startswith("Bearer "):
            return (
                401,
                {},
                {"message": "A JSON web token could not be decoded", "documentation_url": DOCS},
            )
        installation = int(path.split("/")[3])
        token = f"ghs_fake{installation}{len(self.app_tokens)}"
        self.app_tokens[token] = installation
        expires = datetime.now(UTC) + timedelta(hours=1)
        return (
            201,
            {},
            {
                "token": token,
                "expires_at": iso(expires),
                "permissions": {"issues": "read", "metadata": "read"},
                "repository_selection": "all",
            },
        )

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.path is None or fault.path in path:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _route(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any, str | None]:
        not_found = {"message": "Not Found", "documentation_url": DOCS}
        parts = path.strip("/").split("/")
        if method != "GET" or len(parts) < 3 or parts[0] != "repos":
            return 404, not_found, None
        name = f"{parts[1]}/{parts[2]}"
        repo = self.repos.get(name)
        if repo is None:
            return 404, not_found, None
        rest = parts[3:]
        if not rest:
            return 200, self._repo_json(repo), None
        if rest == ["issues"]:
            return self._page(path, query, self._issue_list(repo, query))
        if rest == ["issues", "comments"]:
            return self._page(path, query, self._comment_list(repo, query))
        if len(rest) >= 2 and rest[0] == "issues" and rest[1].isdigit():
            return self._one_issue(repo, int(rest[1]), rest[2:], path, query)
        return 404, not_found, None

    def _repo_json(self, repo: Repo) -> dict[str, Any]:
        owner = repo.name.split("/")[0]
        return {
            "id": repo.id,
            "name": repo.name.split("/")[1],
            "full_name": repo.name,
            "owner": _user(owner, "Organization"),
            "private": False,
            "html_url": f"https://github.com/{repo.name}",
            "url": f"{self.url}/repos/{repo.name}",
            "has_issues": True,
        }

    def _one_issue(
        self, repo: Repo, number: int, rest: list[str], path: str, query: dict[str, str]
    ) -> tuple[int, Any, str | None]:
        if number in repo.gone:
            return 410, {"message": "This issue was deleted", "documentation_url": DOCS}, None
        issue = repo.issues.get(number)
        if issue is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS}, None
        if not rest:
            return 200, self._render(issue), None
        if rest == ["comments"]:
            mine = [
                c for c in repo.comments.values() if c["issue_url"].endswith(f"/issues/{number}")
            ]
            return self._page(path, query, sorted(mine, key=_sort_key("created_at")))
        if rest == ["reactions"]:
            return self._page(path, query, _reaction_list(issue))
        return 404, {"message": "Not Found", "documentation_url": DOCS}, None

    def _issue_list(self, repo: Repo, query: dict[str, str]) -> list[Any]:
        state = query.get("state", "open")
        items: list[dict[str, Any]] = [
            i for i in repo.issues.values() if state == "all" or i["state"] == state
        ]
        return self._filter_sort(items, query, default_sort="created", default_direction="desc")

    def _comment_list(self, repo: Repo, query: dict[str, str]) -> list[Any]:
        items: list[dict[str, Any]] = list(repo.comments.values())  # type: ignore[arg-type]
        return self._filter_sort(items, query, default_sort="created", default_direction="asc")

    def _filter_sort(
        self,
        items: list[dict[str, Any]],
        query: dict[str, str],
        *,
        default_sort: str,
        default_direction: str,
    ) -> list[Any]:
        since = query.get("since")
        if since:  # GitHub's time strings sort like the times they stand for
            start = iso(parse_iso(since))
            items = [i for i in items if i["updated_at"] >= start]
        sort = query.get("sort", default_sort)
        field_name = {"created": "created_at", "updated": "updated_at", "comments": "comments"}.get(
            sort, "created_at"
        )
        direction = query.get("direction", default_direction if "sort" not in query else "desc")
        items.sort(key=_sort_key(field_name), reverse=direction == "desc")
        return items

    def _page(
        self, path: str, query: dict[str, str], items: list[Any]
    ) -> tuple[int, Any, str | None]:
        try:
            per_page = max(1, min(int(query.get("per_page", "30")), 100))
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            return 422, {"message": "Invalid page", "documentation_url": DOCS}, None
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        full_path = self.prefix + path

        def url(n: int) -> str:
            return f"{self.origin}{full_path}?{urlencode({**query, 'page': str(n)})}"

        if page < last:
            links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
        return 200, self._render(chunk), ", ".join(links) or None


class _Handler(BaseHTTPRequestHandler):
    """Hands each request to the fake and writes its answer."""

    protocol_version = "HTTP/1.1"
    server_fake: FakeGitHub

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, data = self.server_fake.handle(method, self.path, headers, body)
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("x-github-api-version-selected", "2022-11-28")
        self.send_header("x-github-media-type", "github.v3; format=json")
        for name, value in extra.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("content-length", str(len(data)))
        self.end_headers()
        if status != 304 and method != "HEAD":
            self.wfile.write(data)

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; the fake keeps its own request log."""


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _user(login: str, kind: str = "User") -> UserJSON:
    uid = int(hashlib.sha256(login.encode()).hexdigest()[:8], 16)
    return {
        "login": login,
        "id": uid,
        "node_id": f"U_kgFake{uid}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "url": f"{{API}}/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": kind,
        "site_admin": False,
    }


def _label(api: str, label: Any) -> dict[str, Any]:
    name = label["name"] if isinstance(label, dict) else str(label)
    lid = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    return {
        "id": lid,
        "node_id": f"LA_kwFake{lid}",
        "url": f"{api}/labels/{name}",
        "name": name,
        "color": (label.get("color") if isinstance(label, dict) else None) or "ededed",
        "default": False,
        "description": (label.get("description") if isinstance(label, dict) else None) or "",
    }


def _reactions(url: str, total: int) -> dict[str, Any]:
    counts = dict.fromkeys(REACTIONS, 0)
    counts["+1"] = total
    return {"url": f"{url}/reactions", "total_count": total, **counts}


def _reaction_list(issue: dict[str, Any]) -> list[dict[str, Any]]:
    total = int(issue["reactions"]["total_count"])
    return [
        {
            "id": issue["id"] * 100 + i,
            "node_id": f"REA_kwFake{issue['id']}_{i}",
            "user": _user(f"reactor-{i}"),
            "content": "+1",
            "created_at": issue["created_at"],
        }
        for i in range(total)
    ]
