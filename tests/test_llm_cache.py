"""The model's answers kept in the store: replicas and repeated requests ask the model once.

Each "replica" is an app built by the composition root on its own engine, all on one
database (a SQLite file, or PostgreSQL), reaching :class:`~tests.fakes.openai_api.FakeOpenAI`
through ``OPENAI_BASE_URL``. The model's time per report is bounded as a whole.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from chatbot.app import App, build_app
from chatbot.config import load_settings
from chatbot.core.grammar import parse_period
from chatbot.core.periods import Period, utc_now
from chatbot.core.report import Report
from chatbot.delivery.files import write_period
from chatbot.llm import ModelClient, ModelConfig, ModelError, ModelRefiner
from chatbot.llm.refine import STILL_ASKING
from chatbot.render.markdown import render_markdown
from chatbot.service import DAILY_OFFLINE, ReportService
from chatbot.store.answers import SQLAlchemyAnswerCache
from chatbot.store.tables import model_answers
from tests.fakes.openai_api import FakeOpenAI
from tests.test_llm import NOW, tickets

REFINED = "Themes and recommendations by the model fake-model"


def _starter(db_url: str, stack: ExitStack) -> Any:
    """Start apps ("replicas") on ``db_url``, with a week of tickets; closed with ``stack``."""

    def start(fake: FakeOpenAI, count: int = 1, **overrides: Any) -> list[App]:
        settings = load_settings(
            None,
            database_url=db_url,
            openai_api_key="sk-test",
            openai_base_url=fake.base_url,
            openai_model="fake-model",
            **overrides,
        )
        apps = [build_app(settings, demo=False) for _ in range(count)]
        for app in apps:
            stack.callback(app.store.engine.dispose)
        if not apps[0].store.count_tickets():
            apps[0].store.save_tickets(tickets())
        return apps

    return start


@pytest.fixture
def replicas(db_url: str) -> Iterator[Any]:
    """Replicas on SQLite and on PostgreSQL, for what depends on the database's locking."""
    with ExitStack() as stack:
        yield _starter(db_url, stack)


@pytest.fixture
def sqlite_replicas(sqlite_url: str) -> Iterator[Any]:
    """Replicas on a SQLite file, for what does not depend on the database."""
    with ExitStack() as stack:
        yield _starter(sqlite_url, stack)


def week(app: App) -> Period:
    return parse_period("2025-W17", app.service.calendar())


def kept(app: App) -> list[tuple[str, str | None]]:
    """The model's rows of the store's answer table: (key, answer); the themes' groupings,
    kept in the same table (keys ``themes:...``), left out."""
    statement = select(model_answers.c.key, model_answers.c.answer).where(
        model_answers.c.key.not_like("themes:%")
    )
    with app.store.engine.connect() as conn:
        rows = conn.execute(statement).all()
    return [(row.key, row.answer) for row in rows]


def test_replicas_building_one_period_at_once_ask_the_model_once(replicas: Any) -> None:
    """Three replicas build the same week in threads while the model is slow: one call."""
    with FakeOpenAI("slow") as fake:
        apps = replicas(fake, 3)
        start = threading.Barrier(len(apps))
        reports: list[Report] = []

        def build(app: App) -> None:
            start.wait()
            reports.append(app.service.build_report(week(app)))

        threads = [threading.Thread(target=build, args=(app,)) for app in apps]
        for thread in threads:
            thread.start()
        fake.wait_for(1)  # one replica asks; the others find its claim and wait
        fake.release()
        for thread in threads:
            thread.join()
        assert len(fake.requests) == 1
    assert len(reports) == 3
    assert all(r.analysis_note and r.analysis_note.startswith(REFINED) for r in reports)
    assert reports[0].themes == reports[1].themes == reports[2].themes
    [(key, answer)] = kept(apps[0])
    assert key.startswith("fake-model|2025-04-21/2025-04-27/UTC|")
    assert answer is not None


def test_a_restarted_replica_reuses_the_kept_answer(sqlite_replicas: Any) -> None:
    """An answer outlives the process: a new app on the same store does not ask again."""
    with FakeOpenAI("good") as fake:
        [first] = sqlite_replicas(fake)
        before = first.service.build_report(week(first))
        [later] = sqlite_replicas(fake)
        again = later.service.build_report(week(later))
        assert len(fake.requests) == 1
    assert again.themes == before.themes
    assert again.recommendations == before.recommendations


def test_a_rejected_answer_is_not_kept(replicas: Any) -> None:
    """An answer that fails the checks is not stored: the next request, anywhere, asks again."""
    with FakeOpenAI("invalid_json") as fake:
        one, two = replicas(fake, 2, openai_max_retries=0)
        first = one.service.build_report(week(one))
        reason = "the model's answer was not JSON under the schema"
        assert first.analysis_note == f"Offline analysis: {reason}"
        assert kept(one) == []  # neither an answer nor a claim is left behind
        two.service.build_report(week(two))
        assert len(fake.requests) == 2
        fake.mode = "good"
        fixed = two.service.build_report(week(two))
        assert len(fake.requests) == 3
    assert fixed.analysis_note is not None
    assert fixed.analysis_note.startswith(REFINED)


