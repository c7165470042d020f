"""Time the whole report (offline themes included) over large stores, SQLite and PostgreSQL.

Builds stores of 10k and 100k tickets resampled from the bundled demo set (each copy gets a
new number and a random shift back in time over ``--years``, its comments moving with it;
the demo holds titles only, so each copy also gets an issue-form body and comment texts made
from its title and a few symptom sentences, for the themes to read), then times the full
``ReportService.build_report`` for each of ``--requests`` and prints, one ``name: value`` a
line: the best-of-N time; the best-of-N time of the bare SQL summary of the period and of the
one before (``TicketStore.period_figures``, the floor issue 13 measures a report against); the
share of the report's time spent grouping themes; the peak Python memory of one build
(tracemalloc: Python allocations, numpy and scikit-learn arrays included); the peak RSS of
a fresh process that opens the store and builds that one report (imports included: the
figure issue 13 sets a limit on); the best-of-N time again with the store's theme cache
already holding the period's grouping (``_theme_cache_warm``: a repeated report, or another
replica's); and, at the end, this process's peak RSS.

    python benchmarks/report.py                    # both sizes, SQLite and PostgreSQL
    python benchmarks/report.py --sizes 100000 --databases sqlite --requests last-90-days

Targets (issue 13): over 100k tickets any period up to 366 days under 1 s on SQLite and
PostgreSQL, full analysis included, and within 3x the bare SQL summary of the same period;
the year's report under 150 MB peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

import chatbot.analysis.report as analysis_report
from chatbot.core.grammar import Calendar, parse_period
from chatbot.core.models import Ticket
from chatbot.service import ReportService
from chatbot.sources.demo import demo_tickets
from chatbot.store import open_store
from chatbot.store.answers import SQLAlchemyAnswerCache

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
# Reports are asked for a year before NOW, so that the week and the year measured lie
# inside the resampled history rather than at its thin leading edge.
ASKED_AT = NOW - timedelta(days=365)
TEMPLATE = (
    "<!-- Please fill in every section below. -->\n"
    "### What happened?\n{what}\n\n"
    "### Steps to reproduce\n1. Open the app\n2. {step}\n\n"
    "### Expected behavior\nIt should work.\n\n"
    "**Browser / Version**: Firefox 120.0\n"
    "**Operating System**: Windows 11\n"
    "![screenshot](https://example.com/shot.png)\n"
)
SYMPTOMS = (
    "The window freezes for a few seconds and then the application crashes.",
    "I get LateInitializationError: Field '_db' has not been initialized on startup.",
    "The results grid loses its scroll position and the column width resets.",
    "Sign-in with Azure AD loops back to the login page after the redirect.",
    "Export to CSV never finishes and the progress bar stays at zero.",
    "The connection to the server times out after the VPN reconnects.",
)


def _body(title: str, rng: random.Random) -> str:
    """An issue-form body around the ticket's title and one symptom sentence."""
    return TEMPLATE.format(what=f"{title}. {rng.choice(SYMPTOMS)}", step=title)


class ThemeClock:
    """Adds up the time spent in ``find_themes`` by wrapping the name the report calls."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.inner = getattr(analysis_report, "find_themes")  # noqa: B009 - wrapped below

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


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
                body=_body(source.title, rng),
                url=f"https://github.com/bench/support/issues/{number}",
                created_at=source.created_at + shift,
                updated_at=source.updated_at + shift,
                closed_at=source.closed_at + shift if source.closed_at else None,
                comments=tuple(
                    replace(
                        c,
                        id=number * 1000 + i,
                        created_at=c.created_at + shift,
                        body=c.body or rng.choice(("Thanks for the report!", *SYMPTOMS)),
                    )
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


def measure(
    service: ReportService, request: str, repeat: int, clock: ThemeClock
) -> tuple[float, float, float, int, int]:
    """Best time (s), its share in themes, peak traced memory (MB), tickets touched, themes."""
    period = parse_period(request, Calendar(now=ASKED_AT))
    best, share = float("inf"), 0.0
    for _ in range(repeat):
        clock.seconds = 0.0
        start = time.perf_counter()
        service.build_report(period)
        took = time.perf_counter() - start
        if took < best:
            best, share = took, clock.seconds / took
    tracemalloc.start()
    report = service.build_report(period)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, share, peak / 2**20, report.active_total, len(report.themes)


def sql_summary(service: ReportService, request: str, repeat: int) -> float:
    """Best time (s) of the bare SQL summary: ``period_figures`` of the period and of the one
    before (cut as the report cuts it), the floor a report's figures could cost (issue 13)."""
    period = parse_period(request, Calendar(now=ASKED_AT))
    before, until = period.previous(), None
    if period.in_progress(ASKED_AT):
        before, until = period.previous_span(ASKED_AT)
    store = service.store
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        store.period_figures(period.start_at, period.end_at)
        store.period_figures(before.start_at, before.end_at, until=until)
        best = min(best, time.perf_counter() - start)
    return best


RSS_PROBE = """
import resource, sys
from datetime import datetime
from chatbot.core.grammar import Calendar, parse_period
from chatbot.service import ReportService
from chatbot.store import open_store
from chatbot.store.answers import SQLAlchemyAnswerCache

url, request, asked = sys.argv[1:4]
at = datetime.fromisoformat(asked)
service = ReportService(open_store(url), clock=lambda: at)
service.build_report(parse_period(request, Calendar(now=at)))
# VmHWM: this process's own peak (ru_maxrss keeps the parent's across fork and exec)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(int(hwm.split()[1]) // 1024)
"""


def peak_rss(url: str, request: str) -> int:
    """Peak RSS (MB) of a fresh process that opens the store and builds one report."""
    out = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, url, request, ASKED_AT.isoformat()],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--requests", default="last-week,last-90-days,last-365-days")
    args = parser.parse_args()
    clock = ThemeClock()
    setattr(analysis_report, "find_themes", clock)  # noqa: B010 - time every call
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
            for request in args.requests.split(","):
                best, share, peak, touched, themes = measure(
                    service, request, args.repeat, clock
                )
                name = f"{database}_{size}_{request.replace('-', '_')}"
                print(f"{name}_seconds: {best:.3f}")
                summary = sql_summary(service, request, args.repeat)
                print(f"{name}_sql_summary_seconds: {summary:.4f}")
                print(f"{name}_themes_share: {share:.0%}")
                print(f"{name}_tracemalloc_peak_mb: {peak:.1f}")
                print(f"{name}_process_peak_rss_mb: {peak_rss(url, request)}")
                print(f"{name}_tickets_touched: {touched}")
                print(f"{name}_themes: {themes}")
                cached = ReportService(
                    store, clock=lambda: ASKED_AT, theme_cache=SQLAlchemyAnswerCache(store.engine)
                )
                cached.build_report(parse_period(request, Calendar(now=ASKED_AT)))  # keeps it
                warm, _, _, _, _ = measure(cached, request, args.repeat, clock)
                print(f"{name}_theme_cache_warm_seconds: {warm:.3f}")
            store.engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process_max_rss_mb: {rss:.0f}")


if __name__ == "__main__":
    main()
