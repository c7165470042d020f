"""The Block Kit renderer: Slack's limits hold, ticket text cannot ping or link, numbers match."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatbot.app import build_app
from chatbot.cli import cli
from chatbot.config import load_settings
from chatbot.core.grammar import parse_period
from chatbot.core.periods import Period
from chatbot.core.report import (
    Activity,
    Breakdown,
    Figures,
    Recommendation,
    Report,
    ScorePart,
    Theme,
    TicketRef,
)
from chatbot.render import render_markdown, report_to_dict
from chatbot.render.slack_blocks import (
    MAX_BLOCK_ID,
    MAX_BLOCKS,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    MessagePayload,
    SlackReport,
    render_slack_report,
)

HOSTILE = (
    "<!channel> @here <@U123> <!subteam^S1> <http://evil.example|click me> & &amp; "
    "<!everyone> *bold* `code` > quote"
)
LINK = re.compile(r"<([^<>]*)>")
TICKET_LINK = re.compile(r"^https://github\.com/[^|<>\s]+\|[\w./-]*#\d+$")


def _ref(n: int, title: str = HOSTILE, repo: str = "acme/support") -> TicketRef:
    return TicketRef(
        repo=repo,
        number=n,
        title=title,
        url=f"https://github.com/{repo}/issues/{n}",
        state="open",
    )


def _figures(n: int) -> Figures:
    return Figures(
        received=n,
        resolved=n // 2,
        still_open=n // 3,
        backlog=n * 2,
        answered=n // 4,
        median_first_response_hours=3.5,
        median_resolution_hours=50.0,
    )


def make_report(
    *,
    tickets: int = 40,
    labels: int = 300,
    themes: int = 30,
    recommendations: int = 20,
    title: str = HOSTILE * 40,
    label_prefix: str = HOSTILE,
    repos: tuple[str, ...] = ("acme/support",),
) -> Report:
    """A report of the given size whose every piece of free text is ``title`` (or worse)."""
    period = Period(
        start=date(2025, 4, 21), end=date(2025, 4, 27), label="<!here>" * 50, kind="week"
    )
    refs = [_ref(n, title, repos[n % len(repos)]) for n in range(1, tickets + 1)]
    return Report(
        period=period,
        generated_at=datetime(2025, 4, 28, 9, tzinfo=UTC),
        repos=repos,
        figures=_figures(tickets),
        previous=_figures(tickets // 2),
        previous_period=period.previous(),
        most_active=tuple(
            Activity(
                ticket=r,
                score=10.0 - i / 10,
                parts=(ScorePart(name=title[:200], count=2, weight=1.0),),
                recency=1.0,
                idle_days=0.5,
                comments=2,
                participants=2,
            )
            for i, r in enumerate(refs)
        ),
        active_total=tickets,
        breakdown=tuple(
            Breakdown(
                dimension="label" if i % 3 else f"{label_prefix} field {i % 7}",
                value=f"{label_prefix} {i}",
                received=i,
                resolved=i // 2,
                pending=i - i // 2,
            )
            for i in range(labels)
        ),
        themes=tuple(Theme(title=title, summary=title, tickets=tuple(refs)) for _ in range(themes)),
        recommendations=tuple(
            Recommendation(
                text=f"{title} see #{refs[i % len(refs)].number}", tickets=(refs[i % len(refs)],)
            )
            for i in range(recommendations)
        )
        if refs
        else (),
    )


def _block(message: MessagePayload, block_id: str) -> dict[str, Any]:
    """The block of ``message`` with ``block_id``, as plain data."""
    found: dict[str, Any] = next(dict(b) for b in message["blocks"] if b["block_id"] == block_id)
    return found


def _messages(rendered: SlackReport) -> Iterator[MessagePayload]:
    yield rendered["main"]
    yield from rendered["thread"]


def _texts(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "text" in block:
        yield block["text"]
    yield from block.get("fields", [])
    yield from block.get("elements", [])


def assert_within_limits(rendered: SlackReport) -> None:
    """Every message fits Slack's documented limits."""
    for message in _messages(rendered):
        assert message["text"].strip()
        assert 1 <= len(message["blocks"]) <= MAX_BLOCKS
        ids = [b["block_id"] for b in message["blocks"]]
        assert len(ids) == len(set(ids))
        assert all(0 < len(i) <= MAX_BLOCK_ID for i in ids)
        total = 0
        for block in message["blocks"]:
            b: dict[str, Any] = dict(block)
            if b["type"] == "header":
                assert 0 < len(b["text"]["text"]) <= MAX_HEADER_TEXT
                assert b["text"]["type"] == "plain_text"
            if b["type"] == "section":
                assert "text" in b or "fields" in b
                if "text" in b:
                    assert 0 < len(b["text"]["text"]) <= MAX_SECTION_TEXT
                assert len(b.get("fields", [])) <= MAX_FIELDS
                assert all(0 < len(f["text"]) <= MAX_FIELD_TEXT for f in b.get("fields", []))
            if b["type"] == "context":
                assert 1 <= len(b["elements"]) <= 10
            total += sum(len(t["text"]) for t in _texts(b))
        assert total <= 12_000


def assert_defused(rendered: SlackReport) -> None:
    """No ping, no foreign link: every ``<...>`` is one of our ticket links."""
    for message in _messages(rendered):
        texts = [message["text"]]
        for block in message["blocks"]:
            texts += [t["text"] for t in _texts(dict(block))]
            for t in _texts(dict(block)):
                if t["type"] == "mrkdwn":
                    assert t["verbatim"] is True
        for text in texts:
            for target in LINK.findall(text):
                assert TICKET_LINK.match(target), target
            for ping in (
                "<!channel>",
                "<!here>",
                "<!everyone>",
                "<@U123>",
                "<!subteam",
                "<http://evil",
            ):
                assert ping not in text


