"""Time figures: first response and resolution (median and p90), the waiting-for-reply list."""

from __future__ import annotations

import json
import re

import pytest

from chatbot.analysis import build_report
from chatbot.analysis.metrics import first_response
from chatbot.core.models import Person, Ticket
from chatbot.core.periods import week_period
from chatbot.core.report import Report
from chatbot.core.stats import percentile
from chatbot.render import render_json, render_markdown
from chatbot.render.discord_embeds import render_discord_message
from chatbot.render.slack_blocks import render_slack_report
from tests.factories import TEAM, USER, at, comment, ticket

WEEK = week_period(at("2025-04-21 00:00").date())  # 2025-04-21..27, ends 2025-04-28 00:00
NOW = at("2025-04-30 12:00")
BOT = Person(login="triage[bot]", association="MEMBER", is_bot=True)
MEMBER_AUTHOR = Person(login="insider", association="MEMBER")


def report_of(tickets: list[Ticket], now: str = "2025-04-30 12:00") -> Report:
    return build_report(
        period=WEEK, tickets=tickets, backlog=0, previous=None, now=at(now), repos=["acme/support"]
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([7.0], 7.0),
        ([1.0, 2.0], 2.0),
        ([float(n) for n in range(1, 11)], 9.0),
        ([float(n) for n in range(20, 0, -1)], 18.0),
        ([float(n) for n in range(1, 12)], 10.0),  # ceil(0.9 × 11) = 10
    ],
)
def test_p90_is_nearest_rank(values: list[float], expected: float | None) -> None:
    """p90 is the ceil(0.9 × n)-th smallest value, one of the real durations."""
    assert percentile(values) == expected


def test_first_response_skips_bots_and_the_author() -> None:
    """A bot's comment and the author's own comment (even a member's) are not a first reply."""
    asked = ticket(
        1,
        "2025-04-22 08:00",
        author=MEMBER_AUTHOR,
        comments=(
            comment("2025-04-22 08:30", BOT),
            comment("2025-04-22 09:00", MEMBER_AUTHOR),
            comment("2025-04-22 10:00", USER),
            comment("2025-04-22 13:00", TEAM),
        ),
    )
    assert first_response(asked) == at("2025-04-22 13:00")


def test_median_and_p90_over_known_durations() -> None:
    """Ten answered tickets, 1 h to 10 h: median 5.5 h, p90 9 h; resolutions likewise in days."""
    tickets = [
        ticket(
            n,
            "2025-04-21 00:00",
            closed=f"2025-04-{21 + n // 2:02d} {(n % 2) * 12:02d}:00",
            comments=(comment(f"2025-04-21 {n:02d}:00", TEAM),),
        )
        for n in range(1, 11)
    ]
    figures = report_of(tickets).figures
    assert figures.median_first_response_hours == pytest.approx(5.5)
    assert figures.p90_first_response_hours == pytest.approx(9.0)
    assert figures.median_resolution_hours == pytest.approx(66.0)  # (60 h + 72 h) / 2
    assert figures.p90_resolution_hours == pytest.approx(108.0)  # the 9th of 12, 24, …, 120 h


def waiting_tickets() -> list[Ticket]:
    """#3 oldest, #1 answered only after the period end, #2 answered, #4 closed, #5 newest."""
    return [
        ticket(1, "2025-04-23 00:00", comments=(comment("2025-04-29 09:00", TEAM),)),
        ticket(2, "2025-04-22 00:00", comments=(comment("2025-04-22 03:00", TEAM),)),
        ticket(3, "2025-04-21 06:00", comments=(comment("2025-04-21 07:00", BOT),)),
        ticket(4, "2025-04-21 07:00", closed="2025-04-25 00:00"),
        ticket(5, "2025-04-27 18:00"),
    ]


def test_waiting_list_is_oldest_first_as_of_period_end() -> None:
    """#3 (a bot reply only), #1 (answered after the end), #5 wait; hours to the period end."""
    report = report_of(waiting_tickets())
    assert [(w.ticket.number, w.hours) for w in report.waiting] == [
        (3, 162.0),
        (1, 120.0),
        (5, 6.0),
    ]
    assert report.waiting_total == 3


def test_waiting_list_of_a_period_in_progress_counts_to_now() -> None:
    """While the week is still running, each ticket has waited until now."""
    report = report_of(waiting_tickets(), now="2025-04-27 20:00")
    assert [(w.ticket.number, w.hours) for w in report.waiting] == [
        (3, 158.0),
        (1, 116.0),
        (5, 2.0),
    ]


def test_waiting_list_is_capped_with_a_count_of_the_rest() -> None:
    """Twelve waiting: ten listed, '… and 2 more'; Discord lists fewer and counts the rest."""
    report = report_of([ticket(n, f"2025-04-22 {n:02d}:00") for n in range(1, 13)])
    assert report.waiting_total == 12
    assert [w.ticket.number for w in report.waiting] == list(range(1, 11))
    slack = json.dumps(render_slack_report(report), ensure_ascii=False)
    for text in (render_markdown(report), slack):
        assert "Waiting for a first reply (12)" in text
        assert "… and 2 more" in text
    embed = next(
        e for e in render_discord_message(report)["embeds"] if e["title"].startswith("Waiting")
    )
    assert embed["title"] == "Waiting for a first reply (12)"
    description = embed.get("description", "")
    more = re.search(r"… and (\d+) more", description)
    assert more is not None
    assert description.count("— waiting ") + int(more.group(1)) == 12


def test_times_agree_across_renderings() -> None:
    """Markdown, JSON, Block Kit and Discord show the same p90s and the same waits."""
    report = report_of(
        [
            *waiting_tickets(),
            ticket(6, "2025-04-24 00:00", comments=(comment("2025-04-24 05:00", TEAM),)),
        ]
    )
    data = json.loads(render_json(report))
    assert data["summary"]["p90_first_response_hours"] == 153.0  # of 3 h, 5 h, 153 h (#1)
    assert data["waiting_for_first_reply"]["total"] == 3
    waits = [(t["number"], t["waiting_hours"]) for t in data["waiting_for_first_reply"]["tickets"]]
    assert waits == [(3, 162.0), (1, 120.0), (5, 6.0)]
    markdown = render_markdown(report)
    slack = json.dumps(render_slack_report(report), ensure_ascii=False)
    discord = json.dumps(render_discord_message(report), ensure_ascii=False)
    assert "**P90 first response:** 6.4 days" in markdown
    for number, shown in ((3, "6.8 days"), (1, "5.0 days"), (5, "6.0 h")):
        assert re.search(rf"\[#{number}\]\(.*\) \| Ticket {number} \| {shown} \|", markdown)
        for text in (slack, discord):
            assert re.search(rf"#{number}\W.*?Ticket {number} — waiting {shown}", text)
    blocks = json.loads(slack)["main"]["blocks"]
    summary = next(b for b in blocks if b.get("fields"))
    assert "*P90 first response*\n6.4 days" in [f["text"] for f in summary["fields"]]
    fields = json.loads(discord)["embeds"][0]["fields"]
    assert {"name": "P90 first response", "value": "6.4 days", "inline": True} in fields
