"""Print the demo's received tickets per week over the last 12 weeks, against their median.

Run by a developer after rebuilding the demo data (``python scripts/check_demo_flow.py``):
each line is a 7-day window ending now, with its count per repository and its ratio to the
median of the 12; a ratio above 2 is flagged. tests/test_demo.py asserts the same bound.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from chatbot.sources.demo import demo_tickets

WEEKS = 12


def main() -> None:
    now = datetime.now(UTC)
    tickets = demo_tickets(now)
    repos = sorted({t.repo for t in tickets})
    weeks = []
    for back in range(WEEKS, 0, -1):
        start = now - timedelta(weeks=back)
        end = start + timedelta(weeks=1)
        weeks.append((start, [t for t in tickets if start <= t.created_at < end]))
    median = statistics.median(len(week) for _, week in weeks)
    print(f"median received per week over the last {WEEKS} weeks: {median:g}")
    for start, week in weeks:
        by_repo = ", ".join(f"{r}: {sum(t.repo == r for t in week)}" for r in repos)
        ratio = len(week) / median if median else float("inf")
        flag = "  <-- above 2x the median" if ratio > 2 else ""
        print(f"{start:%Y-%m-%d}  {len(week):3d}  ({by_repo})  {ratio:.2f}x{flag}")


if __name__ == "__main__":
    main()
