"""The `chatbot` command on the embedded default: what a new user types and sees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chatbot.core.periods import utc_now
from chatbot.sources.demo import ensure_demo
from chatbot.store import open_store
from tests.cli_runner import run_cli as run

HEAVY = (
    "alembic",
    "apscheduler",
    "discord",
    "github",
    "matplotlib",
    "openai",
    "scipy",
    "sklearn",
    "slack_bolt",
    "slack_sdk",
    "sqlalchemy.orm",
    "structlog",
)
"""Packages a report from the command line does without: each costs tens of milliseconds to
import (Alembic a fifth of the start, matplotlib a third of a second, scikit-learn most of a
second: the themes use their own TF-IDF and NMF on numpy, which the demo week imports;
structlog 65-97 ms as it loads rich and pygments for its console renderer: it comes with the
first log event; SQLAlchemy's ORM, which the store's Core queries do without)."""

CLI_HEAVY = (*HEAVY, "pygments", "rich", "sqlalchemy.dialects.postgresql")
"""What ``import chatbot.cli`` (every command's start, ``--help`` included) does without, on
top of HEAVY: structlog's console renderer's rich and pygments, and SQLAlchemy's PostgreSQL
dialect (35 ms) on a SQLite store."""

LAZY = (
    "chatbot.delivery.files",
    "chatbot.render.discord_embeds",
    "chatbot.render.slack_blocks",
    "chatbot.sources.jsonl_import",
    "chatbot.sources.records",
    "chatbot.sources.rest",
)
"""Our own modules that a printed Markdown report on a current store does without: the file
writer, the other surfaces' renderers, and the GitHub JSON mapping with its pydantic models
(needed only to import, sync or load the demo). Imported when a command needs them."""


@pytest.fixture(autouse=True)
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Each test gets its own SQLite file, as a user's first run would."""
    path = tmp_path / "store.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("LOG_FORMAT", "json")
    return path


def test_report_last_week_writes_weekly_and_dailies(capsys: pytest.CaptureFixture[str]) -> None:
    """`chatbot report last-week` prints the report and writes it, with all seven dailies linked."""
    code, out, err = run(capsys, "report", "last-week")
    assert code == 0, err
    assert out.startswith("# Support Ticket Report")
    [weekly] = list(Path("reports/weekly").glob("*/report.md"))
    text = weekly.read_text()
    links = [
        line.split("(")[1].rstrip(")")
        for line in text.splitlines()
        if line.startswith("- [") and "daily" in line
    ]
    assert len(links) == 7
    for link in links:
        assert (weekly.parent / link).resolve().is_file()
    assert (weekly.parent / "report.json").is_file()
    assert "Traceback" not in err


def test_json_matches_markdown_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    """`--format json` prints the same figures the Markdown file shows."""
    code, out, _ = run(capsys, "report", "last-week", "--format", "json")
    assert code == 0
    data = json.loads(out)
    [weekly] = list(Path("reports/weekly").glob("*/report.md"))
    markdown = weekly.read_text()
    assert f"**Received:** {data['summary']['received']} " in markdown
    assert f"**Open backlog at period end:** {data['summary']['backlog']} " in markdown
    assert data["summary"]["received"] > 0


def test_no_files_prints_only(capsys: pytest.CaptureFixture[str]) -> None:
    """`--no-files` prints the report without writing anything."""
    code, out, _ = run(capsys, "report", "yesterday", "--no-files")
    assert code == 0
    assert "# Support Ticket Report" in out
    assert not Path("reports").exists()


def test_out_folder_and_day_layout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`--out DIR` puts a day's report in DIR/daily/YYYY-MM-DD/."""
    code, _, _ = run(capsys, "report", "2026-01-05", "--out", str(tmp_path / "r"))
    assert code == 0
    assert (tmp_path / "r/daily/2026-01-05/report.md").is_file()
    assert (tmp_path / "r/daily/2026-01-05/report.json").is_file()


def test_bad_period_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad period prints one short line naming the accepted forms, no traceback."""
    code, out, err = run(capsys, "report", "fortnight")
    assert code == 2
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [lines[0]]
    assert lines[0].startswith("error: 'fortnight' is not a period. Accepted: today, yesterday")


def test_explain_adds_up(capsys: pytest.CaptureFixture[str]) -> None:
    """`chatbot explain` shows parts whose contributions sum to the activity level."""
    code, out, _ = run(capsys, "report", "last-week", "--format", "json", "--no-files")
    top = json.loads(out)["most_active_tickets"][0]
    code, out, err = run(capsys, "explain", f"{top['repo']}#{top['number']}", "last-week")
    assert code == 0, err
    contributions = [float(line.rsplit("->", 1)[1]) for line in out.splitlines() if "->" in line]
    final = float(out.strip().rsplit("=", 1)[1])
    assert final == pytest.approx(top["activity_level"], abs=0.01)
    assert sum(contributions) == pytest.approx(final, abs=0.01)


def test_explain_unknown_ticket(capsys: pytest.CaptureFixture[str]) -> None:
    """Explaining a ticket the store does not hold says so, exit 2."""
    code, _, err = run(capsys, "explain", "424242")
    assert code == 2
    assert "No ticket 424242 in the store" in err


def test_import_keeps_good_lines_and_reports_bad(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Bad lines are reported by number, good ones are imported, and the exit status is 1."""
    good = {
        "number": 12,
        "title": "Cannot log in",
        "state": "open",
        "html_url": "https://github.com/acme/help/issues/12",
        "user": {"login": "ann", "type": "User"},
        "author_association": "NONE",
        "created_at": "2025-04-22T09:00:00Z",
        "updated_at": "2025-04-22T10:00:00Z",
        "closed_at": None,
        "comments": 1,
        "labels": [{"name": "login"}],
        "body": "### Version\n\n1.2\n\n### OS\n\n_No response_",
        "x_comments": [
            {
                "id": 5,
                "user": {"login": "bob", "type": "User"},
                "author_association": "MEMBER",
                "created_at": "2025-04-22T10:00:00Z",
                "body": "Looking",
            }
        ],
    }
    pull = {**good, "number": 13, "pull_request": {"url": "x"}}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "number": "x"}),
        json.dumps(pull),
        json.dumps({**good, "number": 14, "created_at": "yesterday"}),
    ]
    file = tmp_path / "issues.jsonl"
    file.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "import", str(file))
    assert code == 1
    assert (
        "imported 1 new and 0 updated tickets, 1 comments; skipped 1 pull requests; 3 bad lines"
        in out
    )
    assert f"{file}:line 2: not JSON" in err
    assert f"{file}:line 3: number must be a positive integer" in err
    assert f"{file}:line 5: created_at is not an ISO 8601 time" in err

    code, out, _ = run(capsys, "report", "2025-04-22", "--format", "json", "--no-files")
    data = json.loads(out)
    assert data["repos"] == ["acme/help"]
    assert data["summary"]["received"] == 1
    assert data["summary"]["median_first_response_hours"] == 1.0
    assert {
        "dimension": "Version",
        "category": "1.2",
        "received": 1,
        "resolved": 0,
        "pending": 1,
    } in data["ticket_breakdown"]


