"""The embed renderer: Discord's limits hold, ticket text cannot ping, format or link."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
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
from chatbot.render.discord_embeds import (
    KEY_RESERVE,
    MAX_DESCRIPTION,
    MAX_EMBEDS,
    MAX_FIELD_NAME,
    MAX_FIELD_VALUE,
    MAX_FIELDS,
    MAX_FOOTER,
    MAX_TITLE,
    MAX_TOTAL,
    DiscordMessage,
    delivery_key_in,
    escape,
    message_size,
    render_discord_message,
    units,
    with_delivery_key,
)
from chatbot.service import ReportService
from chatbot.store import open_store
from tests.factories import TEAM, USER, comment, ticket

HOSTILE = (
    "@everyone @here <@123456789012345678> <@!42> <@&987654321098765432> <#111> "
    "</support-report:1> <t:1700000000:R> <:pog:123> **bold** __under__ ~~strike~~ ||spoiler|| "
    "`code` ```block``` > quote # heading -# small [click me](https://evil.example/x) "
    "https://evil.example/bare <https://evil.example/angle> discord.gg/evil \\*"
)
TICKET_LINK = re.compile(r"\[[\w./\\#-]+\]\((https://github\.com/[\w./-]+/issues/\d+)\)")
RAW = (
    "@everyone",
    "@here",
    "<@",
    "<#",
    "<t:",
    "<:",
    "</",
    "](https://evil",
    "https://evil",
    "discord.gg/",
)


def _ref(n: int, title: str = HOSTILE, repo: str = "acme/support") -> TicketRef:
    return TicketRef(
        repo=repo, number=n, title=title, url=f"https://github.com/{repo}/issues/{n}", state="open"
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
    days: int = 7,
) -> Report:
    """A report of the given size whose every piece of free text is ``title`` (or worse)."""
    period = Period(
        start=date(2025, 4, 21),
        end=date(2025, 4, 21) + timedelta(days=days - 1),
        label=HOSTILE,
        kind="week" if days == 7 else "range",
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


def texts(message: DiscordMessage) -> Iterator[str]:
    """Every piece of text Discord would show for ``message``."""
    if message.get("content"):
        yield str(message.get("content"))
    for embed in message["embeds"]:
        data: dict[str, Any] = dict(embed)
        yield data["title"]
        if "description" in data:
            yield data["description"]
        for item in data.get("fields", []):
            yield item["name"]
            yield item["value"]
        if "footer" in data:
            yield data["footer"]["text"]


def assert_within_limits(message: DiscordMessage, *, total: int = MAX_TOTAL) -> None:
    """Every embed and the message as a whole fit Discord's documented limits."""
    assert message["allowed_mentions"] == {"parse": []}
    assert 1 <= len(message["embeds"]) <= MAX_EMBEDS
    for embed in message["embeds"]:
        data: dict[str, Any] = dict(embed)
        assert 0 < units(data["title"]) <= MAX_TITLE
        assert units(data.get("description", "")) <= MAX_DESCRIPTION
        assert "description" not in data or data["description"].strip()
        assert len(data.get("fields", [])) <= MAX_FIELDS
        for item in data.get("fields", []):
            assert 0 < units(item["name"]) <= MAX_FIELD_NAME
            assert item["value"].strip()
            assert units(item["value"]) <= MAX_FIELD_VALUE
        if "footer" in data:
            assert 0 < units(data["footer"]["text"]) <= MAX_FOOTER
    assert message_size(message) <= total


def assert_defused(message: DiscordMessage) -> None:
    """No ping, no markdown from ticket text, no link but the tickets' own."""
    for text in texts(message):
        without_links = TICKET_LINK.sub("", text)
        for raw in RAW:
            assert raw not in without_links, (raw, without_links[:300])
        assert not re.search(r"https?://", without_links), without_links[:300]
        plain = re.sub(r"\\.", "", without_links)  # what is left once escapes are read
        for marker in ("**", "__", "~~", "||", "`", "]("):
            assert marker not in plain, (marker, plain[:300])


