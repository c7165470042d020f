"""Soak the exactly-once scheduler: real ``chatbot serve`` replicas, random kills, for minutes.

The setup of tests/test_replicas.py (tests/replica_harness.py): N replicas as separate
processes on a fresh PostgreSQL database, the fake Slack in this process, two schedules
firing every 2 and 3 seconds to two channels (about 1.7 firings a second). While it runs,
one move every ``--every`` seconds on average (default 5) picked at random among: SIGKILL a
replica right after a claim, right after a post, or at random (it comes back after 0.5-2.5
s); make ``chat.postMessage`` answer a 429 (Retry-After 1-2 s) or a 5xx; terminate the
replicas' database sessions. Each kill of a replica holding a claim delays that row by the
lease (``--lease``, default 3 s), so the latency tail grows with the pace of kills.
Optionally every replica stops for ``--outage`` seconds halfway (the firings missed meanwhile
are caught up, which counts in the latency).

At the end it waits for every firing up to the end to be done, compares the delivery log
with what Slack received, and prints one ``name: value`` a line: firings (schedule, target,
fire time), posted, duplicates, lost, and the post latency after the fire time (when the
fake Slack received the message; ``recorded_*`` from the log's ``posted_at``).

    python benchmarks/soak.py                              # ~200 firings, 3 replicas
    python benchmarks/soak.py --firings 500 --replicas 4 --seed 7 --every 2
    python benchmarks/soak.py --duration 60 --outage 10     # with a 10 s stop of every replica

Targets: 0 duplicates, 0 lost, p99 latency < 5 s. Exits 1 when a target is missed.
Needs the PostgreSQL server of the tests (TEST_POSTGRES_URL, default 127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.pg import fresh_database  # noqa: E402
from tests.replica_harness import (  # noqa: E402
    Chaos,
    Cluster,
    check,
    delivery_rows,
    percentile,
)

FIRINGS_PER_SECOND = 2 * (1 / 2 + 1 / 3)  # two targets; every 2 s and every 3 s


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its figures; 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--firings", type=int, default=200, help="about this many firings")
    parser.add_argument("--duration", type=float, help="seconds of firings (overrides --firings)")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between moves (mean)")
    parser.add_argument("--outage", type=float, default=0.0, help="stop all for this long")
    parser.add_argument("--lease", type=float, default=3.0, help="DELIVERY_LEASE_SECONDS")
    parser.add_argument("--tick", type=float, default=0.5, help="SCHEDULER_TICK_SECONDS")
    parser.add_argument("--keep", action="store_true", help="keep the replicas' logs")
    args = parser.parse_args(argv)
    duration = args.duration or args.firings / FIRINGS_PER_SECOND

    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    started = time.monotonic()
    with fresh_database("support_report_soak") as url, FakeSlack() as fake:
        cluster = Cluster(
            fake=fake,
            database_url=url,
            workdir=workdir,
            replicas=args.replicas,
            tick=args.tick,
            lease=args.lease,
        )
        chaos: Chaos | None = None
        try:
            cluster.start_all()
            cluster.wait_healthy()
            chaos = Chaos(cluster, rng, retry_afters=(1, 2))
            half = duration / 2
            for part in range(2):
                chaos.run(half, chaos.plan(half, every=args.every))
                if part == 0 and args.outage > 0:
                    chaos.outage(args.outage)
            chaos.calm()
            cutoff = datetime.now(UTC)
            settled = chaos.settle(cutoff, timeout=120)
            chaos.drain_faults(timeout=15)
            cluster.stop_all()
            outcome = check(delivery_rows(url), fake, cluster.schedules(), cutoff)
        except BaseException:
            print(cluster.tails(), file=sys.stderr)
            raise
        finally:
            cluster.close()
            if chaos is not None:
                chaos.close()
    counts = chaos.counts
    p99 = percentile(outcome.latencies, 99)
    figures = {
        "replicas": args.replicas,
        "seed": args.seed,
        "duration_s": round(duration, 1),
        "firings": outcome.firings,
        "posted": outcome.posted,
        "duplicates": sum(n - 1 for n in outcome.duplicates.values()),
        "lost": len(outcome.lost) + len(outcome.gaps),
        "messages_without_row": len(outcome.unplanned),
        "latency_p50_s": round(percentile(outcome.latencies, 50), 3),
        "latency_p99_s": round(p99, 3),
        "latency_max_s": round(max(outcome.latencies, default=0.0), 3),
        "recorded_p50_s": round(percentile(outcome.recorded_latencies, 50), 3),
        "recorded_p99_s": round(percentile(outcome.recorded_latencies, 99), 3),
        "kills_after_claim": counts.kills_after_claim,
        "kills_after_post": counts.kills_after_post,
        "random_kills": counts.random_kills,
        "rate_limits": counts.rate_limits,
        "server_errors": counts.server_errors,
        "connection_drops": counts.connection_drops,
        "outage_s": args.outage,
        "retried_rows": sum(n for a, n in outcome.attempts.items() if a > 1),
        "settled": settled,
        "wall_s": round(time.monotonic() - started, 1),
    }
    for name, value in figures.items():
        print(f"{name}: {value}")
    if args.keep:
        print(f"logs: {workdir}")
    else:
        for log in workdir.iterdir():
            log.unlink()
        workdir.rmdir()
    missed = figures["duplicates"] or figures["lost"] or figures["messages_without_row"]
    return 1 if missed or p99 >= 5 or not settled else 0


if __name__ == "__main__":
    sys.exit(main())