def test_help_names_the_database(capsys: pytest.CaptureFixture[str], database: Path) -> None:
    """`chatbot --help` says where the SQLite file is."""
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert str(database) in out


def test_info(capsys: pytest.CaptureFixture[str], database: Path) -> None:
    """`chatbot info` shows the database and what the store holds."""
    code, out, _ = run(capsys, "info")
    assert code == 0
    assert str(database) in out
    assert "microsoft/vscode-mssql" in out


def test_bad_setting_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad setting is named with its fix, exit 2."""
    monkeypatch.setenv("TZ", "Mars/Olympus")
    monkeypatch.setenv("WEEK_START", "someday")
    code, _, err = run(capsys, "report", "today")
    assert code == 2
    assert "TZ: unknown time zone 'Mars/Olympus'" in err
    assert "WEEK_START: must be a weekday name" in err


def test_second_import_keeps_the_first(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Importing a second file adds to the first; only the demo tickets are ever replaced."""
    run(capsys, "info")  # a first run loads the demo
    for number in (1, 2):
        issue = {
            "number": number,
            "title": f"Ticket {number}",
            "state": "open",
            "html_url": f"https://github.com/acme/help/issues/{number}",
            "created_at": "2025-04-22T09:00:00Z",
        }
        file = tmp_path / f"part{number}.jsonl"
        file.write_text(json.dumps(issue) + "\n")
        code, _, _ = run(capsys, "import", str(file))
        assert code == 0
    code, out, _ = run(capsys, "info")
    assert "tickets:    2 in acme/help" in out