def test_huge_hostile_report_stays_within_limits() -> None:
    """A report with many long hostile titles, labels and themes still fits every limit."""
    rendered = render_slack_report(make_report())
    assert_within_limits(rendered)
    assert 1 <= len(rendered["thread"]) <= 4
    everything = json.dumps(rendered, ensure_ascii=False)
    assert "… and" in everything


def test_hostile_text_cannot_ping_or_link() -> None:
    """@channel, @here, user mentions and links in ticket text arrive as inert text."""
    rendered = render_slack_report(make_report(tickets=3, labels=5, themes=2, recommendations=2))
    assert_defused(rendered)
    everything = json.dumps(rendered)
    assert "&lt;!channel&gt;" in everything
    assert "&lt;http://evil.example|click me&gt;" in everything
    assert "&amp;amp;" in everything


def test_no_flags_that_turn_text_into_pings() -> None:
    """Payloads never ask Slack to parse names or links (no link_names, no parse=full)."""
    everything = json.dumps(render_slack_report(make_report(tickets=2, labels=2, themes=1)))
    assert "link_names" not in everything
    assert '"parse"' not in everything


def test_ticket_links_cite_their_tickets() -> None:
    """Tickets appear as `<url|#123>` links, with owner/name when the report spans repos."""
    single = json.dumps(render_slack_report(make_report(tickets=2, labels=1, themes=1)))
    assert "<https://github.com/acme/support/issues/1|#1>" in single
    multi = json.dumps(
        render_slack_report(make_report(tickets=2, labels=1, themes=1, repos=("acme/a", "acme/b")))
    )
    assert "<https://github.com/acme/b/issues/1|acme/b#1>" in multi


def test_empty_report_says_so() -> None:
    """A period without tickets still renders, saying there was nothing."""
    rendered = render_slack_report(make_report(tickets=0, labels=0, themes=0, recommendations=0))
    assert_within_limits(rendered)
    everything = json.dumps(rendered)
    assert "No ticket was opened, closed or commented on in this period." in everything
    assert "None: nothing in this period" in everything


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(min_size=0, max_size=400),
    label=st.text(min_size=0, max_size=200),
    tickets=st.integers(min_value=0, max_value=60),
    labels=st.integers(min_value=0, max_value=400),
    themes=st.integers(min_value=0, max_value=40),
)
def test_any_text_and_size_gives_a_valid_payload(
    title: str, label: str, tickets: int, labels: int, themes: int
) -> None:
    """Whatever the ticket text and however many tickets, the payloads are valid and inert."""
    report = make_report(
        tickets=tickets,
        labels=labels,
        themes=themes if tickets else 0,
        recommendations=min(tickets, 10),
        title=title + HOSTILE,
        label_prefix=label,
    )
    rendered = render_slack_report(report)
    assert_within_limits(rendered)
    assert_defused(rendered)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Last week's report over the demo tickets."""
    url = f"sqlite:///{tmp_path_factory.mktemp('blocks') / 'demo.db'}"
    app = build_app(load_settings(None, database_url=url))
    report = app.service.build_report(parse_period("last-week", app.service.calendar()))
    app.store.engine.dispose()
    return report


def test_summary_numbers_equal_the_markdown_report(demo_report: Report) -> None:
    """Each summary field says exactly what the Markdown summary line says."""
    markdown = render_markdown(demo_report).splitlines()
    fields = _block(render_slack_report(demo_report)["main"], "summary")["fields"]
    assert len(fields) == 8
    for field in fields:
        name, value, *rest = field["text"].split("\n")
        line = f"- **{name.strip('*')}:** {value}"
        if rest:
            previous = rest[0].strip("_").removeprefix("previous period: ")
            line += f" (previous period: {previous})"
        assert line in markdown


def test_numbers_equal_the_json_report(demo_report: Report) -> None:
    """Summary figures and the most active tickets are those of the JSON report."""
    data = report_to_dict(demo_report)
    main = render_slack_report(demo_report)["main"]
    fields = {
        f["text"].split("\n")[0].strip("*"): f["text"].split("\n")[1]
        for f in _block(main, "summary")["fields"]
    }
    summary = data["summary"]
    assert fields["Received"] == str(summary["received"])
    assert fields["Resolved"] == str(summary["resolved"])
    assert fields["Still open (of those received)"] == str(summary["still_open"])
    assert fields["Open backlog at period end"] == str(summary["backlog"])
    assert f"({summary['answered']} of {summary['received']} new" in fields["Median first response"]
    active = _block(main, "most-active")
    cited = [int(n) for n in re.findall(r"#(\d+)>", active["text"]["text"])]
    assert cited == [t["number"] for t in data["most_active_tickets"]]
    assert f"of {data['active_tickets']} active" in active["text"]["text"]


def test_demo_report_fits_and_is_defused(demo_report: Report) -> None:
    """The real demo report renders within limits, with details in one thread reply or more."""
    rendered = render_slack_report(demo_report)
    assert_within_limits(rendered)
    assert_defused(rendered)
    assert rendered["thread"]


def test_cli_prints_slack_payloads(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """`chatbot report last-week --format slack` prints the main message and thread as JSON."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    result = CliRunner().invoke(cli, ["report", "last-week", "--format", "slack", "--no-files"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["main"]["blocks"][0]["type"] == "header"
    assert printed["thread"][0]["blocks"]