def test_huge_hostile_report_stays_within_limits() -> None:
    """Many long hostile titles, labels and themes still fit every limit, cut with "… and"."""
    message = render_discord_message(make_report())
    assert_within_limits(message, total=MAX_TOTAL - KEY_RESERVE)
    assert "… and" in json.dumps(message, ensure_ascii=False)


def test_hostile_text_cannot_ping_format_or_link() -> None:
    """Mass mentions, role/user mentions, markdown and injected links arrive inert."""
    message = render_discord_message(make_report(tickets=3, labels=5, themes=2, recommendations=2))
    assert_defused(message)
    everything = "\n".join(texts(message))
    assert "@\u200beveryone" in everything
    assert "<\u200b@\u200b&987654321098765432" in everything
    assert "\\*\\*bold\\*\\*" in everything


def test_ticket_links_are_the_tickets_own_urls() -> None:
    """Tickets appear as ``[#1](url)``, with owner/name when the report spans repositories."""
    single = "\n".join(texts(render_discord_message(make_report(tickets=2, themes=1))))
    assert "[\\#1](https://github.com/acme/support/issues/1)" in single
    multi = render_discord_message(make_report(tickets=2, themes=1, repos=("acme/a", "acme/b")))
    assert "[acme/b\\#1](https://github.com/acme/b/issues/1)" in "\n".join(texts(multi))


def test_every_section_is_there() -> None:
    """Summary, most active, themes, recommendations, waiting, labels and linked tickets."""
    message = render_discord_message(make_report(tickets=5, labels=5, themes=2, recommendations=2))
    titles = [e["title"] for e in message["embeds"]]
    assert titles[0].startswith("Support report: 2025-04-21 to 2025-04-27")
    assert titles[1:] == [
        "5 most active tickets (of 5 active in the period)",
        "Common issues",
        "Recommendations",
        "Waiting for a first reply (0)",
        "By label",
        "Linked tickets (5)",
    ]


def test_empty_report_says_so() -> None:
    """A period without tickets still renders, saying there was nothing."""
    message = render_discord_message(make_report(tickets=0, labels=0, themes=0, recommendations=0))
    assert_within_limits(message)
    everything = json.dumps(message)
    assert "No ticket was opened, closed or commented on in this period." in everything
    assert "None: nothing in this period" in everything


def test_delivery_key_fits_and_reads_back() -> None:
    """The delivery key goes into the last footer, within limits, and is found again."""
    key = "daily-support/discord:1300000000000000001/2025-04-24T09:00:00+00:00"
    message = with_delivery_key(render_discord_message(make_report()), key)
    assert_within_limits(message)
    assert delivery_key_in(json.loads(json.dumps(message))) == key
    assert delivery_key_in({"embeds": [{"footer": {"text": "Generated"}}]}) is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(min_size=0, max_size=400),
    label=st.text(min_size=0, max_size=200),
    tickets=st.integers(min_value=0, max_value=60),
    labels=st.integers(min_value=0, max_value=400),
    themes=st.integers(min_value=0, max_value=40),
    days=st.integers(min_value=1, max_value=366),
)
def test_any_text_and_size_gives_a_valid_payload(
    title: str, label: str, tickets: int, labels: int, themes: int, days: int
) -> None:
    """Whatever the ticket text and however large the period, the payload is valid and inert."""
    report = make_report(
        tickets=tickets,
        labels=labels,
        themes=themes if tickets else 0,
        recommendations=min(tickets, 10),
        title=title + HOSTILE,
        label_prefix=label,
        days=days,
    )
    message = render_discord_message(report)
    assert_within_limits(message, total=MAX_TOTAL - KEY_RESERVE)
    assert_defused(message)
    assert_within_limits(with_delivery_key(message, "s/discord:1/2025-01-01T00:00:00+00:00"))


