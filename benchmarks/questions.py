"""Time the chat questions over a large store, SQLite and PostgreSQL.

Builds a store of ``--size`` tickets resampled from the demo set (as ``benchmarks/report.py``
does), then prints, one ``name: value`` a line, the best-of-``--repeat`` time of each
question's answer as the service builds it: ``waiting`` (every open ticket without a first
team reply, as of now: one ``period_facts`` read with ``open_only`` and the 50 listed
tickets), and ``trend`` of a week and of a month (four ``period_figures`` each, no ticket
loaded). ``top labels`` and ``themes`` are parts of the period's report: see
``benchmarks/report.py``.

    python benchmarks/questions.py                       # 100k tickets, both stores
    python benchmarks/questions.py --size 10000 --databases sqlite
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, this file's folder comes first on sys.path, where benchmarks/discord.py
# would shadow discord.py: put the project root there instead.
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from benchmarks.report import ASKED_AT, pg_url, resample  # noqa: E402
from chatbot.core.grammar import Calendar, parse_period  # noqa: E402
from chatbot.logs import configure_logging  # noqa: E402
from chatbot.service import ReportService  # noqa: E402
from chatbot.store import open_store  # noqa: E402


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The best wall time of ``repeat`` runs of ``work``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    configure_logging("warning", "console")
    tickets = resample(args.size, args.years)
    with tempfile.TemporaryDirectory() as folder:
        for database in args.databases.split(","):
            url = (
                f"sqlite:///{folder}/questions.db"
                if database == "sqlite"
                else pg_url("support_report_bench_questions")
            )
            store = open_store(url)
            store.save_tickets(tickets)
            service = ReportService(store, clock=lambda: ASKED_AT)
            cal = Calendar(now=ASKED_AT)
            name = f"{database}_{args.size}"
            answer = service.waiting()
            print(f"{name}_waiting_total: {answer.total}")
            print(f"{name}_waiting_seconds: {best_of(args.repeat, service.waiting):.3f}")
            for request in ("last-week", "last-month"):
                period = parse_period(request, cal)
                seconds = best_of(args.repeat, partial(service.trend, period))
                print(f"{name}_trend_{request.replace('-', '_')}_seconds: {seconds:.3f}")
            store.engine.dispose()


if __name__ == "__main__":
    main()
