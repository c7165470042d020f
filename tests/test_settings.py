"""Bad settings are one line with exit 2, and no secret or local variable is ever printed.

The leak checks run the real ``python -m chatbot`` in a folder of its own, as a user would:
what goes wrong there happens before logging or settings exist in the process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatbot.config import Settings, load_settings
from chatbot.core.errors import ConfigError
from tests.cli_runner import run_cli

SECRET = "SECRET123"  # every fake secret below carries it


def chatbot(cwd: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """Run ``python -m chatbot ARGS`` in ``cwd`` with only ``env`` set: status, stdout, stderr."""
    base = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cwd),
        "XDG_DATA_HOME": str(cwd),
        "DATABASE_URL": f"sqlite:///{cwd / 'store.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "chatbot", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def lines(text: str) -> list[str]:
    """The non-blank lines of ``text``."""
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def non_utf8_env(tmp_path: Path) -> Path:
    """A folder whose .env holds tokens and one byte that is not UTF-8."""
    (tmp_path / ".env").write_bytes(
        f"SLACK_BOT_TOKEN=xoxb-{SECRET}\nGITHUB_TOKEN=ghp_{SECRET}\n".encode() + b"NOTE=caf\xe9\n"
    )
    return tmp_path


def test_non_utf8_env_file_is_one_line_without_secrets(non_utf8_env: Path) -> None:
    """A .env with a non-UTF-8 byte: one line naming .env and the fix, exit 2, no token."""
    code, out, err = chatbot(non_utf8_env, "info")
    assert code == 2
    assert SECRET not in out + err
    assert out == ""
    assert lines(err) == [
        "error: Bad configuration: .env: line 3 is not UTF-8 text; save the file as UTF-8"
    ]


def test_help_with_non_utf8_env_file_prints_help_and_a_warning(non_utf8_env: Path) -> None:
    """`chatbot --help` still prints the help, with one warning line, and no token."""
    code, out, err = chatbot(non_utf8_env, "--help")
    assert code == 0
    assert SECRET not in out + err
    assert "Commands:" in out
    assert [line for line in lines(out) if ".env" in line] == [
        "  Warning: Bad configuration: .env: line 3 is not UTF-8 text; save the file as UTF-8"
    ]


BAD_DATABASE_URLS = [
    pytest.param("not a url", "not a database URL", id="not-a-url"),
    pytest.param(f"foo://u:{SECRET}@x/db", "unsupported database 'foo'", id="unknown-backend"),
    pytest.param(f"postgresql+nope://u:{SECRET}@x/db", "unknown driver 'nope'", id="no-driver"),
    pytest.param(f"postgresql://u:{SECRET}@h:abc/db", "not a database URL", id="port-abc"),
    pytest.param(f"postgresql://u:{SECRET}@h:99999/db", "port 99999 is out of range", id="port"),
    pytest.param(f"mysql://u:{SECRET}@h/db", "unsupported database 'mysql'", id="mysql"),
]


@pytest.mark.parametrize(("url", "problem"), BAD_DATABASE_URLS)
def test_bad_database_url_is_one_line_without_password(
    tmp_path: Path, url: str, problem: str
) -> None:
    """A DATABASE_URL that cannot be used: one line naming it and the fix, exit 2, no password."""
    code, out, err = chatbot(tmp_path, "info", DATABASE_URL=url)
    assert code == 2
    assert SECRET not in out + err
    [line] = lines(err)
    assert line.startswith(f"error: Bad configuration: DATABASE_URL: {problem}")
    assert "postgresql+psycopg://" in line


@pytest.mark.parametrize("url", [f"postgresql://u:{SECRET}@h:abc/db", f"foo://u:{SECRET}@x/db"])
def test_help_with_bad_database_url_keeps_the_password(tmp_path: Path, url: str) -> None:
    """`chatbot --help` with a bad DATABASE_URL prints the help and one warning, no password."""
    code, out, err = chatbot(tmp_path, "--help", DATABASE_URL=url)
    assert code == 0
    assert SECRET not in out + err
    assert "Commands:" in out
    assert len([line for line in lines(out) if "DATABASE_URL" in line]) == 1


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_unexpected_failure_logs_a_traceback_without_locals(tmp_path: Path, fmt: str) -> None:
    """An unexpected error (exit 1) logs its type and place, never local variables or tokens."""
    (tmp_path / "reports").write_text("a file where the reports folder should be")
    code, out, err = chatbot(
        tmp_path,
        "report",
        "yesterday",
        REPORTS_DIR=str(tmp_path / "reports"),
        LOG_FORMAT=fmt,
        SLACK_BOT_TOKEN=f"xoxb-{SECRET}",
        GITHUB_TOKEN=f"ghp_{SECRET}",
    )
    assert code == 1
    assert SECRET not in out + err
    assert "command_failed" in err
    assert "Error" in err  # the exception's type is there
    assert "locals" not in err
    assert lines(err)[-1] == "error: something went wrong; the log above has the details."


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("not-a-url", "not an http(s) URL"),
        ("ftp://x", "not an http(s) URL"),
        ("http://h:99999", "bad host or port (1-65535)"),
        ("http://h:0", "port 0 is out of range 1-65535"),
        ("http://[::1", "bad host or port (1-65535)"),
        ("https://", "not an http(s) URL"),
    ],
)
def test_bad_github_api_url_is_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    value: str,
    problem: str,
) -> None:
    """A GITHUB_API_URL that is not an http(s) URL with a valid port: one line, exit 2."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("GITHUB_API_URL", value)
    code, out, err = run_cli(capsys, "info")
    assert code == 2
    assert out == ""
    assert lines(err) == [
        f"error: Bad configuration: GITHUB_API_URL: {problem};"
        " use an http:// or https:// URL with a host, like https://api.github.com"
    ]


