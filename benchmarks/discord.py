"""Time the Discord front end: concurrent ``/support-report`` interactions through the fake.

Starts the fake Discord of the tests (REST + gateway) in this process and the real bot in
another (this script with ``--bot``: :class:`~chatbot.delivery.discord.DiscordBot` on the demo
tickets in a temporary SQLite file, ``DISCORD_API_URL`` pointing at the fake). When the bot
has identified, it sends N ``INTERACTION_CREATE`` events at once over the gateway and prints
one ``name: value`` a line: the deferral latency (event sent to the interaction callback
arriving at the fake) and the follow-up latency (event sent to the follow-up with the
report's embeds), p50 / p99 / max.

    python benchmarks/discord.py                       # 50 x last-week
    python benchmarks/discord.py --requests 100 --period last-month

Targets: deferral p99 < 100 ms; a week's report followed up < 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
# Run as a script, this file's folder comes first on sys.path and this file would shadow
# the discord.py package of the same name: keep the project root instead.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from tests.fakes.discord_api import TOKEN, FakeDiscord  # noqa: E402

CALLBACK = "POST /interactions/{id}/{token}/callback"
FOLLOWUP = "POST /webhooks/{app}/{token}"


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, -(-len(ordered) * pct // 100) - 1))
    return ordered[int(rank)]


async def run_bot(api_url: str, database_url: str) -> None:
    """The bot process: the real client on the demo tickets until it is terminated."""
    from chatbot.app import build_app
    from chatbot.config import load_settings
    from chatbot.delivery.discord import DiscordBot, DiscordDeps
    from chatbot.logs import configure_logging

    settings = load_settings(None, database_url=database_url, log_level="warning")
    configure_logging("warning", "console")
    app = build_app(settings)
    bot = DiscordBot(
        token=TOKEN,
        deps=DiscordDeps.for_service(app.service),
        api_url=api_url,
        guild_ready_timeout=0.05,
    )
    await bot.start()
    assert bot.connection is not None
    await bot.connection


def burst(fake: FakeDiscord, requests: int, period: str) -> tuple[list[float], list[float]]:
    """Send ``requests`` interactions at once; their deferral and follow-up latencies (ms)."""
    before = len(fake.calls(FOLLOWUP))
    payloads = [fake.interaction(options={"request": period}) for _ in range(requests)]
    sent: dict[str, float] = {}
    for payload in payloads:
        sent[payload["token"]] = time.monotonic()
        fake.dispatch("INTERACTION_CREATE", payload)
    deadline = time.monotonic() + 120
    while len(fake.calls(FOLLOWUP)) < before + requests:
        if time.monotonic() > deadline:
            raise SystemExit("follow-ups missing")
        time.sleep(0.01)

    def latencies(route: str) -> list[float]:
        pairs = [(c.at, c.path.split("/")[3]) for c in fake.calls(route)]
        return [(at - sent[token]) * 1000 for at, token in pairs if token in sent]

    return latencies(CALLBACK), latencies(FOLLOWUP)


def show(name: str, values: list[float]) -> None:
    """One line: p50, p99, max and the count."""
    print(
        f"{name}_ms: p50 {percentile(values, 50):.1f} · p99 {percentile(values, 99):.1f}"
        f" · max {max(values):.1f} (n={len(values)})"
    )


def main() -> None:
    """Start the fake and the bot, fire the bursts, print the latencies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--period", default="last-week")
    parser.add_argument(
        "--bot", nargs=2, metavar=("API_URL", "DATABASE_URL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.bot:
        asyncio.run(run_bot(*args.bot))
        return

    with tempfile.TemporaryDirectory() as tmp, FakeDiscord() as fake:
        database_url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        bot = subprocess.Popen(
            [sys.executable, __file__, "--bot", fake.api_url, database_url], env=env, cwd=tmp
        )
        try:
            deadline = time.monotonic() + 60
            while not fake.identifies or not fake.calls("PUT /applications/{app}/commands"):
                if time.monotonic() > deadline or bot.poll() is not None:
                    raise SystemExit("the bot did not connect")
                time.sleep(0.05)
            burst(fake, 1, args.period)  # warm-up: demo tickets loaded, caches filled
            # The first burst opens a connection per request (a cold pool); the second
            # reuses them, as a bot that has been busy for a while does.
            cold = burst(fake, args.requests, args.period)
            warm = burst(fake, args.requests, args.period)
        finally:
            bot.terminate()
            bot.wait(30)
    print(f"requests: {args.requests} x {args.period}, twice")
    show("deferral_cold", cold[0])
    show("followup_cold", cold[1])
    show("deferral_warm", warm[0])
    show("followup_warm", warm[1])


if __name__ == "__main__":
    main()
