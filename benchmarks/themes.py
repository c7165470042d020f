"""Time the offline themes alone, for a period of 100, 1,000 and 1,200 tickets.

The tickets are resampled from the demo set the way ``benchmarks/report.py`` builds its
stores (issue-form bodies, symptom sentences in the comments); each period is placed
against a previous period of 2,000 tickets, the most :func:`find_themes` places. 1,200 is
what :func:`theme_sample` keeps of any larger period, so its time bounds the themes of a
year. Prints one ``name: value`` a line: the import of scikit-learn (paid once per
process, the first time a report groups tickets), then the best-of-N seconds of
``find_themes`` per size, wall clock and CPU (all threads: steadier on a busy machine).

    python benchmarks/themes.py
    python benchmarks/themes.py --repeat 5 --profile 1200   # cProfile of one run, top 25
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, this file's folder comes first on sys.path, where benchmarks/discord.py
# would shadow discord.py: put the project root there instead.
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from benchmarks.report import resample  # noqa: E402
from chatbot.analysis.themes import find_themes  # noqa: E402
from chatbot.analysis.ticket_text import raw_texts  # noqa: E402
from chatbot.core.models import Ticket  # noqa: E402
from chatbot.core.periods import Period  # noqa: E402

SIZES = (100, 1000, 1200)
PREVIOUS = 2000
YEAR = Period(start=date(2025, 11, 24), end=date(2026, 11, 23))


def _import_seconds() -> float:
    start = time.perf_counter()
    import sklearn.decomposition  # noqa: F401
    import sklearn.feature_extraction.text  # noqa: F401

    return time.perf_counter() - start


def _run(tickets: list[Ticket], past: list[Ticket], order: list[tuple[str, int]]) -> int:
    given = raw_texts([*tickets, *past])
    themes = find_themes(
        tickets, YEAR, order, texts=lambda keys: {k: given[k] for k in keys}, previous=past
    )
    return len(themes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, help="profile one run of this size")
    args = parser.parse_args()
    print(f"sklearn_import_seconds: {_import_seconds():.3f}")
    pool = resample(max(SIZES) + PREVIOUS, years=1.0)
    current, past = pool[: max(SIZES)], pool[max(SIZES) :]
    for size in SIZES:
        tickets = current[:size]
        order = [t.key for t in tickets]
        best = cpu = float("inf")
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            count = _run(tickets, past, order)
            best = min(best, time.perf_counter() - start)
            cpu = min(cpu, time.process_time() - start_cpu)
        print(f"themes_seconds_{size}: {best:.3f}")
        print(f"themes_cpu_seconds_{size}: {cpu:.3f}")
        print(f"themes_count_{size}: {count}")
    if args.profile:
        tickets = current[: args.profile]
        profile = cProfile.Profile()
        profile.runcall(_run, tickets, past, [t.key for t in tickets])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
