"""`chatbot sync` against a fake GitHub speaking the REST wire format, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import func, select

from chatbot.app import github_config
from chatbot.config import Settings
from chatbot.core.errors import ConfigError, SourceUnavailable
from chatbot.core.models import Ticket
from chatbot.sources.demo import DEMO_META_KEY, load_demo
from chatbot.sources.github import SyncOptions, SyncReport, sync_store
from chatbot.sources.github.progress import sync_progress
from chatbot.store import SQLAlchemyTicketStore
from chatbot.store.tables import comments as comment_rows
from chatbot.store.tables import tickets as ticket_rows
from tests.cli_runner import run_cli
from tests.fakes.github_api import FakeGitHub, parse_iso

TOKEN = "ghp_test_token_never_printed"
WEB = "webcompat/web-bugs"
SQL = "microsoft/vscode-mssql"
REPOS = f"{WEB},{SQL}"
FORM_BODY = (
    "### Version\n\n1.31.0\n\n### Operating system\n\nWindows 11\n\n"
    "### What happened?\n\nThe results grid stays empty.\n\n### Logs\n\n_No response_\n"
)


class Sleeper:
    """Records the waits the sync asks for instead of sleeping; may act on each one."""

    def __init__(self, then: Any = None) -> None:
        self.waits: list[float] = []
        self.then = then

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.then is not None:
            self.then()


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    """The fake GitHub serving both fixture repositories, three pull requests each."""
    with FakeGitHub(tokens={TOKEN}).load_fixtures() as server:
        yield server


def settings_for(fake: FakeGitHub, repos: str = REPOS, **extra: Any) -> Settings:
    """Settings as a user would set them: token, repositories, API URL of the fake."""
    values: dict[str, Any] = {
        "github_token": TOKEN,
        "github_repos": repos,
        "github_api_url": fake.url,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)


def run_sync(
    fake: FakeGitHub,
    store: SQLAlchemyTicketStore,
    *,
    repos: str = REPOS,
    sleeper: Sleeper | None = None,
    **options: Any,
) -> SyncReport:
    """One sync with no throttle and no real sleeping."""
    chosen = {"throttle": 0.0, "backoff": 0.0, **options}
    return sync_store(
        github_config(settings_for(fake, repos)),
        store,
        options=SyncOptions(**chosen),
        sleep=sleeper or Sleeper(),
    )


def stored(store: SQLAlchemyTicketStore, repo: str | None = None) -> dict[int, Ticket]:
    """Every ticket in the store (of ``repo`` if given), by number."""
    start = datetime(1970, 1, 1, tzinfo=UTC)
    end = datetime(2100, 1, 1, tzinfo=UTC)
    return {t.number: t for t in store.tickets_touched(start, end) if repo in (None, t.repo)}


def row_counts(store: SQLAlchemyTicketStore) -> tuple[int, int]:
    """How many ticket and comment rows the database holds (duplicates would show here)."""
    with store.engine.connect() as conn:
        tickets = conn.execute(select(func.count()).select_from(ticket_rows)).scalar_one()
        comments = conn.execute(select(func.count()).select_from(comment_rows)).scalar_one()
    return int(tickets), int(comments)


def expected(fake: FakeGitHub, repo: str) -> tuple[set[int], set[int]]:
    """Issue numbers and ids of comments on issues (not pull requests) the fake serves."""
    numbers = {i["number"] for i in fake.issues_of(repo)}
    ids = {
        c["id"] for c in fake.comments_of(repo) if int(c["issue_url"].rsplit("/", 1)[1]) in numbers
    }
    return numbers, ids


def assert_mirrors(fake: FakeGitHub, store: SQLAlchemyTicketStore, repo: str) -> None:
    """The store holds exactly the fake's issues of ``repo`` and their comments."""
    numbers, comment_ids = expected(fake, repo)
    have = stored(store, repo)
    assert set(have) == numbers
    assert {c.id for t in have.values() for c in t.comments} == comment_ids
    for issue in fake.issues_of(repo):
        ticket = have[issue["number"]]
        assert ticket.updated_at == parse_iso(issue["updated_at"])
        assert ticket.state == issue["state"]


# -- fetching ----------------------------------------------------------------------------