@given(text=st.text(max_size=200))
def test_escape_leaves_no_markup(text: str) -> None:
    """Escaped text holds no mention, markup or link, whatever it was."""
    out = escape(text)
    plain = re.sub(r"\\.", "", out)
    for marker in ("**", "__", "~~", "||", "`", "](", "<@", "<#", "@everyone", "@here", "://"):
        assert marker not in plain


def test_a_366_day_period_of_hostile_tickets_fits(tmp_path: Path) -> None:
    """Through the real store and analysis: 366 days, 100 kB bodies, hostile text everywhere."""
    store = open_store(f"sqlite:///{tmp_path / 'hostile.db'}")
    body = (HOSTILE + "\n") * (100_000 // (len(HOSTILE) + 1))
    start = datetime(2024, 4, 25, tzinfo=UTC)
    tickets = []
    for n in range(1, 241):
        opened = start + timedelta(days=n * 1.5)
        closed = opened + timedelta(days=2) if n % 3 else None
        tickets.append(
            ticket(
                n,
                opened.strftime("%Y-%m-%d %H:%M"),
                closed=closed.strftime("%Y-%m-%d %H:%M") if closed else None,
                title=f"{HOSTILE} crash on login {n % 7}",
                labels=(HOSTILE[:60], f"bug {n % 4} @here"),
                comments=(
                    comment((opened + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"), TEAM, body),
                    comment((opened + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M"), USER, body),
                ),
                reactions=n % 9,
                form_fields=((HOSTILE[:40], HOSTILE[:80]),),
            )
        )
    store.save_tickets(tickets)
    service = ReportService(store, clock=lambda: datetime(2025, 4, 24, 12, tzinfo=UTC), top=25)
    report = service.build_report(parse_period("last-366-days", service.calendar()))
    store.engine.dispose()
    assert report.figures.received > 200
    message = render_discord_message(report)
    assert_within_limits(message, total=MAX_TOTAL - KEY_RESERVE)
    assert_defused(message)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Last week's report over the demo tickets."""
    url = f"sqlite:///{tmp_path_factory.mktemp('embeds') / 'demo.db'}"
    app = build_app(load_settings(None, database_url=url))
    report = app.service.build_report(parse_period("last-week", app.service.calendar()))
    app.store.engine.dispose()
    return report


def summary_fields(message: DiscordMessage) -> dict[str, str]:
    """The summary embed's fields as name -> value."""
    return {f["name"]: f["value"] for f in message["embeds"][0].get("fields", [])}


def assert_numbers_match(message: DiscordMessage, report: Report) -> None:
    """Each summary field says what the Markdown summary line says; tickets are the JSON's."""
    markdown = render_markdown(report).splitlines()
    fields = summary_fields(message)
    assert len(fields) == 8
    for name, value in fields.items():
        now, *rest = value.split("\n")
        line = f"- **{name}:** {now}"
        if rest:
            line += f" ({rest[0]})"
        assert line in markdown
    data = report_to_dict(report)
    active = message["embeds"][1]
    cited = [int(n) for n in re.findall(r"#(\d+)\]\(", active.get("description", ""))]
    assert cited == [t["number"] for t in data["most_active_tickets"]]
    assert f"of {data['active_tickets']} active" in active["title"]


def test_numbers_equal_the_markdown_and_json_report(demo_report: Report) -> None:
    """The embeds show the numbers of the Markdown and JSON reports of the same period."""
    message = render_discord_message(demo_report)
    assert_numbers_match(message, demo_report)
    assert_within_limits(message)
    assert_defused(message)


def test_cli_prints_the_discord_payload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`chatbot report last-week --format discord` prints the message payload as JSON."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    result = CliRunner().invoke(cli, ["report", "last-week", "--format", "discord", "--no-files"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) == {"embeds", "allowed_mentions"}
    assert printed["allowed_mentions"] == {"parse": []}
    assert_within_limits(printed)
    assert printed["embeds"][0]["title"].startswith("Support report: ")
