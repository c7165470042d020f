"""Exactly once with real processes: three ``chatbot serve`` replicas on one PostgreSQL database.

The replicas are separate processes (``python -m chatbot serve``), started together on an
empty database, posting to the fake Slack running in this process, with two schedules firing
every 2 and 3 seconds to ``#support`` (by name) and ``C0OTHER`` (by id). While they run,
replicas are SIGKILLed right after claiming a row, right after a post reached Slack (before
the replica hears back), and at random; they come back; all of them stop for longer than
several fire intervals and start again (catch-up); ``chat.postMessage`` answers 429s (some
with a Retry-After longer than the lease) and 5xx; the replicas' database sessions are
terminated. Then every firing up to the end must have been posted exactly once, with no
gap, and the delivery log must say so.

The moves come from a seeded RNG (``REPLICA_TEST_SEED``, default 6); timings are bounded
waits on observable states, never sleeps standing in for a result.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.slack_api import FakeSlack
from tests.pg import fresh_database
from tests.replica_harness import (
    SUPPORT_ID,
    Chaos,
    Cluster,
    check,
    delivery_rows,
)

pytestmark = pytest.mark.postgres

SEED = int(os.environ.get("REPLICA_TEST_SEED", "6"))
LEASE = 3.0
OUTAGE = 8.0  # longer than several fire intervals (2 s, 3 s); far inside the catch-up window

FIRST_PHASE = (
    "claim_kill",
    "claim_kill",
    "post_kill",
    "post_kill",
    "random_kill",
    "rate_limit",
    "rate_limit",
    "server_error",
    "server_error",
    "drop_connections",
    "drop_connections",
)
SECOND_PHASE = ("claim_kill", "post_kill", "rate_limit", "drop_connections")


def test_three_replicas_post_every_firing_exactly_once(tmp_path: Path) -> None:
    """Killed, restarted, stopped, rate limited and cut off replicas post each firing once."""
    rng = random.Random(SEED)
    with fresh_database("support_report_replicas") as url, FakeSlack() as fake:
        cluster = Cluster(fake=fake, database_url=url, workdir=tmp_path, lease=LEASE)
        chaos: Chaos | None = None
        try:
            cluster.start_all()
            cluster.wait_healthy()
            chaos = Chaos(cluster, rng)
            chaos.run(22, chaos.plan(22, every=1.5, must=FIRST_PHASE))
            outage_start = datetime.now(UTC)
            chaos.outage(OUTAGE)
            outage_end = datetime.now(UTC)
            cluster.wait_healthy()
            chaos.run(10, chaos.plan(10, every=2.0, must=SECOND_PHASE))
            chaos.calm()
            cutoff = datetime.now(UTC)
            settled = chaos.settle(cutoff, timeout=60)
            served = chaos.drain_faults(timeout=15)
            cluster.stop_all()
            rows = delivery_rows(url)
            outcome = check(rows, fake, cluster.schedules(), cutoff)
        except BaseException:
            print(f"seed {SEED}\n{cluster.tails()}")
            raise
        finally:
            cluster.close()
            if chaos is not None:
                chaos.close()

    counts = chaos.counts
    report = f"seed {SEED}; {outcome.summary()}; {counts}\n{cluster.tails()}"
    assert settled, f"firings still open after 60 s: {report}"
    assert outcome.problems() == [], report
    assert set(outcome.statuses) == {"posted"}, report  # nothing failed, nothing skipped
    assert outcome.posted == outcome.firings == len(outcome.latencies), report
    # the moves happened, and each left its mark on the log
    assert counts.kills_after_claim >= 1, report
    assert counts.kills_after_post >= 1, report
    assert counts.backends_terminated >= 1, report
    assert served, report  # every injected 429 and 5xx was answered to some replica
    for key in counts.posted_keys + counts.claimed_keys:  # taken over, found or posted once
        row = outcome.rows[key]
        assert (row.status, row.attempts >= 2) == ("posted", True), (key, row, report)
    missed = [r for r in rows if outage_start < r.fire_time < outage_end]
    assert len(missed) >= 2 * int(OUTAGE / 3), report  # posted after the outage, not skipped
    posted_to = {r.message_id.split("/")[0] for r in rows if r.message_id}
    assert posted_to == {SUPPORT_ID, "C0OTHER"}, report
