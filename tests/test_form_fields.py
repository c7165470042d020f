"""Form fields: parsed from issue-form headings and ``**Key**: value`` lines, and broken down."""

from __future__ import annotations

from datetime import UTC, datetime

from chatbot.analysis.metrics import MAX_FIELD_VALUES, breakdown
from chatbot.core.grammar import Calendar, parse_period
from chatbot.sources.rest import MAX_BOLD_FIELDS, MAX_BOLD_KEY, parse_form_fields
from tests.factories import ticket

NOW = datetime(2025, 4, 24, 15, 30, tzinfo=UTC)


def test_bold_fields_are_bounded() -> None:
    """Short keys, one-line values, outside code blocks; long keys and values are prose."""
    body = "\n".join(
        [
            "**Version:** 1.2",
            f"**{'k' * (MAX_BOLD_KEY + 1)}**: too long a key",
            f"**Long**: {'v' * 300}",
            "**Multi**:",
            "line value",
            "~~~",
            "**Inside**: code",
            "~~~",
            "**Version**: again",
            *(f"**Field {i}**: {i}" for i in range(MAX_BOLD_FIELDS + 5)),
        ]
    )
    fields = parse_form_fields(body)
    assert fields[0] == ("Version", "1.2")
    assert len(fields) == MAX_BOLD_FIELDS
    names = {name for name, _ in fields}
    assert not names & {"Long", "Multi", "Inside", "k" * (MAX_BOLD_KEY + 1)}


def test_headings_win_over_bold_fields_of_the_same_name() -> None:
    """An issue form's ``### OS`` answer is kept; a bold ``**OS**:`` line does not repeat it."""
    body = "### OS\n\nWindows 11\n\n**OS**: Linux\n**Browser**: Firefox"
    assert parse_form_fields(body) == (
        ("OS", "Windows 11\n\n**OS**: Linux\n**Browser**: Firefox"),
        ("Browser", "Firefox"),
    )


def test_breakdown_leaves_out_links_and_merges_a_long_tail() -> None:
    """A link names one page, so a URL field gives no rows; many values end in one row."""
    browsers = ["Firefox 89.0"] * 3 + [f"Browser {n}" for n in range(MAX_FIELD_VALUES + 2)]
    tickets = [
        ticket(
            n,
            "2025-04-22 09:00",
            form_fields=(("URL", f"https://site{n}.example/"), ("Browser", browser)),
        )
        for n, browser in enumerate(browsers, 1)
    ]
    rows = breakdown(tickets, parse_period("this-week", Calendar(now=NOW)))
    assert {b.dimension for b in rows} == {"Browser"}
    assert len(rows) == MAX_FIELD_VALUES
    assert (rows[0].value, rows[0].received) == ("Firefox 89.0", 3)
    assert rows[-1].value == "Other (4 values)"  # 10 values: the 6 most frequent, then 4
    assert sum(b.received for b in rows) == len(tickets)


def test_a_field_whose_every_answer_differs_is_left_out() -> None:
    """Free-text answers (one description per ticket) group nothing: no table for them."""
    tickets = [
        ticket(
            n,
            "2025-04-22 09:00",
            form_fields=(("Description", f"Something different {n}"), ("Browser", "Firefox")),
        )
        for n in range(1, 6)
    ]
    rows = breakdown(tickets, parse_period("this-week", Calendar(now=NOW)))
    assert {row.dimension for row in rows} == {"Browser"}
    assert [(r.value, r.received) for r in rows] == [("Firefox", 5)]