def test_first_sync_stores_every_issue_and_comment(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """A first sync stores every issue with labels, state, reactions, authors and comments."""
    report = run_sync(fake, store)
    assert_mirrors(fake, store, WEB)
    assert_mirrors(fake, store, SQL)
    assert report.new == len(fake.issues_of(WEB)) + len(fake.issues_of(SQL))
    assert report.updated == 0
    closed = next(i for i in fake.issues_of(SQL) if i["state"] == "closed" and i["labels"])
    ticket = stored(store, SQL)[closed["number"]]
    assert set(ticket.labels) == {label["name"] for label in closed["labels"]}
    assert ticket.closed_at == parse_iso(closed["closed_at"])
    assert ticket.state_reason == "completed"
    assert ticket.comment_count == closed["comments"]
    web = fake.issues_of(WEB)[0]
    assert stored(store, WEB)[web["number"]].author.association == web["author_association"]
    reacted = next(i for i in fake.issues_of(SQL) if i["reactions"]["total_count"])
    assert stored(store, SQL)[reacted["number"]].reactions == reacted["reactions"]["total_count"]


def test_first_sync_costs_about_one_request_per_hundred_items(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """A full sync asks about ceil(N/100) pages of issues and ceil(C/100) of comments."""
    report = run_sync(fake, store)
    pages = 0
    for repo in (WEB, SQL):
        pages += math.ceil(len(fake.repos[repo].issues) / 100)
        pages += math.ceil(len(fake.repos[repo].comments) / 100)
    assert pages <= report.requests <= pages + 2
    assert all(r.query["per_page"] == "100" for r in fake.requests)
    assert {(r.query["sort"], r.query["direction"]) for r in fake.requests} == {("updated", "asc")}
    assert all(r.query["state"] == "all" for r in fake.requests_to("/issues"))
    assert not [r for r in fake.requests if "/issues/" in r.path and r.path[-1].isdigit()]


def test_incremental_sync_brings_edits_comments_and_closures(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """After edits, a closure, a bot comment and a new issue, the next sync brings just those."""
    run_sync(fake, store)
    first, second, third = (i["number"] for i in fake.issues_of(SQL)[:3])
    fake.edit_issue(SQL, first, title="Renamed by the reporter", labels=["Bug", "triaged"])
    fake.close_issue(SQL, second, reason="not_planned")
    bot_comment = fake.add_comment(SQL, third, "Automated reminder", login="app[bot]", bot=True)
    new = fake.open_issue(SQL, "A brand-new problem", "It broke.")
    fake.clear_log()

    report = run_sync(fake, store)

    have = stored(store, SQL)
    assert have[first].title == "Renamed by the reporter"
    assert set(have[first].labels) == {"Bug", "triaged"}
    assert have[second].state == "closed"
    assert have[second].state_reason == "not_planned"
    [reminder] = [c for c in have[third].comments if c.id == bot_comment]
    assert reminder.author.is_bot
    assert new in have
    assert (report.new, report.updated, report.comments) == (1, 3, 1)
    assert report.requests <= 4
    assert_mirrors(fake, store, SQL)


def test_edited_comment_is_updated(fake: FakeGitHub, store: SQLAlchemyTicketStore) -> None:
    """A comment edited on GitHub (its issue untouched) is updated in the store."""
    run_sync(fake, store)
    comment = fake.comments_of(WEB)[0]
    fake.edit_comment(WEB, comment["id"], "Edited: it works now")
    run_sync(fake, store)
    number = int(comment["issue_url"].rsplit("/", 1)[1])
    [ticket] = store.find_tickets(number, WEB)  # period reads leave bodies out
    [again] = [c for c in ticket.comments if c.id == comment["id"]]
    assert again.body == "Edited: it works now"


def test_no_change_sync_is_answered_by_304s(fake: FakeGitHub, store: SQLAlchemyTicketStore) -> None:
    """When nothing changed, every request is conditional and answered 304, for free."""
    run_sync(fake, store)
    before = run_sync(fake, store).rate
    fake.clear_log()
    report = run_sync(fake, store)
    assert [r.status for r in fake.requests] == [304, 304, 304, 304]
    assert all(r.if_none_match for r in fake.requests)
    assert (report.requests, report.not_modified, report.new, report.updated) == (4, 4, 0, 0)
    assert report.rate is not None
    assert before is not None
    assert report.rate.remaining == before.remaining


def test_no_change_sync_right_after_full_sync_is_304(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """Even right after a many-page first sync, an unchanged repository answers 304."""
    run_sync(fake, store, repos=SQL)
    fake.clear_log()
    report = run_sync(fake, store, repos=SQL)
    assert [r.status for r in fake.requests] == [304, 304]
    assert report.not_modified == 2


def test_pages_are_read_to_the_end(fake: FakeGitHub, store: SQLAlchemyTicketStore) -> None:
    """Issues and comments over several pages are all read, each page saved as it comes."""
    report = run_sync(fake, store, repos=SQL)
    issue_requests = fake.requests_to("/issues")
    assert len(issue_requests) >= 3
    assert all("since" in r.query for r in issue_requests[1:])
    assert len(fake.requests_to("/issues/comments")) >= 5
    assert report.new == len(fake.issues_of(SQL))
    assert_mirrors(fake, store, SQL)


def test_link_next_is_followed_when_a_page_shares_one_minute(
    store: SQLAlchemyTicketStore,
) -> None:
    """When more than a page of issues changed in the same minute, rel="next" is followed."""
    with FakeGitHub(tokens={TOKEN}) as server:
        numbers = [server.open_issue("bulk/labels", f"Issue {n}") for n in range(1, 151)]
        for number in numbers:
            server.repos["bulk/labels"].issues[number]["updated_at"] = "2024-05-01T10:00:00Z"
        report = run_sync(server, store, repos="bulk/labels")
        assert report.new == 150
        assert set(stored(store, "bulk/labels")) == set(numbers)
        assert any(r.query.get("page") == "2" for r in server.requests_to("/issues"))


def test_pull_requests_are_left_out(fake: FakeGitHub, store: SQLAlchemyTicketStore) -> None:
    """Pull requests listed among the issues, and their comments, are not stored."""
    report = run_sync(fake, store)
    prs = [n for n, i in fake.repos[WEB].issues.items() if "pull_request" in i]
    assert len(prs) == 3
    assert not set(prs) & set(stored(store, WEB))
    assert sum(r.pull_requests for r in report.repos) == 6
    _, comments = row_counts(store)
    on_issues = len(expected(fake, WEB)[1]) + len(expected(fake, SQL)[1])
    assert comments == on_issues < len(fake.comments_of(WEB)) + len(fake.comments_of(SQL))


def test_issue_form_fields_are_parsed(fake: FakeGitHub, store: SQLAlchemyTicketStore) -> None:
    """An issue written with an issue form has its fields stored by label."""
    number = fake.open_issue(SQL, "[Bug]: empty results grid", FORM_BODY, labels=("Bug",))
    run_sync(fake, store, repos=SQL)
    ticket = stored(store, SQL)[number]
    assert ticket.form_fields == (
        ("Version", "1.31.0"),
        ("Operating system", "Windows 11"),
        ("What happened?", "The results grid stays empty."),
        ("Logs", ""),
    )


def test_bold_template_fields_are_parsed(fake: FakeGitHub, store: SQLAlchemyTicketStore) -> None:
    """A body written from a ``**Key**: value`` template has its one-line fields stored."""
    body = (
        "**URL**: https://example.com/\r\n\r\n**Browser / Version**: Firefox 89.0\r\n"
        "**Operating System**: Android 11\r\n**Steps to Reproduce**:\r\nTap the menu.\r\n"
        "```\r\n**Not**: a field\r\n```\r\n**Bold prose** is not a field either.\r\n"
    )
    number = fake.open_issue(SQL, "example.com - menu does not open", body)
    run_sync(fake, store, repos=SQL)
    assert stored(store, SQL)[number].form_fields == (
        ("URL", "https://example.com/"),
        ("Browser / Version", "Firefox 89.0"),
        ("Operating System", "Android 11"),
    )


def test_pages_that_shift_mid_read_lose_nothing(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """Issues edited or deleted while the pages are read shift nothing past the reader."""
    oldest = sorted(fake.issues_of(SQL), key=lambda i: (i["updated_at"], i["id"]))

    def meddle(request: Any) -> None:
        if request.path.endswith(f"{SQL}/issues") and "since" not in request.query:
            fake.on_request = None
            fake.edit_issue(SQL, oldest[0]["number"], title="Edited while listed")
            fake.delete_issue(SQL, oldest[1]["number"])
            fake.close_issue(SQL, oldest[2]["number"])

    fake.on_request = meddle
    run_sync(fake, store, repos=SQL)
    have = stored(store, SQL)
    missing = {i["number"] for i in fake.issues_of(SQL)} - set(have)
    assert not missing
    assert have[oldest[0]["number"]].title == "Edited while listed"
    assert have[oldest[2]["number"]].state == "closed"
    tickets, _ = row_counts(store)
    assert tickets == len(have)


def test_comment_on_an_issue_opened_during_the_sync_is_not_lost(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """A comment on an issue opened between the issue and comment requests arrives next time."""
    made: list[tuple[int, int]] = []

    def open_one(request: Any) -> None:
        if request.path.endswith(f"{WEB}/issues"):
            fake.on_request = None
            number = fake.open_issue(WEB, "Opened mid-sync")
            made.append((number, fake.add_comment(WEB, number, "first reply")))

    fake.on_request = open_one
    run_sync(fake, store, repos=WEB)
    run_sync(fake, store, repos=WEB)
    [(number, comment_id)] = made
    assert [c.id for c in stored(store, WEB)[number].comments] == [comment_id]
    assert_mirrors(fake, store, WEB)


def test_deleted_issue_does_not_break_the_sync(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """An issue deleted on GitHub (410 Gone) does not stop the next sync."""
    run_sync(fake, store)
    fake.delete_issue(WEB, fake.issues_of(WEB)[0]["number"])
    fake.add_comment(WEB, fake.issues_of(WEB)[1]["number"], "still here")
    report = run_sync(fake, store)
    assert not report.failed
    assert report.comments == 1


def test_unknown_repository_is_reported_and_the_others_sync(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """A repository that does not exist is named in the report; the others still sync."""
    report = run_sync(fake, store, repos=f"nobody/nothing,{WEB}")
    [failed] = report.failed
    assert failed.repo == "nobody/nothing"
    assert "404" in (failed.error or "")
    assert "GITHUB_REPOS" in (failed.error or "")
    assert_mirrors(fake, store, WEB)


def test_full_sync_reads_everything_again_without_duplicates(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """`full` ignores cursors and ETags, re-reads every page and duplicates nothing."""
    run_sync(fake, store)
    counts = row_counts(store)
    fake.clear_log()
    report = run_sync(fake, store, full=True)
    assert "since" not in fake.requests[0].query
    assert not any(r.if_none_match for r in fake.requests)
    assert report.new == 0
    assert report.updated == len(fake.issues_of(WEB)) + len(fake.issues_of(SQL))
    assert row_counts(store) == counts


def test_sync_replaces_the_demo_tickets(fake: FakeGitHub, store: SQLAlchemyTicketStore) -> None:
    """A store holding the demo is emptied before the first real sync, and is no longer demo."""
    load_demo(store, datetime(2025, 4, 24, tzinfo=UTC))
    report = run_sync(fake, store, repos=WEB)
    assert report.demo_cleared
    assert store.repos() == [WEB]
    assert store.get_meta(DEMO_META_KEY) == ""
    assert not run_sync(fake, store, repos=WEB).demo_cleared


def test_bad_records_are_cleaned_or_skipped_never_the_page(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """NUL and lone surrogates are cleaned, a labels string is one label, and numbers or
    ids beyond 64 bits skip only their own record: the rest of the page is synced."""
    dirty = fake.open_issue(WEB, "NUL\x00 and \ud800 here", "body\x00")
    string_labels = fake.open_issue(WEB, "labels as a string")
    huge = fake.open_issue(WEB, "number too large")
    fake.repos[WEB].issues[string_labels]["labels"] = "bug"
    fake.repos[WEB].issues[huge]["number"] = 2**63
    bad_comment = fake.add_comment(WEB, dirty, "an id too large")
    fake.repos[WEB].comments[bad_comment]["id"] = 2**64
    good_comment = fake.add_comment(WEB, dirty, "fine\x00")
    report = run_sync(fake, store, repos=WEB)
    assert not report.failed
    assert report.repos[0].skipped == 2
    assert "2 bad record(s) skipped" in report.summary()  # what `chatbot sync` prints
    have = stored(store, WEB)
    assert have[dirty].title == "NUL and \ufffd here"
    [full] = store.find_tickets(dirty, WEB)
    assert full.body == "body"
    assert [(c.id, c.body) for c in full.comments] == [(good_comment, "fine")]
    assert have[string_labels].labels == ("bug",)
    assert huge not in have
    assert 2**63 not in have
    assert len(have) == len(fake.issues_of(WEB)) - 1


# -- rate limits and failures -------------------------------------------------------------


def test_rate_limit_mid_sync_stops_then_resumes_without_loss(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """Out of requests mid-sync: it stops cleanly, keeps the pages read, and resumes later."""
    fake.set_budget(2)
    first = run_sync(fake, store, repos=SQL)
    assert first.stopped_until is not None
    assert first.stopped_until > datetime.now(UTC)
    partial = len(stored(store, SQL))
    assert 0 < partial < len(fake.issues_of(SQL))
    assert any("rate limit" in line for line in first.problems())

    fake.reset_rate_limit()
    fake.clear_log()
    second = run_sync(fake, store, repos=SQL)
    assert second.stopped_until is None
    assert "since" in fake.requests[0].query
    assert first.new + second.new == len(fake.issues_of(SQL))
    assert_mirrors(fake, store, SQL)
    tickets, comments = row_counts(store)
    assert tickets == len(fake.issues_of(SQL))
    assert comments == len(expected(fake, SQL)[1])


def test_rate_limit_with_wait_sleeps_until_reset(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """With `wait`, a used-up limit is waited out until its reset and the sync completes."""
    fake.set_budget(2)
    sleeper = Sleeper(then=fake.reset_rate_limit)
    report = run_sync(fake, store, repos=SQL, wait=True, sleeper=sleeper)
    assert report.stopped_until is None
    assert len(sleeper.waits) == 1
    assert 3500 < sleeper.waits[0] <= 3602
    assert_mirrors(fake, store, SQL)


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_limit_waits_for_retry_after(
    fake: FakeGitHub, store: SQLAlchemyTicketStore, status: int
) -> None:
    """A secondary limit (403 or 429 with Retry-After) is waited out, then the request retried."""
    fake.fail(status, retry_after=7, path="/issues/comments")
    sleeper = Sleeper()
    report = run_sync(fake, store, repos=WEB, sleeper=sleeper)
    assert sleeper.waits == [7.0]
    assert [r.status for r in fake.requests_to("/issues/comments")] == [status, 200]
    assert not report.failed
    assert report.stopped_until is None
    assert_mirrors(fake, store, WEB)


def test_server_errors_are_retried_with_backoff(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """5xx answers are retried with doubling waits and the sync completes."""
    fake.fail(502, times=2, path="/issues")
    sleeper = Sleeper()
    run_sync(fake, store, repos=WEB, backoff=0.01, sleeper=sleeper)
    assert sleeper.waits == [0.01, 0.02]
    assert [r.status for r in fake.requests][:3] == [502, 502, 200]
    assert_mirrors(fake, store, WEB)


def test_persistent_server_errors_raise_source_unavailable(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """When 5xx answers go on past the retries, the sync fails with SourceUnavailable."""
    fake.fail(503, times=10, path="/issues/comments")
    with pytest.raises(SourceUnavailable, match="503"):
        run_sync(fake, store, repos=WEB, retries=2)
    assert len(stored(store, WEB)) == len(fake.issues_of(WEB))


def test_bad_token_names_the_variable_not_the_token(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """Refused credentials raise SourceUnavailable naming GITHUB_TOKEN, never the token."""
    settings = settings_for(fake, WEB, github_token="ghp_wrong_secret")
    with pytest.raises(SourceUnavailable) as caught:
        sync_store(github_config(settings), store, options=SyncOptions(throttle=0))
    assert "GITHUB_TOKEN" in str(caught.value)
    assert "ghp_wrong_secret" not in str(caught.value)


def test_enterprise_api_url_with_path_prefix(store: SQLAlchemyTicketStore) -> None:
    """A GitHub Enterprise style API URL (…/api/v3) works, Link URLs included."""
    with FakeGitHub(prefix="/api/v3", tokens={TOKEN}).load_fixtures() as server:
        assert server.url.endswith("/api/v3")
        run_sync(server, store, repos=SQL)
        assert all(r.path.startswith("/api/v3/repos/") for r in server.requests)
        assert_mirrors(server, store, SQL)


def test_github_app_installation_signs_in(store: SQLAlchemyTicketStore) -> None:
    """A GitHub App (id, private key, installation id) gets an installation token and syncs."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with FakeGitHub(tokens=set()).load_fixtures() as server:
        settings = Settings(
            _env_file=None,
            github_repos=WEB,
            github_api_url=server.url,
            github_app_id="12345",
            github_app_private_key=pem,
            github_app_installation_id=678,
        )
        sync_store(github_config(settings), store, options=SyncOptions(throttle=0))
        [grant] = [r for r in server.requests if r.method == "POST"]
        assert grant.path == "/app/installations/678/access_tokens"
        assert (grant.authorization or "").startswith("Bearer ")
        reads = [r for r in server.requests if r.method == "GET"]
        assert reads
        assert all((r.authorization or "").startswith("token ghs_fake678") for r in reads)
        assert_mirrors(server, store, WEB)


def test_incomplete_app_settings_name_the_missing_variables(fake: FakeGitHub) -> None:
    """App settings with a piece missing fail with ConfigError naming what is missing."""
    settings = settings_for(fake, github_token=None, github_app_id="12345")
    with pytest.raises(ConfigError) as caught:
        sync_store(github_config(settings), _NeverUsedStore())
    assert "GITHUB_APP_PRIVATE_KEY" in str(caught.value)
    assert "GITHUB_APP_INSTALLATION_ID" in str(caught.value)


class _NeverUsedStore:
    """A store for a sync that must fail before touching it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"store.{name} used")


# -- the command -----------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub, db_url: str) -> FakeGitHub:
    """The environment a user sets for `chatbot sync` against the fake, on each database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOS", REPOS)
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("LOG_FORMAT", "json")
    return fake


def test_cli_sync_prints_one_summary_line(
    cli_env: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """`chatbot sync` prints issues new/updated, comments, requests and the limit left."""
    code, out, err = run_cli(capsys, "sync", "--throttle", "0")
    assert code == 0, err
    issues = len(cli_env.issues_of(WEB)) + len(cli_env.issues_of(SQL))
    comments = len(expected(cli_env, WEB)[1]) + len(expected(cli_env, SQL)[1])
    [line] = out.splitlines()
    assert line.startswith(
        f"synced 2 repositories: {issues} new and 0 updated issues, {comments} comments;"
    )
    assert f"{len(cli_env.requests)} requests (0 not modified)" in line
    assert "/5000 left" in line
    assert TOKEN not in out + err

    code, out, _ = run_cli(capsys, "sync", "--throttle", "0")
    assert code == 0
    assert "0 new and 0 updated issues, 0 comments; 4 requests (4 not modified)" in out


def test_cli_sync_without_repositories_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With GITHUB_REPOS empty, `chatbot sync` says so and exits with status 2."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    code, out, err = run_cli(capsys, "sync")
    assert code == 2
    assert "GITHUB_REPOS" in err
    assert "Traceback" not in err
    assert out == ""


def test_cli_rate_limit_exits_3_and_says_when(
    cli_env: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stopped by the rate limit, `chatbot sync` keeps its work, says when to resume, exits 3."""
    cli_env.set_budget(2)
    code, out, err = run_cli(capsys, "sync", "--throttle", "0")
    assert code == 3
    assert out.startswith("synced 2 repositories:")
    assert "stopped early: the GitHub rate limit is used up until" in err
    assert "--wait" in err
    assert "Traceback" not in err


def test_cli_unreachable_github_is_one_line_without_traceback(
    monkeypatch: pytest.MonkeyPatch, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """When GitHub cannot be reached, `chatbot sync` says so in one line and exits 1."""
    with FakeGitHub() as gone:
        url = gone.url
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOS", WEB)
    monkeypatch.setenv("GITHUB_API_URL", url)
    code, _, err = run_cli(capsys, "sync", "--throttle", "0", "--retry-backoff", "0")
    assert code == 1
    assert "error: GitHub unavailable: no answer from" in err
    assert "Traceback" not in err
    assert TOKEN not in err


def test_cli_without_token_warns_about_60_requests(
    monkeypatch: pytest.MonkeyPatch,
    fake: FakeGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without any credentials the sync still works for public repos and warns about 60/hour."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("GITHUB_REPOS", WEB)
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("LOG_FORMAT", "json")
    code, out, err = run_cli(capsys, "sync", "--throttle", "0")
    assert code == 0, err
    assert "github_unauthenticated" in err
    assert '"limit_per_hour": 60' in err
    assert "/60 left" in out
    assert all(r.authorization is None for r in fake.requests)


def test_progress_bar_shows_on_a_terminal_only(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """On a terminal each repository's feeds get a bar; elsewhere nothing is drawn."""
    terminal = io.StringIO()
    with sync_progress(Console(file=terminal, force_terminal=True, width=100)) as progress:
        assert progress is not None
        sync_store(
            github_config(settings_for(fake, SQL)),
            store,
            options=SyncOptions(throttle=0),
            progress=progress,
        )
    assert f"{SQL} issues" in terminal.getvalue()
    assert f"{SQL} comments" in terminal.getvalue()
    with sync_progress(Console(file=io.StringIO(), force_terminal=False)) as progress:
        assert progress is None
