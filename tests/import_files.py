"""Big JSON Lines import files for tests and measurements, resampled from the fixture issues."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "github" / "vscode-mssql.issues.jsonl"
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_import_file(path: Path, count: int, *, repo: str = "acme/imported") -> Path:
    """``count`` REST issue objects of ``repo``, numbered 1..count, each with two comments."""
    sources = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for number in range(1, count + 1):
            source = sources[number % len(sources)]
            opened = START + timedelta(minutes=17 * number)
            closed = opened + timedelta(hours=30) if number % 3 else None
            issue = {
                "number": number,
                "title": source["title"],
                "body": "### Version\n\n1.2\n\n### What happened?\n\nIt broke.",
                "html_url": f"https://github.com/{repo}/issues/{number}",
                "repository_url": f"https://api.github.com/repos/{repo}",
                "state": "closed" if closed else "open",
                "user": {"login": f"user{number % 97}"},
                "labels": [{"name": "bug"}, {"name": f"area-{number % 7}"}],
                "created_at": _iso(opened),
                "closed_at": _iso(closed) if closed else None,
                "comments": 2,
                "reactions": {"total_count": number % 5},
                "x_comments": [
                    {
                        "id": number * 10 + k,
                        "user": {"login": "agent" if k else f"user{number % 97}"},
                        "author_association": "MEMBER" if k else "NONE",
                        "created_at": _iso(opened + timedelta(hours=k + 1)),
                        "body": "Thanks, looking into it.",
                    }
                    for k in range(2)
                ],
            }
            out.write(json.dumps(issue) + "\n")
    return path
