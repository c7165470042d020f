"""Time loading tickets into a growing store, on SQLite and PostgreSQL.

Resamples ``--total`` tickets from the bundled demo set (as ``benchmarks/report.py`` does:
each copy a new number, shifted back in time over ``--years``, with its comments) and saves
them with ``save_tickets`` in steps of ``--step`` into one fresh store, so the later steps
write into a store that already holds the earlier ones. Prints, one ``name: value`` a
line, each step's time and cost per ticket, then the total: a flat per-ticket cost means
the load is linear in the store's size. On Linux each step also gets its cost per ticket
without the time this process waited for a CPU (``_unqueued_us``): on a machine shared with
other jobs that wait is most of the wall time and varies from step to step (PostgreSQL's own
waits stay in it). A last step saves the first ``--step`` tickets again, to time updates
of existing rows. With ``--one-call``, all the tickets are then saved again into a fresh
store by a single ``save_tickets`` call, as a first sync or import does (no pause between
steps for the database's own statistics to catch up).

    python benchmarks/load.py                          # 100k in 10k steps, both stores
    python benchmarks/load.py --total 30000 --databases postgres

Target: 100k tickets in under 20 s on either store, per-ticket cost flat from 10k to 100k.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

SCHEDSTAT = Path("/proc/self/schedstat")

HERE = Path(__file__).resolve().parent
# Run as a script, this file's folder comes first on sys.path, where benchmarks/discord.py
# would shadow discord.py: put the project root there instead.
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from benchmarks.report import pg_url, resample  # noqa: E402
from chatbot.logs import configure_logging  # noqa: E402
from chatbot.store import open_store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--step", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--one-call", action="store_true", help="also load all in one call")
    args = parser.parse_args()
    configure_logging("warning", "auto")
    tickets = resample(args.total, args.years)
    print(f"tickets: {len(tickets)}")
    print(f"comments: {sum(len(t.comments) for t in tickets)}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    for database in args.databases.split(","):
        store = open_store(fresh_url(database, workdir, "load"))
        total = busy = 0.0
        costs: list[float] = []
        unqueued: list[float] = []
        for begin in range(0, len(tickets), args.step):
            part = tickets[begin : begin + args.step]
            waited = queued()
            start = time.perf_counter()
            stats = store.save_tickets(part)
            took = time.perf_counter() - start
            waited = queued() - waited
            total, busy = total + took, busy + took - waited
            costs.append(took / len(part) * 1e6)
            assert stats.new == len(part), stats
            size = begin + len(part)
            print(f"{database}_{size}_step_seconds: {took:.2f}")
            print(f"{database}_{size}_per_ticket_us: {costs[-1]:.0f}")
            if SCHEDSTAT.exists():
                unqueued.append((took - waited) / len(part) * 1e6)
                print(f"{database}_{size}_per_ticket_unqueued_us: {unqueued[-1]:.0f}")
        print(f"{database}_load_seconds: {total:.1f}")
        print(f"{database}_per_ticket_last_over_first: {costs[-1] / costs[0]:.2f}")
        if unqueued:
            print(f"{database}_unqueued_load_seconds: {busy:.1f}")
            print(f"{database}_unqueued_last_over_first: {unqueued[-1] / unqueued[0]:.2f}")
        again = tickets[: args.step]
        start = time.perf_counter()
        stats = store.save_tickets(again)
        took = time.perf_counter() - start
        assert stats.updated == len(again), stats
        print(f"{database}_update_{len(again)}_seconds: {took:.2f}")
        store.engine.dispose()
        if args.one_call:
            store = open_store(fresh_url(database, workdir, "once"))
            start = time.perf_counter()
            stats = store.save_tickets(tickets)
            took = time.perf_counter() - start
            assert stats.new == len(tickets), stats
            print(f"{database}_one_call_{len(tickets)}_seconds: {took:.1f}")
            store.engine.dispose()


def queued() -> float:
    """Seconds this process has waited for a CPU so far (0 where Linux does not say)."""
    if not SCHEDSTAT.exists():
        return 0.0
    return int(SCHEDSTAT.read_text().split()[1]) / 1e9


def fresh_url(database: str, workdir: Path, name: str) -> str:
    """The URL of a new, empty store called ``name`` on ``database`` (sqlite or postgres)."""
    if database == "sqlite":
        return f"sqlite:///{workdir / f'{name}.db'}"
    return pg_url(f"support_report_bench_{name}")


if __name__ == "__main__":
    main()
