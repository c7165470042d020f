"""Fuzzing `chatbot import`: good lines are all kept, bad lines all reported, never a traceback.

Hypothesis writes import files mixing good issue objects (with NUL, lone surrogates,
64-bit numbers, a ``labels`` string) and bad ones of every shape seen so far (wrong
types, numbers of 2**63 and more, ``x_comments: [null]``, nesting too deep, not JSON).
Each file goes through the real command, in-process, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.store import open_store
from tests.cli_runner import run_cli

_SURROGATE = re.compile("[\ud800-\udfff]")
_files = count()
TRICKY = ["", "\x00", "\ud800", "a\udfffb", "NUL\x00in the middle", "\U0001f600", "@here"]
text = st.builds(lambda a, b: a + b, st.text(max_size=30), st.sampled_from(TRICKY))
big_ids = st.integers(min_value=1, max_value=2**63 - 1)
times = st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z"))


def cleaned(value: str) -> str:
    """What the store keeps of ``value``: NUL dropped, lone surrogates as U+FFFD."""
    return _SURROGATE.sub("\ufffd", value.replace("\x00", ""))


@st.composite
def good_issue(draw: st.DrawFn, number: int, repo: str, first_id: int) -> dict[str, Any]:
    """A usable issue object, with awkward but valid content; comment ids from ``first_id``."""
    comment_ids = range(first_id, first_id + draw(st.integers(0, 3)))
    labels = draw(
        st.one_of(
            st.lists(st.builds(lambda n: {"name": n}, text), max_size=3),
            text.filter(bool),
            st.lists(st.one_of(text, st.none(), st.integers()), max_size=3),
        )
    )
    return {
        "number": number,
        "title": draw(text),
        "body": draw(st.one_of(st.none(), text)),
        "html_url": f"https://github.com/{repo}/issues/{number}",
        "state": draw(st.sampled_from(["open", "closed", "OPEN"])),
        "user": draw(st.one_of(st.none(), st.builds(lambda n: {"login": n}, text), st.just(5))),
        "labels": labels,
        "created_at": draw(times),
        "reactions": {"total_count": draw(st.integers(min_value=0, max_value=2**70))},
        "x_comments": [
            {"id": i, "created_at": draw(times), "body": draw(text), "user": {"login": "x"}}
            for i in comment_ids
        ],
    }


def _bad_variants(good: dict[str, Any]) -> list[Any]:
    """Ways to break a good issue object that have crashed imports before."""
    comment = {"id": 1, "created_at": "2025-01-01T00:00:00Z"}
    return [
        {**good, "number": 2**63},
        {**good, "number": 2**64 + 7},
        {**good, "number": -3},
        {**good, "number": True},
        {**good, "number": "12"},
        {**good, "number": 1.5},
        {**good, "title": None},
        {**good, "title": ["a"]},
        {**good, "x_comments": [None]},
        {**good, "x_comments": [5]},
        {**good, "x_comments": [{**comment, "id": 2**63}]},
        {**good, "x_comments": "nope"},
        {**good, "created_at": "yesterday"},
        {**good, "created_at": None},
        {**good, "created_at": "9999-12-31T23:00:00-05:00"},
        {**good, "html_url": None},
        [good],
        "an issue",
        None,
        42,
    ]


RAW_BAD = ["{", "[" * 100_000 + "]" * 100_000, '{"number": 1' + "0" * 5000 + "}", "\x00"]


@st.composite
def import_file(
    draw: st.DrawFn, repo: str
) -> tuple[list[str], dict[int, dict[str, Any]], list[int]]:
    """Lines of an import file, the good issues it holds by number, the bad line numbers."""
    numbers = draw(st.lists(big_ids, min_size=1, max_size=12, unique=True))
    first_id = draw(st.integers(min_value=1, max_value=2**63 - 100))
    lines: list[str] = []
    good: dict[int, dict[str, Any]] = {}
    bad: list[int] = []
    for index, number in enumerate(numbers):
        issue = draw(good_issue(number, repo, first_id + 4 * index))
        if draw(st.booleans()):
            good[number] = issue
            lines.append(json.dumps(issue))
            continue
        bad.append(index + 1)
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(RAW_BAD)))
        else:
            lines.append(json.dumps(draw(st.sampled_from(_bad_variants(issue)))))
    return lines, good, bad


@pytest.fixture
def fuzz_url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL for the command, on each database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_import_keeps_every_good_line_and_reports_every_bad_one(
    data: st.DataObject,
    fuzz_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every good issue is stored (cleaned), every bad line reported by number, no traceback."""
    repo = f"fuzz/r{uuid.uuid4().hex[:10]}"
    lines, good, bad = data.draw(import_file(repo))
    path = tmp_path / f"issues-{next(_files)}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "import", str(path))
    assert "Traceback" not in out + err
    assert code == (1 if bad else 0), err
    reported = [int(m) for m in re.findall(rf"^{re.escape(str(path))}:line (\d+):", err, re.M)]
    assert reported == bad
    assert f"{len(bad)} bad lines" in out
    store = open_store(fuzz_url)
    try:
        stored = {n: store.find_tickets(n, repo) for n in good}
    finally:
        store.engine.dispose()
    for number, issue in good.items():
        [kept] = stored[number]
        assert kept.title == cleaned(issue["title"])
        assert kept.body == cleaned(issue["body"] or "")
        assert {c.id for c in kept.comments} == {c["id"] for c in issue["x_comments"]}
        assert {c.body for c in kept.comments} == {cleaned(c["body"]) for c in issue["x_comments"]}
        if isinstance(issue["labels"], str):
            label = cleaned(issue["labels"])[:200]
            assert kept.labels == ((label,) if label else ())
