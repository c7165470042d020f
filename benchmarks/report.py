"""Time building reports over large stores, on SQLite and PostgreSQL.

Builds stores of 10k and 100k tickets resampled from the bundled demo set (each copy gets a
new number and a random shift back in time over ``--years``, its comments moving with it),
then times ``build_report`` for ``last-week`` and ``last-365-days`` and prints, one
``name: value`` a line, the best-of-N time and the peak Python memory of one build.

    python benchmarks/report.py                    # both sizes, SQLite and PostgreSQL
    python benchmarks/report.py --sizes 10000 --databases sqlite

Target: a week over 100k tickets in under 0.3 s and 300 MB; the whole history is never
loaded to answer a week.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from chatbot.core.grammar import Calendar, parse_period
from chatbot.core.models import Ticket
from chatbot.service import ReportService
from chatbot.sources.demo import demo_tickets
from chatbot.store import open_store

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
# Reports are asked for a year before NOW, so that the week and the year measured lie
# inside the resampled history rather than at its thin leading edge.
ASKED_AT = NOW - timedelta(days=365)


def resample(size: int, years: float, seed: int = 7) -> list[Ticket]:
    """``size`` tickets copied from the demo set, spread over ``years`` before NOW."""
    rng = random.Random(seed)
    base = demo_tickets(NOW)
    span = timedelta(days=365 * years)
    out = []
    for number in range(1, size + 1):
        source = base[rng.randrange(len(base))]
        shift = -span * rng.random()
        out.append(
            replace(
                source,
                repo="bench/support",
                number=number,
                url=f"https://github.com/bench/support/issues/{number}",
                created_at=source.created_at + shift,
                updated_at=source.updated_at + shift,
                closed_at=source.closed_at + shift if source.closed_at else None,
                comments=tuple(
                    replace(c, id=number * 1000 + i, created_at=c.created_at + shift)
                    for i, c in enumerate(source.comments)
                ),
            )
        )
    return out


def pg_url(name: str) -> str:
    """A fresh PostgreSQL database called ``name``."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def measure(service: ReportService, request: str, repeat: int) -> tuple[float, float, int]:
    """Best time (s), peak traced memory (MB) and tickets touched, for one report."""
    period = parse_period(request, Calendar(now=ASKED_AT))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        service.build_report(period)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    report = service.build_report(period)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20, report.active_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-report-"))
    for size in (int(s) for s in args.sizes.split(",")):
        tickets = resample(size, args.years)
        comments = sum(len(t.comments) for t in tickets)
        print(f"tickets: {size}")
        print(f"comments: {comments}")
        print(f"tickets_per_week: {size / (52 * args.years):.0f}")
        for database in args.databases.split(","):
            url = (
                f"sqlite:///{workdir / f'bench-{size}.db'}"
                if database == "sqlite"
                else pg_url(f"support_report_bench_{size}")
            )
            store = open_store(url)
            start = time.perf_counter()
            store.save_tickets(tickets)
            print(f"{database}_{size}_load_seconds: {time.perf_counter() - start:.1f}")
            service = ReportService(store, clock=lambda: ASKED_AT)
            for request in ("last-week", "last-365-days"):
                best, peak, touched = measure(service, request, args.repeat)
                name = f"{database}_{size}_{request.replace('-', '_')}"
                print(f"{name}_seconds: {best:.3f}")
                print(f"{name}_peak_mb: {peak:.1f}")
                print(f"{name}_tickets_touched: {touched}")
            store.engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process_max_rss_mb: {rss:.0f}")


if __name__ == "__main__":
    main()
