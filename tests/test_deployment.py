"""The image and the compose file: what goes into the build, and a start with no schedules."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

import pytest
import yaml

from tests.replica_harness import ROOT, _base_env, free_port


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; ``!`` re-includes; a dir covers its files."""
    ignored = False
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        candidates = [body]
        if body.startswith("**/"):
            candidates.append(body[3:])
        if any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates):
            ignored = not negate
    return ignored


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [".env", ".env.local", "chatbot.db", "data/support.db", "x.db-wal", ".git/config", ".venv/bin"],
)
def test_secrets_stores_and_history_stay_out_of_the_image(path: str) -> None:
    assert _ignored(path, _dockerignore())


@pytest.mark.parametrize(
    "path", ["pyproject.toml", "README.md", "chatbot/cli.py", "chatbot/sources/demo_data/x"]
)
def test_what_the_dockerfile_copies_stays_in(path: str) -> None:
    assert not _ignored(path, _dockerignore())


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_starts_without_a_schedules_file() -> None:
    """The schedules come from a folder mount, which Compose creates when it is missing."""
    for name, service in _compose()["services"].items():
        if name == "db":
            continue
        config = Path(service["environment"]["CHATBOT_CONFIG"])
        mounts = [m for m in service["volumes"] if isinstance(m, dict) and m["type"] == "bind"]
        holding = [m for m in mounts if config.is_relative_to(m["target"])]
        assert holding, f"{name}: CHATBOT_CONFIG {config} is in no mounted folder"
        for mount in holding:
            assert Path(mount["target"]) != config, f"{name}: a file mount fails when missing"
            assert mount.get("bind", {}).get("create_host_path", False), name
        env_files = service["env_file"]
        assert all(not f.get("required", True) for f in env_files), f"{name}: .env optional"


def test_compose_names_the_version_it_needs() -> None:
    """``env_file: required`` arrived in Compose 2.24.0; the file says so."""
    assert "v2.24.0" in (ROOT / "docker-compose.yml").read_text(encoding="utf-8")


@pytest.fixture
def serve_without_schedules(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = {
        **_base_env(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "CHATBOT_CONFIG": str(tmp_path / "config" / "chatbot.toml"),
        "PORT": str(port),
        "REPORTS_DIR": str(tmp_path / "reports"),
    }
    (tmp_path / "config").mkdir()  # what Compose creates: an empty folder
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "chatbot", "serve", "--host", "127.0.0.1"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process, port, log_path
    finally:
        process.terminate()
        process.wait(30)


def _healthz(port: int) -> int | None:
    try:
        with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return int(response.status)
    except (URLError, OSError):
        return None


def test_serve_starts_with_no_schedules_and_says_so(
    serve_without_schedules: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    process, port, log_path = serve_without_schedules
    deadline = time.monotonic() + 60
    while _healthz(port) != 200:
        assert process.poll() is None, log_path.read_text(errors="replace")
        assert time.monotonic() < deadline, log_path.read_text(errors="replace")
        time.sleep(0.1)  # polling for readiness, not hiding a race
    log_text = log_path.read_text(errors="replace")
    assert "no_schedules" in log_text
    assert "chatbot.toml" in log_text
    assert "server_ready" in log_text
