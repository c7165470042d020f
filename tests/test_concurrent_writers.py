"""Writers at once: real `chatbot` processes side by side, on SQLite and on PostgreSQL.

Two syncs, an import beside reports, a second import and `chatbot demo`: every process
ends well, no row is lost or doubled, and the demo never takes an imported ticket with it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from chatbot.app import github_config
from chatbot.config import Settings
from chatbot.core.periods import utc_now
from chatbot.core.ports import DEMO_META_KEY
from chatbot.sources.demo import ensure_demo
from chatbot.sources.github import SYNC_LOCK, SyncOptions, sync_store
from chatbot.store import SQLAlchemyTicketStore, open_store
from chatbot.store.tables import comments, labels, tickets
from tests.factories import comment, ticket
from tests.fakes.github_api import FakeGitHub
from tests.import_files import write_import_file
from tests.processes import chatbot, finish, query, wait_for

TOKEN = "ghp_concurrent_test_token"
REPO = "bench/support"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    """A fake GitHub with enough issues and comments that two syncs overlap."""
    with FakeGitHub(tokens={TOKEN}) as server:
        server.synthesize(REPO, issues=1200, comments=2400)
        yield server


def row_counts(url: str) -> tuple[int, int, int]:
    """Ticket, comment and label rows in the database at ``url``."""
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (tickets, comments, labels)
            )
    finally:
        store.engine.dispose()


def test_two_syncs_at_once_both_succeed(fake: FakeGitHub, db_url: str) -> None:
    """Two `chatbot sync` processes started together exit 0 and store each row once."""
    env = {
        "DATABASE_URL": db_url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOS": REPO,
        "GITHUB_API_URL": fake.url,
        "LOG_FORMAT": "json",
    }
    runs = [chatbot("sync", "--throttle", "0", env=env) for _ in range(2)]
    results = [finish(p) for p in runs]
    for code, _, err in results:
        assert code == 0, err
        assert "Traceback" not in err
    issues = [i for i in fake.issues_of(REPO) if not i.get("pull_request")]
    numbers = {i["number"] for i in issues}
    wanted = [c for c in fake.comments_of(REPO) if int(c["issue_url"].rsplit("/", 1)[1]) in numbers]
    expected_labels = sum(len({lb["name"] for lb in i["labels"]}) for i in issues)
    assert row_counts(db_url) == (len(issues), len(wanted), expected_labels)
    assert sum("github_sync_waiting" in err for _, _, err in results) <= 1


def test_same_tickets_saved_by_four_writers_at_once(store: SQLAlchemyTicketStore) -> None:
    """Writers saving the same tickets together never fail on each other's rows."""
    batch = [
        ticket(n, "2025-04-22 09:00", labels=("bug", "ui"), comments=(comment("2025-04-22 10:00"),))
        for n in range(1, 301)
    ]
    gate = threading.Barrier(4)
    errors: list[BaseException] = []

    def save() -> None:
        try:
            gate.wait()
            for _ in range(3):
                store.save_tickets(batch)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count_tickets() == 300
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(labels)).scalar_one() == 600
        assert conn.execute(select(func.count()).select_from(comments)).scalar_one() == 300


def test_periodic_sync_skips_its_round_while_another_syncs(
    fake: FakeGitHub, store: SQLAlchemyTicketStore
) -> None:
    """With the sync lock held elsewhere, a sync without waiting skips: no request, one line."""
    settings = Settings(
        _env_file=None, github_token=TOKEN, github_repos=REPO, github_api_url=fake.url
    )
    with store.exclusive(SYNC_LOCK), capture_logs() as logs:
        report = sync_store(
            github_config(settings), store, options=SyncOptions(throttle=0), wait=False
        )
    assert report.skipped
    assert fake.requests == []
    assert store.count_tickets() == 0
    assert [e["event"] for e in logs if e["event"].startswith("github_sync")] == [
        "github_sync_skipped"
    ]


def test_import_beside_reports_demo_and_a_second_import(db_url: str, tmp_path: Path) -> None:
    """During a large first import: reports, a second import and `chatbot demo` all end well.

    The first report starts as soon as the schema exists, before any ticket is written:
    it may load the demo, which the import then removes. Once the import has written its
    first batch, `chatbot demo` refuses in one line, and nothing is lost or doubled.
    """
    big = write_import_file(tmp_path / "big.jsonl", 20_000)
    small = write_import_file(tmp_path / "small.jsonl", 2_000, repo="acme/second")
    env = {"DATABASE_URL": db_url}
    importer = chatbot("import", str(big), env=env, cwd=tmp_path)
    wait_for(lambda: query(db_url, "SELECT 1") == 1, "the import to create the schema")
    early = chatbot("report", "last-week", "--no-files", env=env, cwd=tmp_path)
    wait_for(
        lambda: query(db_url, "SELECT value FROM store_meta WHERE key = 'demo_loaded_at'") == "",
        "the import's first batch",
    )
    assert importer.poll() is None, "the import ended before the others started"
    beside = {
        "second import": chatbot("import", str(small), env=env, cwd=tmp_path),
        "demo": chatbot("demo", env=env, cwd=tmp_path),
        **{
            f"report {i}": chatbot("report", "last-week", "--no-files", env=env, cwd=tmp_path)
            for i in range(3)
        },
    }
    results = {"early report": finish(early), **{k: finish(p) for k, p in beside.items()}}
    results["first import"] = finish(importer)
    for name, (code, out, err) in results.items():
        assert "Traceback" not in out + err, name
        assert "locked" not in err, name
        if name == "demo":
            assert code == 2, err
            [line] = err.splitlines()
            assert "demo is not loaded" in line
        else:
            assert code == 0, f"{name}: {err}"
    store = open_store(db_url)
    try:
        assert store.repos() == ["acme/imported", "acme/second"]
        assert store.count_tickets() == 22_000
        assert store.get_meta(DEMO_META_KEY) == ""
        assert not ensure_demo(store, utc_now() + timedelta(days=1))
        assert store.count_tickets() == 22_000
    finally:
        store.engine.dispose()
