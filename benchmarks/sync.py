"""Count the requests and time of ``chatbot sync`` against the fake GitHub of the tests.

Serves one repository of ``--issues`` issues with ``--comments`` comments, resampled from
the licensed fixture issues (``tests/fixtures/github/``), plus a few pull requests, and
syncs it into a fresh store three times: a full first sync, a sync with nothing changed,
and a sync after ``--changes`` issues changed (edited, closed, or commented on in turn).
Prints one ``name: value`` a line.

    python benchmarks/sync.py                               # 5,000 issues, 15,000 comments
    python benchmarks/sync.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

Targets: full about ceil(N/100) + ceil(C/100) requests (50 + 150); no change at most two
requests, both 304; ten changes at most three requests.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chatbot.app import github_config
from chatbot.config import Settings
from chatbot.logs import configure_logging
from chatbot.sources.github import SyncOptions, SyncReport, sync_store
from chatbot.store import SQLAlchemyTicketStore, open_store
from tests.fakes.github_api import FakeGitHub

TOKEN = "ghp_benchmark"  # noqa: S105 - a fake token for the fake server
REPO = "bench/support"


def run(
    fake: FakeGitHub, store: SQLAlchemyTicketStore, settings: Settings
) -> tuple[SyncReport, float, list[int]]:
    """One sync: its report, wall time and the HTTP statuses the fake answered."""
    fake.clear_log()
    started = time.perf_counter()
    report = sync_store(
        github_config(settings), store, options=SyncOptions(throttle=0.0, backoff=0.0)
    )
    elapsed = time.perf_counter() - started
    return report, elapsed, [r.status for r in fake.requests]


def change(fake: FakeGitHub, count: int) -> None:
    """Change ``count`` issues: edit a title, close, or comment, in turn."""
    issues = fake.issues_of(REPO)
    numbers = [i["number"] for i in issues][:: max(1, len(issues) // max(count, 1))]
    for k, number in enumerate(numbers[:count]):
        if k % 3 == 0:
            fake.edit_issue(REPO, number, title=f"Edited for the benchmark ({k})")
        elif k % 3 == 1:
            fake.close_issue(REPO, number)
        else:
            fake.add_comment(REPO, number, "A reply from the team.")


def main() -> None:
    """Run the three syncs and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issues", type=int, default=5000)
    parser.add_argument("--comments", type=int, default=15000)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    configure_logging("warning")

    folder = tempfile.mkdtemp(prefix="sync-bench-")
    url = args.database_url or f"sqlite:///{Path(folder) / 'store.db'}"
    store = open_store(url)
    with FakeGitHub(tokens={TOKEN}) as fake:
        fake.synthesize(REPO, issues=args.issues, comments=args.comments)
        for _ in range(3):
            fake.add_pull_request(REPO, comments=1)
        settings = Settings(
            _env_file=None,
            github_token=TOKEN,
            github_repos=REPO,
            github_api_url=fake.url,
        )
        listed = len(fake.repos[REPO].issues)
        served = len(fake.repos[REPO].comments)
        print(f"database: {url.split(':', 1)[0]}")
        print(f"issues_served: {listed} (incl. 3 pull requests)")
        print(f"comments_served: {served}")
        print(f"ideal_full_requests: {math.ceil(listed / 100) + math.ceil(served / 100)}")

        full, seconds, _ = run(fake, store, settings)
        print(f"full_requests: {full.requests}")
        print(f"full_seconds: {seconds:.2f}")
        print(f"full_issues_new: {full.new}")
        print(f"full_comments: {full.comments}")

        same, seconds, statuses = run(fake, store, settings)
        print(f"no_change_requests: {same.requests}")
        print(f"no_change_statuses: {' '.join(map(str, statuses))}")
        print(f"no_change_seconds: {seconds:.3f}")

        change(fake, args.changes)
        changed, seconds, statuses = run(fake, store, settings)
        print(f"changed_issues: {args.changes}")
        print(f"changed_requests: {changed.requests}")
        print(f"changed_statuses: {' '.join(map(str, statuses))}")
        print(f"changed_updated: {changed.updated}")
        print(f"changed_comments: {changed.comments}")
        print(f"changed_seconds: {seconds:.3f}")
        print(f"stored_tickets: {store.count_tickets()}")
    store.engine.dispose()


if __name__ == "__main__":
    main()
