"""Build chatbot/sources/demo_data/tickets.jsonl from the licensed real issue sets.

Run by a developer, once, beside a checkout of the shared data (never at run or test time)::

    python scripts/build_demo_data.py ../shared/data/issues

Takes (see chatbot/sources/demo_data/README.md for what is real and what is synthesized):
- microsoft/vscode-mssql (MIT): issues opened in the last 180 days of the export, issues
  closed in that window, and every issue still open; labels rebuilt from the exporter's
  current ``x_type`` / ``x_areas`` / ``x_priority`` fields, plus the labels of its
  2025-07-20 export where present;
- webcompat/web-bugs (MPL-2.0): all 100 issues, with their bodies and their real events
  (``x_events``: event, actor login, time). They were all filed on one weekend, so each
  gets ``x_demo_days``: the whole days the loader moves it by, spreading their days evenly
  over the demo's :data:`WINDOW` in their real order (see :func:`spread_days`). The real
  times stay in the file; the move keeps each ticket's time of day and every duration.
Only the REST fields the product reads are kept.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "chatbot" / "sources" / "demo_data" / "tickets.jsonl"
WINDOW = timedelta(days=180)
TYPE_LABELS = {
    "Bug": ["Bug"],
    "Feature Request": ["Enhancement"],
    "Both Bug and Feature": ["Bug", "Enhancement"],
}


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def vscode(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    newest = max(_time(r["closed_at"] or r["created_at"]) for r in rows)
    keep = []
    for r in rows:
        recent = _time(r["created_at"]) >= newest - WINDOW
        closed_recently = r["closed_at"] and _time(r["closed_at"]) >= newest - WINDOW
        if not (recent or closed_recently or r["state"] == "open"):
            continue
        names = [label["name"] for label in r.get("labels") or []]
        names += TYPE_LABELS.get(r.get("x_type") or "", [])
        names += [f"Area - {area}" for area in r.get("x_areas") or []]
        if (r.get("x_priority") or -1) >= 0:
            names.append(f"Pri: {r['x_priority']}")
        keep.append(
            {
                "number": r["number"],
                "title": r["title"],
                "html_url": r["html_url"],
                "state": r["state"],
                "user": {"login": r["user"]["login"], "type": "User"},
                "created_at": r["created_at"],
                "closed_at": r["closed_at"],
                "comments": r["comments"],
                "reactions": {"total_count": (r.get("reactions") or {}).get("total_count", 0)},
                "labels": [{"name": n} for n in dict.fromkeys(names)],
                "milestone": r.get("milestone"),
            }
        )
    return keep


def spread_days(created: list[datetime], window: timedelta = WINDOW) -> list[int]:
    """Whole days to move each ticket by, so their days spread evenly over ``window``.

    ``created`` is in real order (oldest first). Ticket k of n lands on the day
    ``k × window / n`` days after the first day of the window, which ends on the newest
    ticket's real day: the newest keeps its day, the others move back, each by whole days
    (time of day, order and every duration are kept).
    """
    n = len(created)
    last = created[-1].date()
    span = window.days
    moves = []
    for k, moment in enumerate(created):
        target = last - timedelta(days=(span * (n - 1)) // n - (span * k) // n)
        moves.append((target - moment.date()).days)
    return moves


def _events(r: dict) -> list[dict]:
    """The issue's real events, reduced to what the demo uses: kind, actor, time."""
    return [
        {
            "event": e["event"],
            "actor": (e.get("actor") or {}).get("login"),
            "created_at": e["created_at"],
        }
        for e in r.get("x_events") or []
    ]


def webcompat(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    rows.sort(key=lambda r: (_time(r["created_at"]), r["number"]))
    moves = spread_days([_time(r["created_at"]) for r in rows])
    keep = []
    for r, days in zip(rows, moves, strict=True):
        keep.append(
            {
                "number": r["number"],
                "title": r["title"],
                "html_url": r["html_url"],
                "repository_url": r["repository_url"],
                "state": r["state"],
                "user": {"login": r["user"]["login"], "type": r["user"]["type"]},
                "author_association": r["author_association"],
                "created_at": r["created_at"],
                "updated_at": r["updated_at"],
                "closed_at": r["closed_at"],
                "comments": r["comments"],
                "labels": [{"name": label["name"]} for label in r["labels"]],
                "milestone": {"title": (r.get("milestone") or {}).get("title")},
                "body": r["body"],
                "x_events": _events(r),
                "x_demo_days": days,
            }
        )
    return keep


def main(folder: str) -> None:
    base = Path(folder)
    rows = vscode(base / "vscode-mssql.issues.jsonl") + webcompat(
        base / "webcompat-web-bugs.issues.jsonl"
    )
    with OUT.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {len(rows)} tickets to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/issues")
