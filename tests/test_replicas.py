"""Exactly once with real processes: three ``chatbot serve`` replicas on one PostgreSQL database.

The replicas are separate processes (``python -m chatbot serve``), started together on an
empty database, posting to the fake Slack running in this process, with two schedules firing
every 3 and 5 seconds to ``#support`` (by name) and ``C0OTHER`` (by id). While they run,
replicas are SIGKILLed right after claiming a row, right after a post reached Slack (before
the replica hears back), and at random; they come back; all of them stop for longer than
several fire intervals and start again (catch-up); ``chat.postMessage`` answers 429s (some
with a Retry-After longer than the lease) and 5xx; the replicas' database sessions are
terminated. Then every firing up to the end must have been posted exactly once, with no
gap, and the delivery log must say so.

The moves come one at a time, in an order drawn from a seeded RNG (``REPLICA_TEST_SEED``,
default 6), and each waits for the event that shows it happened (a row claimed, a post
stored, a failure answered, each schedule's firings missed), then all firings up to the end
for their rows to be posted: no fixed sleep and no pace a loaded machine could miss, only a
guard of two minutes on each wait against a hang.
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
    GUARD,
    SUPPORT_ID,
    Chaos,
    Cluster,
    check,
    delivery_rows,
)

pytestmark = pytest.mark.postgres

SEED = int(os.environ.get("REPLICA_TEST_SEED", "6"))
LEASE = 3.0  # a post must end within half of it (under load too)
TICK = 0.25
OUTAGE_FIRINGS = 1  # each schedule fires with every replica down; far inside the catch-up
#: Two schedules, two targets each (``#support`` by name, ``C0OTHER`` by id): about one firing
#: a second, which three replicas keep up with on a loaded machine while they are killed.
SCHEDULES = """
[[schedules]]
name = "every-3s"
cron = "*/3 * * * * *"
timezone = "Europe/Berlin"
period = "yesterday"
targets = ["slack:#support", "slack:C0OTHER"]

[[schedules]]
name = "every-5s"
cron = "*/5 * * * * *"
timezone = "UTC"
period = "last-week"
targets = ["slack:#support", "slack:C0OTHER"]
"""

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
        cluster = Cluster(
            fake=fake,
            database_url=url,
            workdir=tmp_path,
            lease=LEASE,
            tick=TICK,
            schedules=SCHEDULES,
        )
        chaos: Chaos | None = None
        try:
            cluster.start_all()
            cluster.wait_healthy()
            chaos = Chaos(cluster, rng, restart_after=(0.2, 1.0))
            chaos.perform_all(FIRST_PHASE)
            outage_start, outage_end = chaos.outage_over(OUTAGE_FIRINGS)
            cluster.wait_healthy()
            chaos.perform_all(SECOND_PHASE)
            chaos.calm()
            cutoff = datetime.now(UTC)
            settled = chaos.settle(cutoff, timeout=GUARD)
            served = chaos.drain_faults(timeout=GUARD)
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
    assert settled, f"firings still open after {GUARD:.0f} s: {report}"
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
    schedules = cluster.schedules()
    missed = [r for r in rows if outage_start < r.fire_time <= outage_end]
    expected = sum(len(s.fire_times(outage_start, outage_end)) * len(s.targets) for s in schedules)
    assert len(missed) == expected >= 2 * OUTAGE_FIRINGS * len(schedules), report  # not skipped
    posted_to = {r.message_id.split("/")[0] for r in rows if r.message_id}
    assert posted_to == {SUPPORT_ID, "C0OTHER"}, report
