"""The delivery log: planning is idempotent, a row is claimed by one worker at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from chatbot.core.deliveries import Status, delivery_key
from chatbot.core.ports import DeliveryLog
from chatbot.scheduling.memory_log import MemoryDeliveryLog
from chatbot.store import open_store
from chatbot.store.deliveries import SQLAlchemyDeliveryLog
from tests.factories import at

NOW = at("2025-04-22 07:00")
LEASE = timedelta(seconds=30)


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def log(request: pytest.FixtureRequest) -> Iterator[DeliveryLog]:
    """The database log (SQLite and PostgreSQL) and the in-memory one keep the same rules."""
    if request.param == "memory":
        yield MemoryDeliveryLog()
        return
    store = open_store(request.getfixturevalue(f"{request.param}_url"))
    yield SQLAlchemyDeliveryLog(store.engine)
    store.engine.dispose()


def firing(minute: int, target: str = "slack:#support") -> tuple[str, str, datetime, Status]:
    return ("daily", target, NOW + timedelta(minutes=minute), "pending")


def test_planning_twice_keeps_one_row(log: DeliveryLog) -> None:
    """Every replica may plan the same firing; the log keeps one row for it."""
    assert log.plan([firing(0), firing(0, "slack:C1")], NOW) == 2
    assert log.plan([firing(0), firing(0, "slack:C1")], NOW) == 0
    assert len(log.all()) == 2


def test_claim_then_post_once(log: DeliveryLog) -> None:
    """A claimed row is not claimed again while its lease holds; posting needs the claim."""
    log.plan([firing(0)], NOW)
    [mine] = log.claim("a", NOW, LEASE)
    assert mine.attempts == 1
    assert log.claim("b", NOW + timedelta(seconds=5), LEASE) == []
    assert not log.mark_posted(mine.id, "b", NOW, "ts-b")
    assert log.mark_posted(mine.id, "a", NOW + timedelta(seconds=6), "ts-a")
    [row] = log.all()
    assert (row.status, row.message_id) == ("posted", "ts-a")
    assert log.claim("b", NOW + timedelta(hours=1), LEASE) == []


def test_expired_lease_moves_to_another_worker(log: DeliveryLog) -> None:
    """When a worker dies holding a claim, another takes the row after the lease runs out."""
    log.plan([firing(0)], NOW)
    [first] = log.claim("a", NOW, LEASE)
    later = NOW + LEASE + timedelta(seconds=1)
    [second] = log.claim("b", later, LEASE)
    assert second.id == first.id
    assert second.attempts == 2
    assert not log.mark_posted(first.id, "a", later, "ts-a")  # the dead worker lost its claim
    assert log.mark_posted(second.id, "b", later, "ts-b")


def test_not_due_is_not_claimed(log: DeliveryLog) -> None:
    """A firing in the future waits for its time."""
    log.plan([firing(10)], NOW)
    assert log.claim("a", NOW, LEASE) == []
    assert len(log.claim("a", NOW + timedelta(minutes=10), LEASE)) == 1


def test_retry_later_and_failure(log: DeliveryLog) -> None:
    """A transient error waits for its back-off; a permanent one keeps its reason."""
    log.plan([firing(0), firing(0, "slack:C1")], NOW)
    one, two = log.claim("a", NOW, LEASE)
    assert log.retry_later(one.id, "a", NOW, NOW + timedelta(seconds=20), "HTTP 503")
    assert log.mark_failed(two.id, "a", NOW, "channel_not_found")
    assert log.claim("a", NOW + timedelta(seconds=10), LEASE) == []
    [again] = log.claim("a", NOW + timedelta(seconds=20), LEASE)
    assert again.id == one.id
    assert again.error == "HTTP 503"
    assert {d.target: d.status for d in log.all()}["slack:C1"] == "failed"
    assert log.counts() == {"claimed": 1, "failed": 1}


def test_horizon_only_moves_forward(log: DeliveryLog) -> None:
    """Replicas racing to record the planning horizon never move it back."""
    assert log.horizon("daily") is None
    log.advance_horizon("daily", NOW)
    log.advance_horizon("daily", NOW - timedelta(hours=1))
    assert log.horizon("daily") == NOW
    log.advance_horizon("daily", NOW + timedelta(hours=1))
    assert log.horizon("daily") == NOW + timedelta(hours=1)


def test_key_format() -> None:
    """The delivery key is schedule/target/fire time in ISO 8601 UTC."""
    assert delivery_key("daily", "slack:#support", at("2025-04-22 07:00")) == (
        "daily/slack:#support/2025-04-22T07:00:00Z"
    )


def test_concurrent_claimers_never_share_a_row(log: DeliveryLog) -> None:
    """Eight workers claiming at once get disjoint rows, and every row is claimed."""
    log.plan([firing(m) for m in range(40)], NOW)
    claimed: dict[str, list[int]] = {}
    start = threading.Barrier(8)

    def work(name: str) -> None:
        start.wait()
        mine: list[int] = []
        while batch := log.claim(name, NOW + timedelta(hours=1), LEASE, limit=3):
            mine += [d.id for d in batch]
        claimed[name] = mine

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [i for mine in claimed.values() for i in mine]
    assert len(ids) == len(set(ids)) == 40
