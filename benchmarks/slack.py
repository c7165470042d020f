"""Time the Slack front end: concurrent signed slash commands against ``chatbot serve``.

Starts the fake Slack Web API of the tests in this process and the real bot in another
(``python -m chatbot serve``, HTTP mode, the demo tickets in a temporary SQLite file,
``SLACK_API_URL`` pointing at the fake). When ``/healthz`` answers, it fires N signed
``/support-report PERIOD`` requests at once, each from its own channel, and prints one
``name: value`` a line: the ack latency (request sent to HTTP answer) and the time until the
report's main message reached ``chat.postMessage`` (counted from the moment the burst was
sent); then it sends SIGTERM and times the clean shutdown.

    python benchmarks/slack.py                       # 50 x last-week
    python benchmarks/slack.py --requests 100 --period last-month
    python benchmarks/slack.py --mixed               # 50 different periods

Targets: ack p99 < 50 ms; a week's report posted < 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.slack_api import TOKEN, FakeSlack  # noqa: E402

SECRET = "bench-secret"  # noqa: S105 - a throwaway signing secret for the local bot


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, -(-len(ordered) * pct // 100) - 1))
    return ordered[int(rank)]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def signed_request(port: int, fake: FakeSlack, channel: str, period: str) -> bytes:
    """The raw HTTP bytes of one signed slash command, as Slack would send them."""
    body = urlencode(
        {
            "team_id": "T0001",
            "channel_id": channel,
            "user_id": "U0BENCH",
            "command": "/support-report",
            "text": period,
            "response_url": fake.response_url(channel),
            "trigger_id": "1.2.3",
        }
    )
    ts = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    head = (
        "POST /slack/events HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body.encode())}\r\n"
        f"X-Slack-Request-Timestamp: {ts}\r\n"
        f"X-Slack-Signature: {signature}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body.encode()


async def fire(port: int, fake: FakeSlack, channels: list[str], periods: list[str]) -> list[float]:
    """Send every request at once over pre-opened connections; the ack latency of each, ms.

    Connections are opened and requests encoded before the clock starts, so the figures
    measure the bot, not this client.
    """
    payloads = [signed_request(port, fake, c, p) for c, p in zip(channels, periods, strict=True)]
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in payloads]

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> float:
        sent = time.monotonic()
        writer.write(data)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        answer = head + await reader.readexactly(length)
        done = time.monotonic()
        writer.close()
        if not answer.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(answer[:200].decode(errors="replace"))
        return (done - sent) * 1000

    return await asyncio.gather(
        *(one(r, w, d) for (r, w), d in zip(streams, payloads, strict=True))
    )


async def wait_healthy(
    session: aiohttp.ClientSession, base: str, bot: subprocess.Popen[bytes]
) -> None:
    """Poll ``/healthz`` until the bot answers (or fail if it exits)."""
    for _ in range(600):
        if bot.poll() is not None:
            raise RuntimeError(f"chatbot serve exited with {bot.returncode}")
        try:
            async with session.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("chatbot serve did not become healthy in 30 s")


async def posted_mains(fake: FakeSlack, channels: list[str], timeout: float) -> dict[str, float]:
    """When each channel's main report message arrived, waiting up to ``timeout``."""
    wanted = set(channels)
    deadline = time.monotonic() + timeout
    found: dict[str, float] = {}
    while time.monotonic() < deadline:
        found = {
            c.body["channel"]: c.at
            for c in fake.calls("chat.postMessage")
            if c.body.get("channel") in wanted and not c.body.get("thread_ts")
        }
        if len(found) >= len(wanted):
            break
        await asyncio.sleep(0.01)
    return found


async def main(requests: int, period: str, mixed: bool) -> None:
    """Run the benchmark and print its figures."""
    periods = [f"last-{n % 60 + 1}-days" if mixed else period for n in range(requests)]
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as fake:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}",
            "GITHUB_REPOS": "",
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "PORT": str(port),
            "LOG_LEVEL": "warning",
        }
        env.pop("SLACK_APP_TOKEN", None)
        bot = subprocess.Popen(
            [sys.executable, "-m", "chatbot", "serve", "--host", "127.0.0.1"],
            cwd=folder,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as session:
                await wait_healthy(session, base, bot)
                await fire(port, fake, ["CWARMUP"], [period])
                await fake.wait_for("chat.postMessage", 1, timeout=30)
                channels = [f"CBENCH{n:04d}" for n in range(requests)]
                started = time.monotonic()
                acks = await fire(port, fake, channels, periods)
                mains = await posted_mains(fake, channels, timeout=60)
                wall = time.monotonic() - started
        finally:
            stop_started = time.monotonic()
            bot.send_signal(signal.SIGTERM)
            code = bot.wait(timeout=30)
            stopped = time.monotonic() - stop_started
    posted = [(mains[c] - started) * 1000 for c in channels if c in mains]
    print(f"requests: {requests}")
    print(f"periods: {'mixed last-N-days' if mixed else period}")
    print(f"ack_p50_ms: {percentile(acks, 50):.1f}")
    print(f"ack_p99_ms: {percentile(acks, 99):.1f}")
    print(f"posted: {len(posted)}")
    print(f"posted_p50_ms: {percentile(posted, 50):.1f}")
    print(f"posted_p99_ms: {percentile(posted, 99):.1f}")
    print(f"wall_s: {wall:.2f}")
    print(f"sigterm_exit_code: {code}")
    print(f"sigterm_shutdown_s: {stopped:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--period", default="last-week")
    parser.add_argument("--mixed", action="store_true", help="a different period per request")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.period, args.mixed))
