"""One week rendered to Markdown, JSON, Block Kit and Discord, byte for byte (golden files).

The week is built through the service from a real store (SQLite and PostgreSQL), so the
golden files pin the whole path: the store's read, the figures, themes from the tickets'
text, the ranked recommendations and every renderer. ``UPDATE_GOLDEN=1`` rewrites the files;
read the diff before committing it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from chatbot.core.grammar import parse_period
from chatbot.core.models import Person, Ticket
from chatbot.render import render_discord_json, render_json, render_markdown, render_slack_json
from chatbot.service import ReportService
from chatbot.store import SQLAlchemyTicketStore
from tests.factories import TEAM, USER, comment, ticket
from tests.test_report_numbers import NOW

GOLDEN = Path(__file__).parent / "golden"
OTHER = Person(login="second-customer", association="NONE")

SSO = (
    "### What happened?\n\nSigning in with SSO loops back to the login page after the identity"
    " provider redirect.\n\n### Version\n\n4.2.0\n"
)
EXPORT = (
    "### What happened?\n\nExporting a large table to CSV hangs at 99% and the export file"
    " stays empty.\n\n### Version\n\n4.2.0\n"
)


def _with(base: Ticket, body: str, fields: tuple[tuple[str, str], ...] = ()) -> Ticket:
    return replace(base, body=body, form_fields=fields)


def golden_week() -> list[Ticket]:
    """Fourteen tickets over weeks 16 and 17 of 2025: two topics, a form field, every section."""
    v42 = (("Version", "4.2.0"),)
    v41 = (("Version", "4.1.3"),)
    return [
        _with(
            ticket(
                11,
                "2025-04-21 09:00",
                title="SSO login loops back to the sign-in page",
                labels=("area:login", "status: triage"),
                comments=(
                    comment("2025-04-21 10:00", TEAM, "Which identity provider do you use?"),
                    comment("2025-04-21 12:00", USER, "Okta, the redirect loops forever."),
                    comment("2025-04-22 09:00", OTHER, "Same SSO login loop with Azure AD."),
                    comment("2025-04-24 09:00", TEAM, "We can reproduce the redirect loop."),
                ),
                reactions=6,
            ),
            SSO,
            v42,
        ),
        _with(
            ticket(
                12,
                "2025-04-22 08:00",
                closed="2025-04-25 08:00",
                title="Login redirect loop with Okta SSO",
                labels=("area:login",),
                comments=(comment("2025-04-22 15:00", TEAM, "Fixed by clearing the SSO cookie."),),
            ),
            SSO,
            v42,
        ),
        _with(
            ticket(
                13,
                "2025-04-23 11:00",
                title="Cannot sign in: SSO redirect never finishes",
                comments=(comment("2025-04-27 11:00", USER, "Still looping after the redirect."),),
            ),
            SSO,
            v41,
        ),
        _with(
            ticket(
                14,
                "2025-04-24 13:00",
                title="CSV export hangs on large tables",
                labels=("area:export",),
                comments=(comment("2025-04-24 18:00", TEAM, "How many rows does the table have?"),),
            ),
            EXPORT,
            v42,
        ),
        _with(
            ticket(15, "2025-04-25 10:00", title="Export to CSV stuck at 99 percent"),
            EXPORT,
            v42,
        ),
        _with(
            ticket(
                16,
                "2025-04-25 16:00",
                closed="2025-04-26 10:00",
                title="Empty CSV file after export",
                comments=(comment("2025-04-25 17:00", TEAM, "A fix for the CSV export is out."),),
            ),
            EXPORT,
            v41,
        ),
        ticket(17, "2025-04-26 09:00", title="Dark mode colours in the sidebar"),
        ticket(
            18,
            "2025-03-20 09:00",
            closed="2025-04-23 09:00",
            title="Billing page shows the wrong currency",
            comments=(comment("2025-03-20 12:00", TEAM, "Looking into the currency setting."),),
        ),
        ticket(
            19,
            "2025-04-02 09:00",
            title="Webhook retries after a timeout",
            comments=(comment("2025-04-08 09:00", TEAM, "Can you send the webhook logs?"),),
        ),
        _with(
            ticket(
                20,
                "2025-04-15 09:00",
                closed="2025-04-16 09:00",
                title="SSO login fails after password change",
                comments=(comment("2025-04-15 11:00", TEAM, "Please sign in again."),),
            ),
            SSO,
            v41,
        ),
        ticket(21, "2025-04-16 09:00", title="Typo in the settings page"),
        ticket(
            22,
            "2025-04-17 09:00",
            closed="2025-04-18 09:00",
            title="Question about API limits",
            comments=(comment("2025-04-17 10:00", TEAM, "The limit is 5,000 calls an hour."),),
        ),
        ticket(23, "2025-04-27 22:00", title="Mobile app crashes on start", author=OTHER),
        ticket(24, "2025-04-10 09:00", closed="2025-04-22 09:00", title="Slow search results"),
    ]


@pytest.fixture
def service(store: SQLAlchemyTicketStore) -> ReportService:
    store.save_tickets(golden_week())
    return ReportService(store, clock=lambda: NOW)


RENDERERS = {
    "service-2025-W17.md": render_markdown,
    "service-2025-W17.json": render_json,
    "service-2025-W17.slack.json": render_slack_json,
    "service-2025-W17.discord.json": render_discord_json,
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_week_renders_as_its_golden_file(service: ReportService, name: str) -> None:
    """Every surface shows the same week exactly as reviewed; a change shows up as a diff."""
    report = service.build_report(parse_period("2025-W17", service.calendar()))
    text = RENDERERS[name](report)
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
