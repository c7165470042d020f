"""``chatbot serve`` with only Discord configured: a real process against the fake Discord.

It connects through ``DISCORD_API_URL`` (REST and the gateway it names), answers
``/healthz`` on ``PORT``, asks for no privileged intent, and posts every firing of a
``discord:`` schedule once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest

from chatbot.render.discord_embeds import delivery_key_in
from tests.fakes.discord_api import CHANNEL_ID, TOKEN, FakeDiscord
from tests.replica_harness import _base_env, free_port

MESSAGE_CONTENT = 1 << 15
SCHEDULE = f"""
[[schedules]]
name = "every-second"
cron = "* * * * * *"
timezone = "UTC"
period = "yesterday"
targets = ["discord:{CHANNEL_ID}"]
"""


@pytest.fixture
def fake_discord() -> Iterator[FakeDiscord]:
    with FakeDiscord() as fake:
        yield fake


def _health(port: int) -> dict[str, str] | None:
    try:
        with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            body: dict[str, str] = json.loads(response.read())
            return body
    except (URLError, OSError):
        return None


def _wait(
    condition: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, f"{what}: " + log.read_text(errors="replace")[-3000:]
        time.sleep(0.05)  # polling a real process for readiness


def test_serve_with_only_discord_posts_each_firing_once(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    config = tmp_path / "chatbot.toml"
    config.write_text(SCHEDULE, encoding="utf-8")
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **_base_env(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "CHATBOT_CONFIG": str(config),
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_URL": fake_discord.api_url,
        "PORT": str(port),
        "SCHEDULER_TICK_SECONDS": "0.2",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "chatbot", "serve", "--host", "127.0.0.1"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait(lambda: (_health(port) or {}).get("discord") == "gateway", "ready", process, log)
        _wait(lambda: len(fake_discord.posted(CHANNEL_ID)) >= 3, "3 posts", process, log)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    assert process.returncode == 0, log.read_text(errors="replace")[-3000:]
    keys = Counter(delivery_key_in(m) for m in fake_discord.posted(CHANNEL_ID))
    assert None not in keys
    assert all(n == 1 for n in keys.values()), keys
    assert all(k.startswith(f"every-second/discord:{CHANNEL_ID}/") for k in keys if k)
    [identify] = fake_discord.identifies
    assert not identify["intents"] & MESSAGE_CONTENT
    text = log.read_text(errors="replace")
    assert "Traceback" not in text
    # the scheduler ticked every 0.2 s: no line per tick (APScheduler's are kept quiet)
    assert "Running job" not in text
    assert "executed successfully" not in text


def test_serve_with_discord_out_of_reach_stops_with_one_line(tmp_path: Path) -> None:
    """Nothing listens at DISCORD_API_URL: start-up ends with one line naming it, no traceback."""
    env = {
        **_base_env(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_URL": f"http://127.0.0.1:{free_port()}/api/v10",
        "PORT": str(free_port()),
        "LOG_LEVEL": "warning",
    }
    done = subprocess.run(
        [sys.executable, "-m", "chatbot", "serve", "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "DISCORD_API_URL" in errors[0]
    assert "Traceback" not in done.stderr
    assert '"frames"' not in done.stderr
