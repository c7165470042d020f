"""Exactly once with real processes on Discord: three ``chatbot serve`` replicas, one database.

The replicas are separate processes (``python -m chatbot serve``) with only Discord
configured (``DISCORD_TOKEN``, one token each, and ``DISCORD_API_URL`` pointing at the
fake Discord running in this process), started together on an empty PostgreSQL database,
with two schedules firing every 3 and 5 seconds to two Discord channels. While they run,
replicas are SIGKILLed right after claiming a row, right after a post was stored by the fake
(before the replica hears back), and at random; they come back; channel posts answer 429s
(discord.py's headers; one asks to wait longer than the lease) and 5xx; the replicas'
database sessions are terminated. Then every firing up to the end must have been posted
exactly once (counted by the delivery key in the stored messages' footers), with no gap,
and the delivery log must say so, with the message ids the fake gave.

The moves come one at a time, in an order drawn from a seeded RNG (``REPLICA_TEST_SEED``,
default 6), and each waits for the event that shows it happened (a row claimed, a post
stored, a failure answered), then all firings up to the end for their rows to be posted: no
fixed sleep and no pace a loaded machine could miss, only a guard of two minutes on each
wait against a hang.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatbot.render.discord_embeds import delivery_key_in
from tests.fakes.discord_api import CHANNEL_ID, FakeDiscord
from tests.pg import fresh_database
from tests.replica_harness import (
    DISCORD_POST,
    GUARD,
    Chaos,
    Cluster,
    FakeDiscordPlatform,
    check,
    delivery_rows,
)

pytestmark = pytest.mark.postgres

SEED = int(os.environ.get("REPLICA_TEST_SEED", "6"))
LEASE = 3.0  # a post must end within half of it (under load too)
TICK = 0.25
OTHER_ID = "1300000000000000002"  # the fake's second channel
SCHEDULES = f"""
[[schedules]]
name = "every-3s"
cron = "*/3 * * * * *"
timezone = "Europe/Berlin"
period = "yesterday"
targets = ["discord:{CHANNEL_ID}", "discord:{OTHER_ID}"]

[[schedules]]
name = "every-5s"
cron = "*/5 * * * * *"
timezone = "UTC"
period = "last-week"
targets = ["discord:{CHANNEL_ID}", "discord:{OTHER_ID}"]
"""
MOVES = (
    "claim_kill",
    "claim_kill",
    "post_kill",
    "post_kill",
    "random_kill",
    "random_kill",
    "rate_limit",
    "long_rate_limit",
    "server_error",
    "server_error",
    "drop_connections",
)


def test_three_discord_replicas_post_every_firing_exactly_once(tmp_path: Path) -> None:
    """Killed, restarted, rate limited and cut off Discord replicas post each firing once."""
    rng = random.Random(SEED)
    with fresh_database("support_report_replicas_discord") as url, FakeDiscord() as fake:
        cluster = Cluster(
            fake=FakeDiscordPlatform(fake),
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
            chaos.perform_all(MOVES)
            chaos.calm()
            cutoff = datetime.now(UTC)
            settled = chaos.settle(cutoff, timeout=GUARD)
            served = chaos.drain_faults(timeout=GUARD)
            cluster.stop_all()
            rows = delivery_rows(url)
            outcome = check(rows, cluster.platform, cluster.schedules(), cutoff)
        except BaseException:
            print(f"seed {SEED}\n{cluster.tails()}")
            raise
        finally:
            cluster.close()
            if chaos is not None:
                chaos.close()

    counts = chaos.counts
    sent = Counter(delivery_key_in(c.body) for c in fake.calls(DISCORD_POST))
    repeats = {k: n for k, n in sent.items() if k is not None and n > 1}
    summary = f"seed {SEED}; {outcome.summary()}; {counts}; posts sent again {repeats}"
    report = f"{summary}\n{cluster.tails()}"
    assert settled, f"firings still open after {GUARD:.0f} s: {report}"
    assert outcome.problems() == [], report
    assert set(outcome.statuses) == {"posted"}, report  # nothing failed, nothing skipped
    assert outcome.posted == outcome.firings == len(outcome.latencies), report
    # the moves happened, and each left its mark on the log
    assert counts.kills_after_claim >= 1, report
    assert counts.kills_after_post >= 1, report
    assert counts.random_kills >= 1, report
    assert counts.long_rate_limits == 1, report
    assert served, report  # every injected 429 and 5xx was answered to some replica
    for key in counts.posted_keys + counts.claimed_keys:  # taken over, found or posted once
        row = outcome.rows[key]
        assert (row.status, row.attempts >= 2) == ("posted", True), (key, row, report)
    posted_to = {r.message_id.split("/")[0] for r in rows if r.message_id}
    assert posted_to == {CHANNEL_ID, OTHER_ID}, report