@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (
            ["report", "--bogus"],
            "error: No such option '--bogus'.",
            "Try 'chatbot report --help' for help.",
        ),
        (
            ["report"],
            "error: Missing argument 'PERIOD...'.",
            "Try 'chatbot report --help' for help.",
        ),
        (["reprot"], "error: No such command 'reprot'.", "Try 'chatbot --help' for help."),
        (
            ["report", "today", "--format", "pdf"],
            "error: Invalid value for '--format'",
            "Try 'chatbot report --help' for help.",
        ),
    ],
)
def test_usage_errors_are_two_lines(
    capsys: pytest.CaptureFixture[str], args: list[str], error: str, hint: str
) -> None:
    """A usage error says what was wrong and where the help is, without a usage dump."""
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 2
    assert lines[0].startswith(error)
    assert lines[1] == hint


def test_no_command_shows_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`chatbot` alone still prints the whole help."""
    code, _, err = run(capsys)
    assert code == 2
    assert "Commands:" in err


@pytest.mark.parametrize("ticket", ["abc", "12x", "owner#12", "0", "#", "9" * 30])
def test_explain_names_the_ticket_forms(capsys: pytest.CaptureFixture[str], ticket: str) -> None:
    """`chatbot explain abc` says what a ticket reference looks like, in one line, exit 2."""
    code, out, err = run(capsys, "explain", ticket)
    assert code == 2
    assert out == ""
    [line] = [line for line in err.splitlines() if line.strip()]
    assert line.endswith("is not a ticket; use 123 or owner/name#123")


@pytest.mark.parametrize("period", ["0001-01", "9999-W52", "0000-01", "last--1-days"])
def test_edge_periods_are_one_line(capsys: pytest.CaptureFixture[str], period: str) -> None:
    """Edge years and malformed counts are a one-line error with exit 2, not a crash."""
    code, out, err = run(capsys, "report", period, "--no-files")
    assert code == 2
    assert out == ""
    [line] = [line for line in err.splitlines() if line.strip()]
    assert line.startswith("error: ")
    assert "Accepted:" in line


def test_importing_the_cli_imports_nothing_heavy() -> None:
    """`import chatbot.cli` loads none of CLI_HEAVY: no logging library until an event."""
    code = f"import sys, chatbot.cli\nprint(sorted(m for m in {CLI_HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


def test_a_report_on_a_current_store_imports_nothing_heavy(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chatbot report last-week --no-files` on a migrated store runs without Alembic (the
    schema check is plain SQL), the chat platforms' SDKs, the scheduler, matplotlib, a
    logging library (it logs nothing) or our modules in LAZY; and the file writer, once
    imported, still needs no matplotlib."""
    # The team's zone is one where it is about noon, so "today" cannot change between the
    # demo's load here and the command's check of it (a reload would import sources.rest).
    now = utc_now()
    ahead = 12 - now.hour  # hours from UTC to a zone at noon: -11 to +12
    zone = f"Etc/GMT{-ahead:+d}"  # Etc/GMT-3 is UTC+3
    monkeypatch.setenv("TZ", zone)
    store = open_store(f"sqlite:///{database}")  # migrated: nothing pending
    ensure_demo(store, now, zone)  # loaded today: the command only reads its load time
    store.engine.dispose()
    code = (
        "import sys\n"
        "from chatbot.cli import main\n"
        "main(['report', 'last-week', '--no-files'])\n"
        f"print(sorted(m for m in {CLI_HEAVY + LAZY!r} if m in sys.modules))\n"
        "import chatbot.delivery.files\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Support Ticket Report")
    assert done.stdout.splitlines()[-2:] == ["[]", "[]"]
