"""Time the offline themes alone: periods of 100, 1,000 and 1,200 tickets, and a year.

The tickets are resampled from the demo set the way ``benchmarks/report.py`` builds its
stores (issue-form bodies, symptom sentences in the comments); each period is placed
against 2,000 previous tickets, the most :func:`find_themes` places. The year is 35,000
active tickets (a year of a 100k-ticket store) grouped from :func:`theme_sample`, against
a previous year as large (``previous_total``). Prints one ``name: value`` a line: the
import of the TF-IDF and NMF modules, numpy with them (paid once per process, the first
time a report groups tickets),
then the best-of-N seconds of ``find_themes`` per period, wall clock and CPU (all
threads: steadier on a busy machine), and how many themes it found; ``_warm`` is the same
call when the store's cache (a SQLite file) already holds its grouping.

    python benchmarks/themes.py
    python benchmarks/themes.py --repeat 5 --profile 1200   # cProfile of one run, top 25
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, this file's folder comes first on sys.path, where benchmarks/discord.py
# would shadow discord.py: put the project root there instead.
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from benchmarks.report import resample  # noqa: E402
from chatbot.analysis.themes import find_themes, theme_sample  # noqa: E402
from chatbot.analysis.ticket_text import Key, raw_texts  # noqa: E402
from chatbot.core.models import Ticket  # noqa: E402
from chatbot.core.periods import Period  # noqa: E402
from chatbot.core.ports import ResultCache  # noqa: E402
from chatbot.store import open_store  # noqa: E402
from chatbot.store.answers import SQLAlchemyAnswerCache  # noqa: E402

SIZES = (100, 1000, 1200)
PREVIOUS = 2000
YEAR_ACTIVE = 35_000
YEAR = Period(start=date(2025, 11, 24), end=date(2026, 11, 23))


def _import_seconds() -> float:
    start = time.perf_counter()
    import chatbot.analysis.nmf
    import chatbot.analysis.tfidf  # noqa: F401

    return time.perf_counter() - start


def _best(
    tickets: list[Ticket],
    past: list[Ticket],
    order: list[Key],
    repeat: int,
    total: int,
    cache: ResultCache | None = None,
) -> tuple[float, float, int]:
    """Best wall and CPU seconds of ``find_themes`` over ``repeat`` runs, and its themes."""
    given = raw_texts([*tickets, *past])  # what the store's ticket_texts reads: not timed

    def texts(keys: Sequence[Key]) -> dict[Key, str]:
        return {k: given[k] for k in keys}

    best = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        themes = find_themes(
            tickets, YEAR, order, texts=texts, previous=past, previous_total=total, cache=cache
        )
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return best, cpu, len(themes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, help="profile one run of this size")
    args = parser.parse_args()
    print(f"themes_import_seconds: {_import_seconds():.3f}")
    pool = resample(YEAR_ACTIVE + PREVIOUS, years=1.0)
    current, past = pool[:YEAR_ACTIVE], pool[YEAR_ACTIVE:]
    # (tickets grouped, the period's keys most active first, previous tickets they stand for)
    runs = {str(n): (current[:n], [t.key for t in current[:n]], PREVIOUS) for n in SIZES}
    # a year of a 100k-ticket store, against a previous year as large (previous_sample)
    year = [t.key for t in current]
    by_key = {t.key: t for t in current}
    runs["year"] = ([by_key[k] for k in theme_sample(year)], year, YEAR_ACTIVE)
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'cache.db'}")
        cache = SQLAlchemyAnswerCache(store.engine)
        for name, (tickets, order, total) in runs.items():
            wall, cpu, count = _best(tickets, past, order, args.repeat, total)
            print(f"themes_seconds_{name}: {wall:.3f}")
            print(f"themes_cpu_seconds_{name}: {cpu:.3f}")
            print(f"themes_count_{name}: {count}")
            _best(tickets, past, order, 1, total, cache)  # the cache now holds it
            wall, cpu, count = _best(tickets, past, order, args.repeat, total, cache)
            print(f"themes_seconds_{name}_warm: {wall:.3f}")
            print(f"themes_count_{name}_warm: {count}")
        store.engine.dispose()
    if args.profile:
        tickets = current[: args.profile]
        profile = cProfile.Profile()
        profile.runcall(_best, tickets, past, [t.key for t in tickets], 1, len(past))
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
