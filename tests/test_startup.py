"""Replicas starting together on an empty PostgreSQL database: one migrates, one loads the demo."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from chatbot.app import build_app
from chatbot.config import load_settings
from tests.pg import fresh_database


@pytest.fixture
def empty_pg() -> Iterator[str]:
    """A brand-new PostgreSQL database, dropped afterwards."""
    with fresh_database("support_report_start") as url:
        yield url


def test_replicas_starting_together_do_not_race(empty_pg: str) -> None:
    """Four processes' start-ups at once all succeed, and the demo is loaded exactly once."""
    errors: list[BaseException] = []
    counts: list[int] = []
    gate = threading.Barrier(4)

    def start() -> None:
        try:
            gate.wait()
            app = build_app(load_settings(None, database_url=empty_pg))
            counts.append(app.store.count_tickets())
            app.store.engine.dispose()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a start-up is stuck"
    assert errors == []
    assert len(set(counts)) == 1
    assert counts[0] > 500
