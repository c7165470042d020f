"""Themes of a period larger than the theme sample: grouped from a sample, counts estimated.

A period of known groups (half CSV exports, a third results-grid scrolling, the rest
sign-in loops, drawn at random; three topics for three groups) is grouped once whole and once from
:func:`theme_sample`; the sampled themes are the same, their counts near the true ones,
and every rendering says "about".
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import replace

import pytest

from chatbot.analysis import themes
from chatbot.analysis.themes import find_themes, previous_sample, theme_sample
from chatbot.core.models import Ticket
from chatbot.core.report import Report, Theme
from chatbot.render import render_discord_json, render_json, render_markdown, render_slack_json
from tests.test_themes import WEEK, _tickets, report_of

EXPORT = [
    ("CSV export hangs", "Export to CSV hangs at 99% and the CSV file stays empty."),
    ("Export never finishes", "The CSV export hangs forever on a large table."),
    ("Empty CSV after export", "CSV export hangs, then the exported file is empty."),
    ("Export stuck", "Exporting to CSV hangs with the progress bar at zero."),
    ("CSV export frozen", "Every CSV export of the report hangs since Monday."),
]
GRID = [
    ("Results grid jumps", "The results grid loses its scroll position on refresh."),
    ("Scroll position lost", "Scrolling the results grid resets the scroll position."),
    ("Grid scroll resets", "The results grid scroll position resets after sorting."),
    ("Results grid scrolling", "The results grid jumps back, scroll position lost."),
    ("Grid keeps jumping", "Results grid scroll position is lost when a row loads."),
]
LOGIN = [
    ("SSO login loops", "SSO login loops back to the sign-in page after the redirect."),
    ("Sign-in redirect loop", "The SSO login redirect loops and the sign-in page returns."),
    ("Cannot log in with Okta", "Okta SSO login loops: the redirect goes round forever."),
    ("Login loop after update", "After the update the SSO login redirect loops."),
    ("Azure AD sign-in fails", "Azure AD SSO login loops on the redirect."),
]
SIZE, HEAD, SAMPLE = 600, 10, 150
GROUPS = {"export": EXPORT, "grid": GRID, "login": LOGIN}


def big_period() -> list[Ticket]:
    """``SIZE`` tickets: about 40% CSV export, 30% results grid, 30% sign-in loops."""
    rng = random.Random(13)
    topics = rng.choices(list(GROUPS.values()), weights=(4, 3, 3), k=SIZE)
    return _tickets([rng.choice(topic) for topic in topics])


def group_of(title: str) -> str:
    return next(name for name, texts in GROUPS.items() if title in dict(texts))


def _order(tickets: list[Ticket]) -> list[tuple[str, int]]:
    """The keys "most active first": a fixed shuffle, so the head is not the lowest keys."""
    keys = [t.key for t in tickets]
    random.Random(5).shuffle(keys)
    return keys


@pytest.fixture
def small_head(monkeypatch: pytest.MonkeyPatch) -> None:
    """A head of ten, and three topics for the three groups (a real sample is far larger)."""
    monkeypatch.setattr(themes, "THEME_HEAD", HEAD)
    monkeypatch.setattr(themes, "MAX_TOPICS", 3)


def _sampled(tickets: list[Ticket], **kwargs: object) -> list[Theme]:
    order = _order(tickets)
    keys = set(theme_sample(order, SAMPLE))
    return find_themes([t for t in tickets if t.key in keys], WEEK, order, **kwargs)  # type: ignore[arg-type]


def test_the_sample_is_the_head_and_every_kth_of_the_rest(small_head: None) -> None:
    order = _order(big_period())
    sample = theme_sample(order, SAMPLE)
    assert sample[:HEAD] == order[:HEAD]  # the most active, whom the themes cite
    rest = sorted(order[HEAD:])
    step = -(-len(rest) // (SAMPLE - HEAD))
    assert sample[HEAD:] == rest[::step]
    assert len(sample) <= SAMPLE
    assert theme_sample(order[:SAMPLE]) == order[:SAMPLE]  # a small period: every key
    assert theme_sample(order, SAMPLE) == sample  # deterministic


def test_previous_sample_takes_every_kth_key_beyond_its_size() -> None:
    keys = [("acme/support", n) for n in range(9, 0, -1)]
    assert previous_sample(keys, 3) == [("acme/support", n) for n in (1, 4, 7)]
    assert previous_sample(keys, 9) == sorted(keys)


def test_sampled_themes_estimate_the_whole_periods_counts(small_head: None) -> None:
    tickets = big_period()
    truth = Counter(group_of(t.title) for t in tickets)
    titles = {t.number: t.title for t in tickets}
    exact = find_themes(tickets, WEEK, _order(tickets))
    sampled = _sampled(tickets)
    assert not any(t.estimated for t in exact)
    assert {group_of(titles[r.number]): t.count for t in exact for r in t.tickets} == truth
    assert all(t.estimated for t in sampled)
    estimates: dict[str, int] = {}
    for theme in sampled:
        (group,) = {group_of(titles[r.number]) for r in theme.tickets}  # one known group each
        estimates[group] = theme.count
        assert theme.summary.startswith(f"About {theme.count} tickets")
        assert theme.opened == theme.still_open == theme.count  # all opened, none closed
        # the group's tickets among the most active, all in the sample, are cited first
        head = [n for _, n in _order(tickets)[:HEAD] if group_of(titles[n]) == group]
        assert [r.number for r in theme.tickets[: len(head)]] == head
    assert estimates.keys() == truth.keys()
    for group, count in estimates.items():
        assert abs(count - truth[group]) <= 0.2 * truth[group], group
    assert sum(t.count for t in sampled) == SIZE  # the estimates still add up


def test_a_period_within_the_sample_is_counted_exactly_and_says_no_about() -> None:
    report = report_of(_tickets(EXPORT + GRID + LOGIN))
    assert [t.count for t in report.themes] == [5, 5, 5]
    assert not any(t.estimated for t in report.themes)
    assert not any("about" in t.summary.lower() for t in report.themes)


def test_previous_total_scales_a_sampled_previous_period(small_head: None) -> None:
    tickets = big_period()
    earlier = _tickets(EXPORT * 6, first=1001, day="2025-04-15")  # 30 exports before
    placed = [t for t in earlier if t.key in set(previous_sample([t.key for t in earlier], 10))]
    whole = _sampled(tickets, previous=earlier)
    scaled = _sampled(tickets, previous=placed, previous_total=len(earlier))
    export = next(i for i, t in enumerate(whole) if "export" in t.title.lower())
    assert (whole[export].previous, whole[export].previous_estimated) == (30, False)
    assert (scaled[export].previous, scaled[export].previous_estimated) == (30, True)


def _estimated_report(small_head: None) -> Report:
    tickets = big_period()
    return replace(report_of(tickets), themes=tuple(_sampled(tickets)))


RENDERINGS = {
    "markdown": render_markdown,
    "json": render_json,
    "slack": render_slack_json,
    "discord": render_discord_json,
}


@pytest.mark.parametrize("surface", RENDERINGS)
@pytest.mark.parametrize("reworded", [False, True], ids=["offline", "reworded"])
def test_every_rendering_says_about_where_counts_are_estimated(
    small_head: None, surface: str, reworded: bool
) -> None:
    """Offline summaries say "About N"; a model's rewording gets "(about N tickets)"."""
    report = _estimated_report(small_head)
    if reworded:
        report = replace(
            report,
            themes=tuple(replace(t, summary="Many people report this.") for t in report.themes),
        )
    out = RENDERINGS[surface](report).lower()
    for theme in report.themes[:5]:  # Slack's main message shows five
        assert f"about {theme.count}" in out, theme.title
    if surface == "json":
        assert all(t["estimated"] for t in json.loads(out)["common_issues"])


@pytest.mark.parametrize("surface", RENDERINGS)
def test_no_rendering_says_about_for_exact_counts(surface: str) -> None:
    out = RENDERINGS[surface](report_of(_tickets(EXPORT + GRID + LOGIN))).lower()
    assert "about 5" not in out
