"""The bundled demo: real tickets, rebased so that every common period has some."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from chatbot.core.grammar import Calendar, parse_period
from chatbot.core.ports import DEMO_META_KEY
from chatbot.service import ReportService
from chatbot.sources.demo import demo_tickets, ensure_demo
from chatbot.store import SQLAlchemyTicketStore
from chatbot.store.tables import tickets
from tests.cli_runner import run_cli
from tests.factories import ticket

PERIODS = ["today", "yesterday", "this-week", "last-week", "this-month", "last-month"]


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 23, 16, 0, tzinfo=UTC),  # a Monday afternoon
        datetime(2026, 12, 1, 0, 20, tzinfo=UTC),  # just after midnight on the 1st
        datetime(2027, 3, 7, 23, 59, tzinfo=UTC),  # a Sunday night
    ],
)
def test_every_common_period_has_tickets(now: datetime) -> None:
    """Whenever the demo is loaded, today, yesterday, this/last week and month have activity."""
    tickets = demo_tickets(now)
    cal = Calendar(now=now)
    for word in PERIODS:
        period = parse_period(word, cal)
        touched = [
            t
            for t in tickets
            if period.contains(t.created_at)
            or (t.closed_at and period.contains(t.closed_at))
            or any(period.contains(c.created_at) for c in t.comments)
        ]
        assert touched, f"no demo ticket in {word} at {now}"
    newest = max(
        max([t.created_at, t.closed_at or t.created_at, *(c.created_at for c in t.comments)])
        for t in tickets
    )
    assert now - timedelta(hours=3) <= newest < now


def test_synthesized_comments_are_deterministic() -> None:
    """Two loads a day apart give the same threads, only shifted in time."""
    now = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    first = demo_tickets(now)
    second = demo_tickets(now + timedelta(days=1))
    assert [len(t.comments) for t in first] == [t.comment_count for t in first]
    for a, b in zip(first, second, strict=True):
        assert [c.author.login for c in a.comments] == [c.author.login for c in b.comments]
        assert b.created_at - a.created_at == timedelta(days=1)
        assert all(c.created_at >= a.created_at for c in a.comments)
        if a.closed_at:
            assert all(c.created_at <= a.closed_at for c in a.comments)


def test_demo_is_real_data() -> None:
    """The demo holds the licensed vscode-mssql and webcompat issues, with their real titles."""
    tickets = demo_tickets(datetime(2026, 11, 23, tzinfo=UTC))
    assert {t.repo for t in tickets} == {"microsoft/vscode-mssql", "webcompat/web-bugs"}
    titles = {t.number: t.title for t in tickets}
    assert titles[71058] == "www.zssk.sk - site is not usable"
    assert len(tickets) > 500


def test_loads_once_a_day_and_never_over_real_tickets(store: SQLAlchemyTicketStore) -> None:
    """An empty store gets the demo; a store with other tickets is left alone."""
    now = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert ensure_demo(store, now)
    assert not ensure_demo(store, now + timedelta(hours=1))
    assert ensure_demo(store, now + timedelta(days=1))
    week = ReportService(store, clock=lambda: now + timedelta(days=1)).build_report(
        parse_period("last-7-days", Calendar(now=now + timedelta(days=1)))
    )
    assert week.figures.received > 0

    store.clear()
    store.set_meta("demo_loaded_at", "")
    store.save_tickets([ticket(1, "2026-11-20 09:00")])
    assert not ensure_demo(store, now + timedelta(days=5))
    assert store.count_tickets() == 1


def test_real_tickets_after_the_demo_survive_the_next_days_reload(
    store: SQLAlchemyTicketStore,
) -> None:
    """Saving a real ticket takes the store out of the demo; the next day's reload keeps it."""
    now = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert ensure_demo(store, now)
    store.save_tickets([ticket(1, "2026-11-20 09:00")])
    assert store.get_meta(DEMO_META_KEY) == ""
    assert store.repos() == ["acme/support"]
    assert not ensure_demo(store, now + timedelta(days=1))
    assert store.count_tickets() == 1


def test_reload_deletes_only_demo_rows_and_never_runs_beside_real_ones(
    store: SQLAlchemyTicketStore,
) -> None:
    """A store holding demo and real rows (left by an older version) is never reloaded."""
    now = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert ensure_demo(store, now)
    demo_count = store.count_tickets()
    row = {
        "repo": "acme/support", "number": 1, "title": "real", "body": "", "state": "open",
        "author_login": "someone", "author_association": "NONE", "author_is_bot": False,
        "url": "", "reactions": 0, "comment_count": 0, "created_at": now, "updated_at": now,
        "demo": False,
    }  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(insert(tickets), [row])
    assert not ensure_demo(store, now + timedelta(days=1))
    assert store.count_tickets() == demo_count + 1
    assert not store.replace_demo(demo_tickets(now), now.isoformat())
    assert len(store.find_tickets(1, "acme/support")) == 1


def test_import_of_only_bad_lines_keeps_the_demo(
    store: SQLAlchemyTicketStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An import whose every line is bad leaves the demo in place, not an empty store."""
    now = datetime.now(UTC)
    assert ensure_demo(store, now)
    count = store.count_tickets()
    monkeypatch.setenv("DATABASE_URL", str(store.engine.url.render_as_string(False)))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"number": "x"}\n[1, 2]\n{not json\n{"number": 5, "x_comments": [null]}\n')
    code, out, err = run_cli(capsys, "import", str(bad))
    assert code == 1
    assert "imported 0 new" in out
    assert len(err.splitlines()) == 4
    assert store.count_tickets() == count
    assert store.get_meta(DEMO_META_KEY) == now.isoformat()


def test_demo_command_refuses_over_real_tickets(
    store: SQLAlchemyTicketStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`chatbot demo` on a store with real tickets says so in one line, exit 2, and keeps them."""
    store.save_tickets([ticket(1, "2026-11-20 09:00")])
    monkeypatch.setenv("DATABASE_URL", str(store.engine.url.render_as_string(False)))
    code, out, err = run_cli(capsys, "demo")
    assert code == 2
    [line] = err.splitlines()
    assert "demo is not loaded" in line
    assert "DATABASE_URL" in line
    assert out == ""
    assert store.repos() == ["acme/support"]
