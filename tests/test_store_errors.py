"""A store that cannot be opened: one line and exit status 2 from a real `chatbot` process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pg import PG_ADMIN_URL
from tests.processes import chatbot, finish

PASSWORD = "sekret-pass-never-shown"
SERVER = PG_ADMIN_URL.split("@", 1)[1].rsplit("/", 1)[0]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/db", "refused"),
        (f"postgresql://postgres:{PASSWORD}@no-such-host.invalid/db", "no-such-host.invalid"),
        (f"postgresql://postgres:{PASSWORD}@{SERVER}/no_such_database_x", "does not exist"),
        ("sqlite:///{tmp}/corrupt.db", "not a database"),
    ],
    ids=["refused-port", "unknown-host", "missing-database", "corrupt-sqlite"],
)
def test_unusable_store_is_one_line_and_exit_2(url: str, says: str, tmp_path: Path) -> None:
    """`chatbot report` on a store it cannot open: exit 2, one line, no traceback or password."""
    (tmp_path / "corrupt.db").write_bytes(b"not a database, only text " * 100)
    env = {"DATABASE_URL": url.format(tmp=tmp_path)}
    code, out, err = finish(chatbot("report", "last-week", env=env, cwd=tmp_path), timeout=60)
    assert code == 2, err
    [line] = err.splitlines()
    assert says in line
    assert "DATABASE_URL" in line
    assert "Traceback" not in out + err
    assert PASSWORD not in out + err
