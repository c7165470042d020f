"""The themes' groupings kept in the store: a repeated report skips grouping, unchanged.

A grouping is kept under a hash of what it read (keys, titles, texts, settings) in the
store's answer table, so replicas share it; the report built from a kept grouping is the
report built without one.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from chatbot.core.periods import utc_now
from chatbot.core.report import Report
from chatbot.service import ReportService
from chatbot.sources.demo import ensure_demo
from chatbot.store import SQLAlchemyTicketStore, open_store
from chatbot.store.answers import KEEP_DAYS, SQLAlchemyAnswerCache
from chatbot.store.tables import model_answers
from tests.test_themes import CRASH, GRID, NOW, ODD, WEEK, _members, _tickets


def _groupings(store: SQLAlchemyTicketStore) -> list[str]:
    """The keys of the groupings kept in the store."""
    statement = select(model_answers.c.key).where(model_answers.c.key.like("themes:%"))
    with store.engine.connect() as conn:
        return list(conn.execute(statement).scalars())


def _report(store: SQLAlchemyTicketStore, *, cached: bool) -> Report:
    """Last week's report, as a replica with (or without) the store's grouping cache builds it."""
    cache = SQLAlchemyAnswerCache(store.engine) if cached else None
    return ReportService(store, clock=lambda: NOW, theme_cache=cache).build_report(WEEK)


def _saved(store: SQLAlchemyTicketStore) -> None:
    earlier = _tickets(CRASH[:3] + GRID[:1], first=101, day="2025-04-15")
    store.save_tickets([*_tickets(CRASH + GRID + ODD), *earlier])


def test_replicas_share_one_grouping_and_report_what_grouping_anew_does(
    store: SQLAlchemyTicketStore,
) -> None:
    """Two replicas and a repeat build one grouping between them; the themes are the same."""
    _saved(store)
    first, second, again = (_report(store, cached=True) for _ in range(3))
    assert len(_groupings(store)) == 1
    assert first == second == again == _report(store, cached=False)
    assert {1, 2, 3, 4, 5} in _members(first)
    assert [t.previous for t in first.themes] == [3, 1, None]


def test_a_changed_ticket_text_is_grouped_anew(store: SQLAlchemyTicketStore) -> None:
    """A ticket whose text changed gives a new grouping, never the kept one."""
    _saved(store)
    _report(store, cached=True)
    [odd] = _tickets(ODD[:1], first=11)
    store.save_tickets([replace(odd, body=CRASH[0][1], updated_at=NOW - timedelta(days=1))])
    report = _report(store, cached=True)
    assert len(_groupings(store)) == 2
    assert report == _report(store, cached=False)


def test_an_unreadable_kept_grouping_is_grouped_anew(store: SQLAlchemyTicketStore) -> None:
    """A kept grouping that is not one (another version's) is grouped again, not trusted."""
    _saved(store)
    fresh = _report(store, cached=True)
    with store.engine.begin() as conn:
        conn.execute(update(model_answers).values(answer='{"topics": [[0, [["x", 1]]]]}'))
    assert _report(store, cached=True) == fresh


def test_old_rows_are_dropped_when_a_new_one_is_put(store: SQLAlchemyTicketStore) -> None:
    """Putting an answer drops those (and lapsed claims) older than KEEP_DAYS, no others."""
    cache = SQLAlchemyAnswerCache(store.engine)
    cache.put("themes:old", "{}", NOW - timedelta(days=KEEP_DAYS + 1))
    cache.claim("model:old", "replica-1", NOW - timedelta(days=KEEP_DAYS + 1), timedelta(1))
    cache.put("model:recent", "kept", NOW - timedelta(days=KEEP_DAYS - 1))
    cache.put("themes:new", "{}", NOW)
    with store.engine.connect() as conn:
        keys = set(conn.execute(select(model_answers.c.key)).scalars())
    assert keys == {"model:recent", "themes:new"}


def test_a_repeated_report_from_the_command_line_does_not_import_numpy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chatbot report last-week --no-files` run again finds its grouping in the store: it
    prints the same report without importing numpy (the TF-IDF and NMF are skipped)."""
    database = tmp_path / "store.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    now = utc_now()
    zone = f"Etc/GMT{now.hour - 12:+d}"  # about noon there: "today" holds through both runs
    monkeypatch.setenv("TZ", zone)
    store = open_store(f"sqlite:///{database}")
    ensure_demo(store, now, zone)
    store.engine.dispose()
    code = (
        "import sys\n"
        "from chatbot.cli import main\n"
        "main(['report', 'last-week', '--no-files'])\n"
        "print('numpy' in sys.modules)\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        for _ in range(2)
    ]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    cold, warm = (run.stdout.splitlines() for run in runs)
    assert "## Common Issues" in runs[0].stdout
    assert (cold[-1], warm[-1]) == ("True", "False")
    assert cold[:-1] == warm[:-1]


def test_a_cache_that_cannot_answer_leaves_the_report_as_without_one(
    store: SQLAlchemyTicketStore,
) -> None:
    """The answer table gone (a store that cannot be read or written): the report is built,
    the same as without a cache, and each failure is one log line."""
    from structlog.testing import capture_logs

    _saved(store)
    expected = _report(store, cached=False)
    with store.engine.begin() as conn:
        model_answers.drop(conn)
    with capture_logs() as logs:
        built = _report(store, cached=True)
    assert built == expected
    steps = [e["step"] for e in logs if e["event"] == "result_cache_unavailable"]
    assert steps == ["get", "put"]
