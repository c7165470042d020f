"""The Markdown rendering: the seed layout, safe whatever the ticket text, stable over time."""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.analysis import build_report
from chatbot.core.grammar import Calendar, parse_period
from chatbot.core.models import Ticket
from chatbot.core.periods import Period
from chatbot.core.report import Report
from chatbot.render import render_markdown
from chatbot.render.text import md_inline
from tests.factories import TEAM, USER, at, comment, ticket
from tests.test_report_numbers import NOW, hand_checked

GOLDEN = Path(__file__).parent / "golden"
WEEK = parse_period("2025-W17", Calendar(now=NOW))
HOSTILE = [
    "a | b || c",
    "line\nbreak\r\nhere",
    "@here @channel @everyone ping @octocat",
    "<script>alert(1)</script> <!channel> <@U123>",
    "[click](javascript:alert(1)) ![img](http://x)",
    "`code` **bold** _it_ \\ back",
]


def report_of(tickets: list[Ticket], period: Period = WEEK) -> Report:
    return build_report(
        period=period,
        tickets=tickets,
        backlog=len(tickets),
        previous=None,
        now=NOW,
        repos=["acme/support"],
    )


def _cells(row: str) -> int:
    """Table cells in a row, counting only unescaped pipes."""
    return len(re.findall(r"(?<!\\)\|", row)) - 1


def test_hostile_titles_cannot_break_the_table_or_ping() -> None:
    """Pipes, newlines, mentions and HTML in titles stay inside their cell, defused."""
    tickets = [
        ticket(
            n,
            "2025-04-22 09:00",
            title=title,
            labels=(title,),
            comments=(comment("2025-04-23 09:00", TEAM), comment("2025-04-23 10:00", USER)),
        )
        for n, title in enumerate(HOSTILE, 1)
    ]
    markdown = render_markdown(report_of(tickets))
    rows = [line for line in markdown.splitlines() if line.startswith("| [#")]
    assert len(rows) == 5
    assert all(_cells(row) == 5 for row in rows)
    assert not re.search(r"@(here|channel|everyone|octocat)", markdown)
    assert "<script>" not in markdown
    assert "<!channel>" not in markdown
    assert not re.search(r"(?<!\\)\]\(javascript:", markdown)


@given(st.text(max_size=200))
@settings(max_examples=200)
def test_md_inline_is_one_safe_line(text: str) -> None:
    """Any text becomes one line with no raw pipe, angle bracket or live mention."""
    safe = md_inline(text)
    assert "\n" not in safe
    assert "\r" not in safe
    assert not re.search(r"(?<!\\)\|", safe)
    assert "<" not in safe
    assert ">" not in safe
    assert not re.search(r"@\w", safe)


def test_weekly_golden() -> None:
    """The hand-checked week renders exactly as the golden file (UPDATE_GOLDEN=1 rewrites it)."""
    previous_week = [t for t in hand_checked()]
    report = build_report(
        period=WEEK,
        tickets=previous_week,
        backlog=4,
        previous=None,
        now=NOW,
        repos=["acme/support"],
    )
    text = render_markdown(report)
    golden = GOLDEN / "week17.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_many_themes_and_sections_present() -> None:
    """A busy week shows every seed section, with at most 7 recommendations."""
    tickets = [
        ticket(n, "2025-04-21 09:00", title=f"Sync crash on device {n}", labels=("area:sync",))
        for n in range(1, 30)
    ]
    markdown = render_markdown(report_of(tickets))
    for heading in (
        "## Summary",
        "Most Active Tickets",
        "## By Label",
        "## Common Issues",
        "## Recommendations",
    ):
        assert heading in markdown
    recommendations = markdown.split("## Recommendations", 1)[1].strip().splitlines()
    assert 1 <= len(recommendations) <= 7
    assert all(re.search(r"\[#\d+\]\(https://", line) for line in recommendations)
    assert "5 Most Active Tickets (of 29 active" in markdown
    assert at("2025-04-21 09:00") < NOW
