"""Common issues found from what tickets say: title, body and comments, never labels.

Small hand-made periods: two real topics written in different words, plus tickets about
nothing in common, wrapped in the same issue-form template and carrying the same
workflow labels, so that a theme made of a template line or a label would show.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from chatbot.analysis import build_report, themes
from chatbot.analysis.ticket_text import clean_texts
from chatbot.core.grammar import Calendar, parse_period
from chatbot.core.models import Ticket
from chatbot.core.report import Figures, Report
from chatbot.render import render_discord_json, render_json, render_markdown, render_slack_json
from chatbot.render.summary import NO_THEMES
from chatbot.service import ReportService
from chatbot.store import SQLAlchemyTicketStore
from tests.factories import TEAM, USER, at, comment, ticket

NOW = at("2025-04-28 10:00")
WEEK = parse_period("2025-W17", Calendar(now=NOW))  # 2025-04-21 .. 2025-04-27
WORKFLOW = ("status-needs-triage", "ml-needsdiagnosis-false", "Pri: 2", "browser-firefox")
FORM = """<!-- Thanks for filing! Please fill in every section. -->
### What happened?
{what}

### Steps to reproduce
1. Open the app
2. {step}

**Browser / Version**: Firefox 120
**Operating System**: Windows 11
The site is not usable.
- [x] I searched the existing issues
![screenshot](https://example.com/shot.png)
"""
CRASH = [
    ("App crashes on startup", "Database corruption: LateInitializationError on launch."),
    ("Crash at launch after update", "The local database is corrupted, startup crashes."),
    ("Startup crash", "LateInitializationError, the database file seems corrupt."),
    ("Cannot open the app any more", "Crash on startup: database corruption reported."),
    ("Crashes immediately", "Startup fails with a corrupted database every time."),
]
GRID = [
    ("Results grid jumps", "Scrolling the results grid resets the scroll position."),
    ("Scroll position lost", "The results grid loses its scroll position on refresh."),
    ("Grid column width", "Results grid column width and scroll position reset."),
    ("Horizontal scroll broken", "Horizontal scroll in the results grid snaps back."),
    ("Results grid scrolling", "Scroll in the results grid is slow and jumps around."),
]
ODD = [
    ("Dark mode colours", "Please make the sidebar a little darker."),
    ("Typo on the about dialog", "The word licence is spelled wrongly."),
    ("Keyboard shortcut request", "A shortcut to duplicate the current tab would help."),
]


def _tickets(
    topics: list[tuple[str, str]],
    *,
    first: int = 1,
    day: str = "2025-04-22",
    form: bool = True,
    labels: tuple[str, ...] = WORKFLOW,
) -> list[Ticket]:
    made = []
    for n, (title, what) in enumerate(topics, first):
        body = FORM.format(what=what, step=title) if form else what
        base = ticket(
            n,
            f"{day} {9 + n % 8:02d}:00",
            title=title,
            labels=labels,
            comments=(
                comment(f"{day} 19:00", TEAM, "Thanks for the report! We are looking into it."),
            ),
        )
        made.append(replace(base, body=body))
    return made


def opened_week(n: int) -> Figures:
    """The previous week's figures when ``n`` tickets were opened and all answered."""
    return Figures(
        received=n,
        resolved=0,
        still_open=n,
        backlog=n,
        answered=n,
        median_first_response_hours=None,
        median_resolution_hours=None,
    )


def period_tickets() -> list[Ticket]:
    """Five startup-crash tickets, five results-grid tickets and three with nothing shared."""
    return _tickets(CRASH + GRID + ODD)


def report_of(tickets: list[Ticket], previous: Figures | None = None) -> Report:
    return build_report(
        period=WEEK,
        tickets=tickets,
        backlog=len(tickets),
        previous=previous,
        now=NOW,
        repos=["acme/support"],
    )


def _members(report: Report) -> list[set[int]]:
    return [{ref.number for ref in theme.tickets} for theme in report.themes]


def test_themes_are_found_from_the_text_alone() -> None:
    """No topical label anywhere: the crash and the grid tickets still make one theme each."""
    report = report_of(period_tickets())
    members = _members(report)
    assert sorted(members[:2], key=min) == [{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}]
    assert members[2] == {11, 12, 13}  # the three odd ones out, last, as "Other"
    by_first = {min(m): theme for m, theme in zip(_members(report), report.themes, strict=True)}
    crash, grid, other = by_first[1], by_first[6], by_first[11]
    assert not crash.other
    assert not grid.other
    assert other.other
    assert other is report.themes[-1]
    assert other.title == "Other"
    crash_words = " ".join((crash.title, *crash.terms)).lower()
    assert {"startup", "database"} & set(crash_words.replace(",", " ").split())
    assert "grid" in grid.title.lower() or "scroll" in grid.title.lower()
    assert grid.summary.startswith("5 tickets report ")


def test_tickets_without_labels_or_a_template_group_by_what_they_say() -> None:
    """Plain bodies, no label at all: the same two themes and the rest as Other."""
    report = report_of(_tickets(CRASH + GRID + ODD, form=False, labels=()))
    assert sorted(_members(report)[:2], key=min) == [{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}]
    assert report.themes[-1].other
    assert sum(theme.count for theme in report.themes) == 13


def test_error_names_keep_their_spelling() -> None:
    """An error named in several tickets names the theme as the tickets write it."""
    tickets = _tickets(
        [
            (f"Crash {i}", "LateInitializationError: Field '_db' has not been initialized")
            for i in range(4)
        ]
        + GRID
    )
    themes = report_of(tickets).themes
    assert any("LateInitializationError" in t.title for t in themes)


def test_every_ticket_is_in_exactly_one_theme_and_counts_match() -> None:
    """Counts add up to the period's tickets; each theme's figures match its own tickets."""
    tickets = period_tickets()
    report = report_of(tickets)
    members = _members(report)
    assert sum(t.count for t in report.themes) == len(tickets) == report.active_total
    assert set().union(*members) == {t.number for t in tickets}
    assert sum(map(len, members)) == len(tickets)  # no ticket twice
    by_number = {t.number: t for t in tickets}
    for theme in report.themes:
        group = [by_number[r.number] for r in theme.tickets]
        assert theme.count == len(group)
        assert theme.opened == sum(WEEK.contains(t.created_at) for t in group)
        assert theme.still_open == sum(t.is_open_at(WEEK.end_at) for t in group)
        assert theme.summary.startswith(f"{theme.count} tickets ")
        assert f"{theme.opened} opened this period, {theme.still_open} still open" in (
            theme.summary
        )


def test_template_lines_and_workflow_labels_never_name_a_theme() -> None:
    """Tickets sharing only the form and the labels have no theme; the form is stripped."""
    unrelated = [
        (f"Question {word}", f"Something about {word} only.")
        for word in ("apples", "bridges", "castles", "dolphins", "engines", "forests", "glaciers")
    ]
    assert report_of(_tickets(unrelated)).themes == ()
    text = clean_texts(_tickets(unrelated))[("acme/support", 1)]
    for boilerplate in (
        "What happened",
        "Browser / Version",
        "not usable",
        "searched",
        "example.com",
        "Thanks for filing",
        "Thanks for the report",
    ):
        assert boilerplate not in text
    assert "Something about apples only." in text
    assert "Windows 11" not in text  # the same answer in every ticket is no topic either

    report = report_of(period_tickets())
    words = " ".join(w for t in report.themes for w in (t.title, t.summary, *t.terms)).lower()
    for label_or_form in (
        "triage",
        "ml",
        "needsdiagnosis",
        "pri",
        "firefox",
        "browser",
        "usable",
        "steps",
        "reproduce",
        "searched",
        "thanks",
    ):
        assert label_or_form not in words.replace(",", " ").replace(";", " ").split()


def test_the_same_data_gives_the_same_themes_in_any_order() -> None:
    """Deterministic: twice the same, and the same again with the tickets shuffled."""
    tickets = period_tickets()
    first = report_of(tickets).themes
    assert report_of(tickets).themes == first
    shuffled = list(tickets)
    random.Random(3).shuffle(shuffled)
    assert report_of(shuffled).themes == first


def test_a_few_tickets_have_no_common_theme_and_every_rendering_says_so() -> None:
    """Four tickets about the same crash are too few to call a theme; all four renderings
    say there is none, in one clear sentence."""
    report = report_of(_tickets(CRASH[:4]))
    assert report.themes == ()
    assert NO_THEMES in render_markdown(report)
    assert NO_THEMES in render_slack_json(report)
    assert NO_THEMES in render_discord_json(report)
    assert json.loads(render_json(report))["common_issues"] == []


def test_other_renders_as_the_rest_not_as_a_numbered_theme() -> None:
    """ "Other" comes last, unnumbered, with its count, in Markdown, JSON, Block Kit, Discord."""
    report = report_of(period_tickets())
    markdown = render_markdown(report)
    assert "### 1. " in markdown
    assert "### 2. " in markdown
    assert "### Other\n3 tickets share no common theme" in markdown
    assert "### 3. Other" not in markdown
    issues = json.loads(render_json(report))["common_issues"]
    assert [i["other"] for i in issues] == [False, False, True]
    assert [i["count"] for i in issues] == [5, 5, 3]
    slack = render_slack_json(report)
    assert "*Other* — 3 tickets share no common theme" in slack
    assert "3. Other" not in slack
    discord = json.loads(render_discord_json(report))
    names = [f["name"] for e in discord["embeds"] for f in e.get("fields", ())]
    assert "Other" in names
    assert "3. Other" not in names


def test_previous_counts_place_last_periods_tickets_in_the_themes() -> None:
    """``previous`` counts the previous week's tickets that fall in each theme."""
    earlier = _tickets(CRASH[:3] + GRID[:1] + ODD[:1], first=101, day="2025-04-15")
    previous = opened_week(5)
    report = report_of(period_tickets() + earlier, previous)
    counts = {min(r.number for r in t.tickets): t.previous for t in report.themes}
    assert counts == {1: 3, 6: 1, 11: None}
    assert report.active_total == 13  # last week's tickets are not this week's
    assert all(t.previous is None for t in report_of(period_tickets()).themes)


def test_the_service_reads_bodies_and_comments_from_the_store(
    store: SQLAlchemyTicketStore,
) -> None:
    """The period's read leaves bodies out; the themes get them through ``ticket_texts``:
    tickets titled only "Ticket N" are grouped by their bodies and comments."""
    tickets = [
        replace(t, title=f"Ticket {t.number}", body="")
        for t in _tickets(CRASH + GRID + ODD, form=False)
    ]
    topics = CRASH + GRID + ODD
    tickets = [
        replace(
            t,
            body=what if t.number % 2 else "",
            comments=(
                *t.comments,
                comment("2025-04-23 09:00", USER, "" if t.number % 2 else what),
            ),
            comment_count=2,
        )
        for t, (_, what) in zip(tickets, topics, strict=True)
    ]
    store.save_tickets(tickets)
    texts = store.ticket_texts([t.key for t in tickets] + [("acme/support", 999)], 30)
    assert set(texts) == {t.key for t in tickets}
    assert all(len(part) <= 30 for text in texts.values() for part in text.split("\n\n"))
    report = ReportService(store, clock=lambda: NOW).build_report(WEEK)
    assert {1, 2, 3, 4, 5} in _members(report)
    assert {6, 7, 8, 9, 10} in _members(report)
    assert report.themes[-1].other


def test_bot_comments_are_left_out_of_the_text(store: SQLAlchemyTicketStore) -> None:
    """A bot's comment on every ticket is not what the tickets are about."""
    bot = replace(USER, login="triage-bot[bot]", is_bot=True)
    one = ticket(
        1,
        "2025-04-22 09:00",
        title="Slow search",
        comments=(
            comment("2025-04-22 10:00", bot, "Automatic triage: needs info"),
            comment("2025-04-22 11:00", USER, "Search takes a minute"),
        ),
    )
    store.save_tickets([replace(one, body="Search is slow.")])
    assert store.ticket_texts([one.key], 2000) == {
        one.key: "Search is slow.\n\nSearch takes a minute"
    }


def test_a_large_previous_period_is_placed_by_an_even_sample_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the sample size, every k-th earlier ticket is placed and the count scaled up."""
    earlier = _tickets(CRASH + GRID[:1] + ODD, first=101, day="2025-04-15")  # 5 crashes of 9
    previous = opened_week(9)
    exact = report_of(period_tickets() + earlier, previous)
    monkeypatch.setattr(themes, "PREVIOUS_SAMPLE", 3)  # places #101, #104 and #107
    sampled = report_of(period_tickets() + earlier, previous)
    crash_exact, crash_sampled = exact.themes[0], sampled.themes[0]
    assert (crash_exact.previous, crash_exact.previous_estimated) == (5, False)
    # two crashes (#101, #104) of the three placed, scaled by 9 / 3
    assert (crash_sampled.previous, crash_sampled.previous_estimated) == (6, True)
    assert [t.title for t in sampled.themes] == [t.title for t in exact.themes]
    assert '"previous_period_estimated": true' in render_json(sampled)