@pytest.mark.parametrize(
    "url",
    [
        "https://api.github.com",
        "http://127.0.0.1:8765/api/v3",
        "https://ghe.example.com/api/v3/",
    ],
)
def test_good_github_api_urls_are_kept(url: str) -> None:
    """GitHub.com, a local fake and an Enterprise URL are accepted as given."""
    assert load_settings(None, github_api_url=url).github_api_url == url


def test_bad_slack_api_url_is_named() -> None:
    """SLACK_API_URL is checked the same way, with Slack's URL as the example."""
    with pytest.raises(ConfigError, match=r"SLACK_API_URL: not an http\(s\) URL.*slack.com/api/"):
        load_settings(None, slack_api_url="slack.com/api")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///store.db",
        "sqlite://",
        "postgresql+psycopg://u:pw@127.0.0.1:5432/db",
        "postgresql://u@h/db",
        "postgresql+psycopg2://u@h/db",
    ],
)
def test_good_database_urls_are_kept(url: str) -> None:
    """SQLite and PostgreSQL URLs pass the check without connecting anywhere."""
    assert load_settings(None, database_url=url).database_url == url


def test_every_bad_variable_is_named_at_once() -> None:
    """Several bad settings give one error naming each of them."""
    with pytest.raises(ConfigError) as caught:
        load_settings(None, database_url="nope", github_api_url="ftp://x")
    assert [p.split(":")[0] for p in caught.value.problems] == ["DATABASE_URL", "GITHUB_API_URL"]


def test_database_driver_that_is_not_installed_is_named() -> None:
    """A known dialect whose driver is missing is refused before any connection, no password."""
    with pytest.raises(ConfigError) as caught:
        load_settings(None, database_url=f"postgresql+pg8000://u:{SECRET}@h/db")
    assert "DATABASE_URL: driver 'pg8000' is not installed" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_env_example_lists_every_setting_with_a_comment() -> None:
    """`.env.example` mirrors Settings: each variable once, under a comment saying what it is."""
    lines = (Path(__file__).resolve().parents[1] / ".env.example").read_text().splitlines()
    names = [line.split("=", 1)[0].lstrip("# ") for line in lines if "=" in line.split(" ")[0]]
    for field in Settings.model_fields:
        variable = field.upper()
        assert names.count(variable) == 1, variable
        index = next(
            i for i, line in enumerate(lines) if line.lstrip("# ").startswith(variable + "=")
        )
        while index > 0 and "=" in lines[index - 1] and not lines[index - 1].startswith("# "):
            index -= 1  # a comment may cover a group of variables (LOG_LEVEL and LOG_FORMAT)
        assert lines[index - 1].startswith("#"), f"{variable} has no comment above it"