def test_a_failed_call_leaves_no_claim(sqlite_replicas: Any) -> None:
    """After HTTP 500 the claim is released, so another replica asks at once, not after a lease."""
    with FakeOpenAI("500") as fake:
        one, two = sqlite_replicas(fake, 2, openai_max_retries=0)
        report = one.service.build_report(week(one))
        assert report.analysis_note == "Offline analysis: the model server answered HTTP 500"
        assert kept(one) == []
        two.service.build_report(week(two))
        assert len(fake.requests) == 2


def test_a_dead_claimers_lease_runs_out_and_another_asks(replicas: Any) -> None:
    """A claim whose lease has run out (its replica died) is taken over: the model is asked."""
    with FakeOpenAI("good") as fake:
        [one] = replicas(fake)
        one.service.build_report(week(one))
        [(key, _)] = kept(one)
        cache = SQLAlchemyAnswerCache(one.store.engine)
        with one.store.engine.begin() as conn:
            conn.execute(delete(model_answers))
        # a replica claimed the key an hour ago for a minute, then died
        an_hour_ago = utc_now() - timedelta(hours=1)
        assert cache.claim(key, "dead-replica", an_hour_ago, timedelta(minutes=1))
        [other] = replicas(fake)
        report = other.service.build_report(week(other))
        assert len(fake.requests) == 2
    assert report.analysis_note is not None
    assert report.analysis_note.startswith(REFINED)
    assert kept(one) == [(key, fake_answer(fake))]


def fake_answer(fake: FakeOpenAI) -> str:
    """The content the fake answered last (what the store must keep)."""
    status, answer = fake.answer(fake.requests[-1])
    assert status == 200
    return str(answer["content"])


def test_a_live_claim_makes_others_wait_then_fall_back(replicas: Any) -> None:
    """While another replica holds a live claim, a waiter whose wait runs out shows offline."""
    with FakeOpenAI("good") as fake:
        [one] = replicas(fake)
        one.service.build_report(week(one))
        [(key, _)] = kept(one)
        cache = SQLAlchemyAnswerCache(one.store.engine)
        with one.store.engine.begin() as conn:
            conn.execute(delete(model_answers))
        assert cache.claim(key, "busy-replica", utc_now(), timedelta(hours=1))
        config = ModelConfig(base_url=fake.base_url, api_key="k", model="fake-model")
        waiter = ModelRefiner(ModelClient(config), cache=cache, wait=0.0)
        service = ReportService(one.store, refine=waiter)
        report = service.build_report(week(one))
        assert len(fake.requests) == 1  # only the first build asked
        assert report.analysis_note == f"Offline analysis: {STILL_ASKING}"
        cache.put(key, fake_answer(fake), utc_now())  # the busy replica answers
        assert cache.claim(key, "late-replica", utc_now(), timedelta(hours=1)) is False
        answered = service.build_report(week(one))
        assert len(fake.requests) == 1
    assert answered.analysis_note is not None
    assert answered.analysis_note.startswith(REFINED)


def test_a_weekly_run_asks_only_for_the_week(sqlite_replicas: Any, tmp_path: Path) -> None:
    """Writing a week writes its dailies offline (their note says so); one model call in all."""
    with FakeOpenAI("good") as fake:
        [app] = sqlite_replicas(fake)
        service = ReportService(app.store, clock=lambda: NOW, refine=app.service.refine)
        written = write_period(service, week(app), tmp_path)
        assert len(fake.requests) == 1
    *dailies, weekly = written
    assert len(dailies) == 7
    assert all(d.report.analysis_note == DAILY_OFFLINE for d in dailies)
    assert f"- Analysis: {DAILY_OFFLINE}" in dailies[0].markdown.read_text()
    assert weekly.report.analysis_note is not None
    assert weekly.report.analysis_note.startswith(REFINED)
    assert REFINED in render_markdown(weekly.report)


def test_the_timeout_bounds_the_whole_answer(sqlite_replicas: Any) -> None:
    """OPENAI_TIMEOUT covers retries too: a slow model is asked once, not once per retry."""
    with FakeOpenAI("slow") as fake:
        [app] = sqlite_replicas(fake, openai_timeout=0.3, openai_max_retries=2)
        report = app.service.build_report(week(app))
        fake.release()
        assert len(fake.requests) == 1
    assert report.analysis_note == "Offline analysis: the model did not answer within 0.3 s"
    assert kept(app) == []


def test_no_retry_starts_after_the_budget() -> None:
    """A retry whose pause would end past the budget is not made; the failure is reported."""
    with FakeOpenAI("500") as fake:
        config = ModelConfig(base_url=fake.base_url, api_key="k", model="m",
                             timeout=0.4, max_retries=5)  # the first pause is 0.5 s
        with pytest.raises(ModelError, match="HTTP 500"):
            ModelClient(config).complete([{"role": "user", "content": "<data>\n{}\n</data>"}])
        assert len(fake.requests) == 1


def test_rate_limits_are_retried_as_the_server_asks(sqlite_replicas: Any) -> None:
    """HTTP 429 with retry-after-ms is retried OPENAI_MAX_RETRIES times, then offline."""
    with FakeOpenAI("429") as fake:
        [app] = sqlite_replicas(fake, openai_max_retries=2)
        report = app.service.build_report(week(app))
        assert len(fake.requests) == 3
    assert report.analysis_note == "Offline analysis: the model server answered HTTP 429"
