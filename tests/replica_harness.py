"""Real ``chatbot serve`` replicas on a fresh PostgreSQL database, for exactly-once checks.

Shared by ``tests/test_replicas.py``, ``tests/test_replicas_discord.py`` and
``benchmarks/soak.py``:

- :func:`tests.pg.fresh_database` gives the run a PostgreSQL database of its own;
- a :class:`FakePlatform` (:class:`FakeSlackPlatform`, :class:`FakeDiscordPlatform`) is the
  fake chat platform the replicas post to, seen the same way by everything below: its
  settings, one bot token per replica, the sender and delivery key of a stored post, its
  injected failures and the posts it holds;
- :class:`Cluster` runs N ``python -m chatbot serve`` processes (each with its own port, its
  own bot token for the fake platform, its own ``application_name`` in PostgreSQL and a log
  file), starts, kills (SIGKILL), stops (SIGTERM) and restarts them, and always kills what it
  started;
- :class:`Chaos` kills replicas right after a claim (seen in the delivery table) and right
  after a post (inside the fake, once the message is stored and before it is answered), kills
  at random, injects 429s (one longer than the lease, on request) and 5xx into the post
  route, terminates the replicas' database connections, and stops every replica for a while;
  the tests play its moves one by one with :meth:`Chaos.perform`, each waiting for the event
  that shows it happened (a claimed row, a stored post, an answered failure, a firing missed),
  never for a fixed time; ``benchmarks/soak.py`` plays them on a clock (:meth:`Chaos.run`);
- :func:`check` compares the delivery log with the posts the fake platform received.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.error import URLError
from urllib.request import urlopen

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from chatbot.config import Settings
from chatbot.core.deliveries import Delivery, delivery_key
from chatbot.render.discord_embeds import delivery_key_in
from chatbot.scheduling.schedules import Schedule, parse_schedules
from chatbot.store.deliveries import SQLAlchemyDeliveryLog
from tests.fakes import discord_api
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.slack_api import FakeSlack

ROOT = Path(__file__).resolve().parents[1]
HOST = socket.gethostname()
APP_NAME = "chatbot-replica"
#: How long any one wait for an event may take before the test fails saying what it waited
#: for: a guard against a hang, far above what the slowest machine needs, never a pace.
GUARD = 120.0

#: Two schedules, two targets each: one by ``#name``, one by channel id.
SCHEDULES = """
[[schedules]]
name = "every-2s"
cron = "*/2 * * * * *"
timezone = "Europe/Berlin"
period = "yesterday"
targets = ["slack:#support", "slack:C0OTHER"]

[[schedules]]
name = "every-3s"
cron = "*/3 * * * * *"
timezone = "UTC"
period = "last-week"
targets = ["slack:#support", "slack:C0OTHER"]
"""
#: The channel id the fake gives ``#support``.
SUPPORT_ID = "C0SUPPORT"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _base_env() -> dict[str, str]:
    """This process's environment without any of our settings, plus the repository on the path."""
    ours = {name.upper() for name in Settings.model_fields} | {"TZ", "CHATBOT_CONFIG"}
    env = {k: v for k, v in os.environ.items() if k.upper() not in ours}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class FakePlatform(Protocol):
    """A fake chat platform the replicas post scheduled reports to, as the harness sees it."""

    #: The platform's name in schedule targets (``slack``, ``discord``).
    name: str

    def env(self) -> dict[str, str]:
        """The settings (besides the bot token) that point ``chatbot serve`` at the fake."""
        ...

    def add_replica(self, index: int) -> dict[str, str]:
        """Accept a bot token of its own for replica ``index``; the env that sets it."""
        ...

    def sender(self, call: Any) -> str | None:
        """The bot token a stored post was sent with."""
        ...

    def post_key(self, call: Any) -> str | None:
        """The delivery key of a stored post, None for anything but a scheduled report."""
        ...

    def watch(self, on_post: Callable[[Any], None] | None) -> None:
        """Call ``on_post`` with each post once stored, before it is answered (None: stop)."""
        ...

    def rate_limit(self, retry_after: int) -> None:
        """Answer the next post 429 asking to wait ``retry_after`` s."""
        ...

    def server_error(self, status: int, times: int) -> None:
        """Answer the next ``times`` posts with ``status`` (a 5xx)."""
        ...

    def failures_left(self) -> int:
        """How many injected failures are still to be answered."""
        ...

    def posts(self) -> dict[str, list[tuple[str, float]]]:
        """Delivery key -> (message id as the delivery log keeps it, Unix time) of each post."""
        ...


class FakeSlackPlatform:
    """:class:`FakeSlack` as a :class:`FakePlatform`: ``chat.postMessage`` with metadata."""

    name = "slack"

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake

    def env(self) -> dict[str, str]:
        """Signing secret and API root."""
        return {"SLACK_SIGNING_SECRET": "replica-test-secret", "SLACK_API_URL": self.fake.api_url}

    def add_replica(self, index: int) -> dict[str, str]:
        """``SLACK_BOT_TOKEN=xoxb-replica-N``."""
        token = f"xoxb-replica-{index}"
        self.fake.tokens.add(token)
        return {"SLACK_BOT_TOKEN": token}

    def sender(self, call: Any) -> str | None:
        """The token of ``Authorization: Bearer …``."""
        auth = str(call.headers.get("authorization") or "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

    def post_key(self, call: Any) -> str | None:
        """The key in the message metadata."""
        metadata = call.body.get("metadata")
        if metadata is None:
            return None
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        return str(metadata["event_payload"]["delivery_key"])

    def watch(self, on_post: Callable[[Any], None] | None) -> None:
        """Through ``FakeSlack.on_message``."""
        self.fake.on_message = on_post

    def rate_limit(self, retry_after: int) -> None:
        """One 429 on ``chat.postMessage``."""
        self.fake.fail("chat.postMessage", status=429, retry_after=retry_after, times=1)

    def server_error(self, status: int, times: int) -> None:
        """5xx on ``chat.postMessage``."""
        self.fake.fail("chat.postMessage", status=status, times=times)

    def failures_left(self) -> int:
        """Failures queued in the fake."""
        with self.fake.state.lock:
            return sum(len(queue) for queue in self.fake.state.failures.values())

    def posts(self) -> dict[str, list[tuple[str, float]]]:
        """Main messages with ``support_report`` metadata: ``C…/ts``, their ts."""
        found: dict[str, list[tuple[str, float]]] = {}
        for key, places in main_messages(self.fake).items():
            found[key] = [(f"{channel}/{ts}", float(ts)) for channel, ts in places]
        return found


#: The route scheduled Discord posts take.
DISCORD_POST = "POST /channels/{id}/messages"


class FakeDiscordPlatform:
    """:class:`FakeDiscord` as a :class:`FakePlatform`: channel posts with a key in a footer."""

    name = "discord"

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    def env(self) -> dict[str, str]:
        """The REST base (the gateway is what it names)."""
        return {"DISCORD_API_URL": self.fake.api_url}

    def add_replica(self, index: int) -> dict[str, str]:
        """``DISCORD_TOKEN=replica-N-…``."""
        token = f"replica-{index}-{discord_api.TOKEN}"
        self.fake.tokens.add(token)
        return {"DISCORD_TOKEN": token}

    def sender(self, call: Any) -> str | None:
        """The token of ``Authorization: Bot …``."""
        auth = str(call.headers.get("authorization") or "")
        return auth.removeprefix("Bot ") if auth.startswith("Bot ") else None

    def post_key(self, call: Any) -> str | None:
        """The key in the last embed's footer."""
        return delivery_key_in(call.body)

    def watch(self, on_post: Callable[[Any], None] | None) -> None:
        """Through ``FakeDiscord.on_message``."""
        self.fake.on_message = on_post

    def rate_limit(self, retry_after: int) -> None:
        """One 429 (discord.py's headers) on channel posts."""
        self.fake.fail(DISCORD_POST, status=429, retry_after=retry_after, times=1)

    def server_error(self, status: int, times: int) -> None:
        """5xx on channel posts."""
        self.fake.fail(DISCORD_POST, status=status, times=times)

    def failures_left(self) -> int:
        """Failures queued in the fake."""
        with self.fake.state.lock:
            return sum(f.times for queue in self.fake.state.failures.values() for f in queue)

    def posts(self) -> dict[str, list[tuple[str, float]]]:
        """Stored channel messages carrying a key: ``channel/id``, the id's time."""
        with self.fake.state.lock:
            channels = {c: list(ms) for c, ms in self.fake.state.messages.items()}
        found: dict[str, list[tuple[str, float]]] = {}
        for channel, messages in channels.items():
            for message in messages:
                key = delivery_key_in(message)
                if key is None:
                    continue
                ms = (int(message["id"]) >> 22) + discord_api.DISCORD_EPOCH_MS
                found.setdefault(key, []).append((f"{channel}/{message['id']}", ms / 1000))
        return found


def as_platform(fake: FakeSlack | FakePlatform) -> FakePlatform:
    """``fake`` as a :class:`FakePlatform` (a bare :class:`FakeSlack` is wrapped)."""
    return FakeSlackPlatform(fake) if isinstance(fake, FakeSlack) else fake


class Replica:
    """One ``chatbot serve`` process, restartable; its output goes to ``replica-N.log``."""

    def __init__(
        self, index: int, *, env: dict[str, str], workdir: Path, token_env: dict[str, str]
    ) -> None:
        self.index = index
        #: The bot token(s) of this replica: one per platform it posts to.
        self.tokens = set(token_env.values())
        self.port = free_port()
        self.workdir = workdir
        self.log_path = workdir / f"replica-{index}.log"
        self.env = {
            **env,
            **token_env,
            "PORT": str(self.port),
            "PGAPPNAME": f"{APP_NAME}-{index}",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def alive(self) -> bool:
        """Started and not exited."""
        return self.process is not None and self.process.poll() is None

    @property
    def worker(self) -> str | None:
        """The name this process claims rows under (``host:pid``), while it runs."""
        return f"{HOST}:{self.process.pid}" if self.process is not None else None

    def start(self) -> None:
        """Start the process (a previous one must be gone)."""
        assert not self.alive, f"replica {self.index} is still running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- replica {self.index}, start {self.starts} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "chatbot", "serve", "--host", "127.0.0.1"],
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> bool:
        """SIGKILL; False if it was not running."""
        if not self.alive:
            return False
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        return True

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM and wait for the clean shutdown; SIGKILL if it takes too long."""
        if not self.alive:
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def healthy(self) -> bool:
        """``GET /healthz`` answers 200."""
        try:
            with urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as response:
                return int(response.status) == 200
        except (URLError, OSError):
            return False

    def tail(self, lines: int = 25) -> str:
        """The end of the log, without the scheduler's per-tick lines."""
        if not self.log_path.exists():
            return "(no log)"
        text_ = self.log_path.read_text(encoding="utf-8", errors="replace")
        kept = [
            line
            for line in text_.splitlines()
            if "Running job" not in line and "executed successfully" not in line
        ]
        return "\n".join(kept[-lines:])


class Cluster:
    """N replicas of ``chatbot serve`` sharing one database and one fake platform.

    ``fake`` is the platform the chaos and the checks look at (a bare :class:`FakeSlack` is
    taken as :class:`FakeSlackPlatform`); the replicas are configured for it and for any
    ``also`` platform, with a token of their own on each; ``env`` adds settings.
    """

    def __init__(
        self,
        *,
        fake: FakeSlack | FakePlatform,
        database_url: str,
        workdir: Path,
        replicas: int = 3,
        tick: float = 0.5,
        lease: float = 3.0,
        catch_up_minutes: float = 10.0,
        schedules: str = SCHEDULES,
        also: tuple[FakePlatform, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.platform = as_platform(fake)
        platforms = (self.platform, *also)
        self.database_url = database_url
        self.workdir = workdir
        self.lease = lease
        self.schedules_text = schedules
        config = workdir / "chatbot.toml"
        config.write_text(schedules, encoding="utf-8")
        self.env = {
            **_base_env(),
            "DATABASE_URL": database_url,
            "CHATBOT_CONFIG": str(config),
            "SCHEDULER_TICK_SECONDS": str(tick),
            "DELIVERY_LEASE_SECONDS": str(lease),
            "CATCH_UP_MINUTES": str(catch_up_minutes),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "info",
        }
        for platform in platforms:
            self.env.update(platform.env())
        self.env.update(env or {})
        self.replicas = [
            Replica(
                i,
                env=self.env,
                workdir=workdir,
                token_env={k: v for p in platforms for k, v in p.add_replica(i).items()},
            )
            for i in range(replicas)
        ]
        self.lock = threading.RLock()
        #: Every worker name (``host:pid``) any replica ever had, to its replica.
        self.workers: dict[str, Replica] = {}

    def schedules(self) -> list[Schedule]:
        """The schedules the replicas run."""
        return parse_schedules(self.schedules_text, datetime.now(UTC))

    def start(self, replica: Replica) -> None:
        """Start one replica (no-op if it runs)."""
        with self.lock:
            if replica.alive:
                return
            replica.start()
            worker = replica.worker
            assert worker is not None
            self.workers[worker] = replica

    def start_all(self) -> None:
        """Start every replica that is not running."""
        for replica in self.replicas:
            self.start(replica)

    def kill(self, replica: Replica) -> bool:
        """SIGKILL one replica; False if it was not running."""
        with self.lock:
            return replica.kill()

    def stop_all(self) -> None:
        """SIGTERM every replica and wait for each to stop."""
        with self.lock:
            for replica in self.replicas:
                if replica.alive and replica.process is not None:
                    replica.process.send_signal(signal.SIGTERM)
            for replica in self.replicas:
                replica.stop()

    def close(self) -> None:
        """Kill whatever still runs (for ``finally``)."""
        with self.lock:
            for replica in self.replicas:
                with suppress(Exception):
                    replica.kill()

    def alive(self) -> list[Replica]:
        """The replicas running now."""
        return [r for r in self.replicas if r.alive]

    def by_worker(self, worker: str | None) -> Replica | None:
        """The running replica whose process has this worker name."""
        for replica in self.replicas:
            if replica.alive and replica.worker == worker:
                return replica
        return None

    def by_token(self, token: str | None) -> Replica | None:
        """The replica that has this bot token."""
        for replica in self.replicas:
            if token is not None and token in replica.tokens:
                return replica
        return None

    def wait_healthy(self, timeout: float = GUARD) -> None:
        """Wait until every running replica answers ``/healthz``; raise if one died."""
        deadline = time.monotonic() + timeout
        waiting = list(self.alive())
        while waiting:
            for replica in list(waiting):
                if not replica.alive:
                    raise RuntimeError(f"replica {replica.index} exited at start")
                if replica.healthy():
                    waiting.remove(replica)
            if time.monotonic() > deadline:
                raise TimeoutError(f"replicas {[r.index for r in waiting]} not healthy")
            time.sleep(0.1)

    def tails(self, lines: int = 25) -> str:
        """The end of every replica's log, for a failure message."""
        return "\n".join(
            f"===== replica {r.index} ({r.log_path}) =====\n{r.tail(lines)}" for r in self.replicas
        )


@dataclass
class ChaosCounts:
    """What :class:`Chaos` did."""

    kills_after_claim: int = 0
    kills_after_post: int = 0
    random_kills: int = 0
    restarts: int = 0
    rate_limits: int = 0
    long_rate_limits: int = 0
    server_errors: int = 0
    connection_drops: int = 0
    backends_terminated: int = 0
    outages: int = 0
    #: Delivery keys whose replica was killed holding their claim / after posting them.
    claimed_keys: list[str] = field(default_factory=list)
    posted_keys: list[str] = field(default_factory=list)


ACTIONS = (
    "claim_kill",
    "post_kill",
    "random_kill",
    "rate_limit",
    "server_error",
    "drop_connections",
)


class Chaos:
    """Kills, restarts, faults and connection drops against a :class:`Cluster`, from a seed."""

    def __init__(
        self,
        cluster: Cluster,
        rng: random.Random,
        *,
        restart_after: tuple[float, float] = (0.5, 2.5),
        arm_for: float = 8.0,
        retry_afters: tuple[int, ...] = (1, 2, 4),
    ) -> None:
        self.cluster = cluster
        self.rng = rng  # the plan: which moves, when; the same for the same seed
        self._live = random.Random(rng.random())  # victims, delays: drawn as things happen
        self.restart_after = restart_after
        self.arm_for = arm_for
        self.retry_afters = retry_afters
        self.counts = ChaosCounts()
        self.monitor: Engine = create_engine(
            cluster.database_url,
            pool_pre_ping=True,
            connect_args={"application_name": "replica-test-monitor"},
        )
        self._restart_at: dict[int, float] = {}
        self._claim_kill_until = 0.0
        self._post_kill_until = 0.0
        self._lock = threading.Lock()
        self.restarting = True
        cluster.platform.watch(self._on_message)

    def close(self) -> None:
        """Detach from the fake and close the monitoring connections."""
        self.cluster.platform.watch(None)
        self.monitor.dispose()

    # -- the individual moves ----------------------------------------------------------------

    def _killed(self, replica: Replica) -> None:
        delay = self._live.uniform(*self.restart_after)
        with self._lock:
            self._restart_at[replica.index] = time.monotonic() + delay

    def _on_message(self, call: Any) -> None:
        """In the fake's thread: the message is stored; kill its sender before it hears back."""
        platform = self.cluster.platform
        key = platform.post_key(call)
        if key is None or time.monotonic() > self._post_kill_until:
            return
        replica = self.cluster.by_token(platform.sender(call))
        if replica is None:
            return
        with self._lock:
            if time.monotonic() > self._post_kill_until:
                return
            self._post_kill_until = 0.0
        if self.cluster.kill(replica):
            self.counts.kills_after_post += 1
            self.counts.posted_keys.append(key)
            self._killed(replica)

    def _try_claim_kill(self) -> None:
        with self.monitor.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, claimed_by FROM deliveries"
                    " WHERE status = 'claimed' AND lease_until > now()"
                )
            ).all()
        for row in rows:
            replica = self.cluster.by_worker(row.claimed_by)
            if replica is None or not self.cluster.kill(replica):
                continue
            self._claim_kill_until = 0.0
            self.counts.kills_after_claim += 1
            self._killed(replica)
            with self.monitor.connect() as conn:  # did it die holding the claim?
                held = conn.execute(
                    text(
                        "SELECT schedule, target, fire_time FROM deliveries"
                        " WHERE id = :id AND status = 'claimed' AND claimed_by = :worker"
                    ),
                    {"id": row.id, "worker": row.claimed_by},
                ).first()
            if held is not None:
                key = delivery_key(held.schedule, held.target, held.fire_time)
                self.counts.claimed_keys.append(key)
            return

    def drop_connections(self) -> int:
        """Terminate every database session of the replicas; returns how many there were."""
        with self.monitor.connect() as conn:
            ended = conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name LIKE :name"
                ),
                {"name": f"{APP_NAME}-%"},
            ).scalar_one()
        self.counts.connection_drops += 1
        self.counts.backends_terminated += int(ended)
        return int(ended)

    def act(self, action: str) -> None:
        """Do one move now (kills after a claim or a post are armed, and happen when they can).

        Besides :data:`ACTIONS`, ``long_rate_limit`` answers one post 429 asking to wait
        longer than the cluster's lease, by a second.
        """
        platform = self.cluster.platform
        now = time.monotonic()
        if action == "claim_kill":
            self._claim_kill_until = now + self.arm_for
        elif action == "post_kill":
            with self._lock:
                self._post_kill_until = now + self.arm_for
        elif action == "random_kill":
            alive = self.cluster.alive()
            if alive:
                victim = self._live.choice(alive)
                if self.cluster.kill(victim):
                    self.counts.random_kills += 1
                    self._killed(victim)
        elif action == "rate_limit":
            platform.rate_limit(self._live.choice(self.retry_afters))
            self.counts.rate_limits += 1
        elif action == "long_rate_limit":
            platform.rate_limit(int(self.cluster.lease) + 1)
            self.counts.rate_limits += 1
            self.counts.long_rate_limits += 1
        elif action == "server_error":
            status = self._live.choice((500, 502, 503))
            platform.server_error(status, self._live.choice((1, 2)))
            self.counts.server_errors += 1
        elif action == "drop_connections":
            self.drop_connections()
        else:
            raise ValueError(f"unknown action {action!r}")

    def step(self) -> None:
        """Restart replicas whose time has come; look for a claim to kill if armed."""
        now = time.monotonic()
        if self.restarting:
            with self._lock:
                due = [i for i, at in self._restart_at.items() if at <= now]
                for index in due:
                    del self._restart_at[index]
            for index in due:
                self.cluster.start(self.cluster.replicas[index])
                self.counts.restarts += 1
        if now <= self._claim_kill_until:
            self._try_claim_kill()

    # -- moves played one by one, each until its event ---------------------------------------

    def until(self, condition: Callable[[], bool], what: str, timeout: float = GUARD) -> None:
        """Keep stepping (restarts, an armed claim kill) until ``condition`` holds.

        Raises:
            AssertionError: ``condition`` still did not hold after ``timeout`` s (a hang).
        """
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout:.0f} s")
            self.step()
            time.sleep(0.02)

    def perform(self, action: str) -> None:
        """Do one move (see :meth:`act`) and wait until it has taken effect.

        A kill after a claim or a post waits for a replica to claim or post and be killed; an
        injected 429 or 5xx waits until the fake has answered it to a replica; a connection
        drop waits for a replica session to end; a random kill, for a replica to be running.
        """
        counts = self.counts
        if action == "claim_kill":
            before = counts.kills_after_claim
            self._claim_kill_until = float("inf")
            self.until(lambda: counts.kills_after_claim > before, "replica killed holding a claim")
        elif action == "post_kill":
            before = counts.kills_after_post
            with self._lock:
                self._post_kill_until = float("inf")
            self.until(lambda: counts.kills_after_post > before, "replica killed after a post")
        elif action == "random_kill":
            before = counts.random_kills
            self.until(lambda: bool(self.cluster.alive()), "replica running to kill")
            self.act(action)
            assert counts.random_kills > before
        elif action == "drop_connections":
            self.until(lambda: self.drop_connections() > 0, "replica database session to end")
        elif action in ("rate_limit", "long_rate_limit", "server_error"):
            self.act(action)
            platform = self.cluster.platform
            self.until(lambda: not platform.failures_left(), f"post answered with the {action}")
        else:
            raise ValueError(f"unknown action {action!r}")

    def perform_all(self, moves: tuple[str, ...]) -> None:
        """Play ``moves`` one after the other, in an order drawn from the seed."""
        order = list(moves)
        self.rng.shuffle(order)
        for action in order:
            self.perform(action)

    def outage_over(self, firings: int) -> tuple[datetime, datetime]:
        """Stop every replica until each schedule has fired ``firings`` times; start them all.

        Returns the outage's start (every replica stopped) and end (before they start again).
        """
        self.restarting = False
        self._claim_kill_until = self._post_kill_until = 0.0
        self.cluster.stop_all()
        with self._lock:
            self._restart_at.clear()
        self.counts.outages += 1
        start = datetime.now(UTC)
        last = max(
            s.fire_times(start, start + timedelta(minutes=10))[firings - 1]
            for s in self.cluster.schedules()
        )
        self.until(lambda: datetime.now(UTC) > last, f"{firings} firings of each schedule")
        end = datetime.now(UTC)
        self.cluster.start_all()
        self.restarting = True
        return start, end

    # -- scripted runs ------------------------------------------------------------------------

    def plan(
        self, seconds: float, *, every: float, must: tuple[str, ...] = ()
    ) -> list[tuple[float, str]]:
        """Random moves over ``seconds``, one per ``every`` s on average, ``must`` among them."""
        count = max(len(must), round(seconds / every))
        actions = list(must) + [self.rng.choice(ACTIONS) for _ in range(count - len(must))]
        self.rng.shuffle(actions)
        times = sorted(self.rng.uniform(0.3, seconds * 0.9) for _ in actions)
        return list(zip(times, actions, strict=True))

    def run(self, seconds: float, moves: list[tuple[float, str]], poll: float = 0.02) -> None:
        """Play ``moves`` (seconds from now, action) for ``seconds``, stepping every ``poll``."""
        start = time.monotonic()
        pending = sorted(moves)
        while (elapsed := time.monotonic() - start) < seconds:
            while pending and pending[0][0] <= elapsed:
                self.act(pending.pop(0)[1])
            self.step()
            time.sleep(poll)

    def outage(self, seconds: float) -> None:
        """Stop every replica (SIGTERM), wait ``seconds``, start them all again."""
        self.restarting = False
        self._claim_kill_until = self._post_kill_until = 0.0
        self.cluster.stop_all()
        with self._lock:
            self._restart_at.clear()
        self.counts.outages += 1
        time.sleep(seconds)
        self.cluster.start_all()
        self.restarting = True

    def calm(self) -> None:
        """No more moves: disarm, and run every replica (injected failures left are served)."""
        self._claim_kill_until = self._post_kill_until = 0.0
        with self._lock:
            self._restart_at.clear()
        self.cluster.start_all()

    def drain_faults(self, timeout: float) -> bool:
        """Wait until every injected failure has been answered (the replicas keep posting)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.cluster.platform.failures_left():
                return True
            self.cluster.start_all()
            time.sleep(0.2)
        return False

    def settle(self, cutoff: datetime, timeout: float) -> bool:
        """Wait until every firing up to ``cutoff`` is planned and done (posted, failed, skipped).

        Planning inserts all firings of a schedule up to "now" at once, after every earlier
        one; so once a schedule has a row after ``cutoff``, all its rows up to it exist.
        """
        names = {s.name for s in self.cluster.schedules()}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.cluster.start_all()  # a replica that died on its own comes back
            with self.monitor.connect() as conn:
                open_ = conn.execute(
                    text(
                        "SELECT count(*) FROM deliveries WHERE fire_time <= :cutoff"
                        " AND status IN ('pending', 'claimed')"
                    ),
                    {"cutoff": cutoff},
                ).scalar_one()
                beyond = set(
                    conn.execute(
                        text("SELECT DISTINCT schedule FROM deliveries WHERE fire_time > :cutoff"),
                        {"cutoff": cutoff},
                    ).scalars()
                )
            if open_ == 0 and names <= beyond:
                return True
            time.sleep(0.2)
        return False


@dataclass
class Outcome:
    """The delivery log against what the platform received, for firings up to a cutoff."""

    firings: int
    statuses: Counter[str]
    messages: int
    duplicates: dict[str, int]
    lost: list[str]
    gaps: list[str]
    unplanned: list[str]
    wrong_ids: list[str]
    latencies: list[float]
    recorded_latencies: list[float]
    attempts: Counter[int]
    rows: dict[str, Delivery]

    @property
    def posted(self) -> int:
        """Rows up to the cutoff marked posted."""
        return self.statuses["posted"]

    def problems(self) -> list[str]:
        """Every violation of exactly-once, in words; empty when all is well."""
        found = []
        for name, items in (
            ("duplicates", sorted(self.duplicates)),
            ("lost", self.lost),
            ("gaps", self.gaps),
            ("messages without a row", self.unplanned),
            ("message ids not matching the post", self.wrong_ids),
        ):
            if items:
                found.append(f"{name} ({len(items)}): {items[:10]}")
        return found

    def summary(self) -> str:
        """One line of counts."""
        return (
            f"firings {self.firings}, statuses {dict(self.statuses)}, messages {self.messages},"
            f" duplicates {len(self.duplicates)}, lost {len(self.lost)}, gaps {len(self.gaps)},"
            f" attempts {dict(sorted(self.attempts.items()))}"
        )


def main_messages(fake: FakeSlack) -> dict[str, list[tuple[str, str]]]:
    """Delivery key -> every (channel, ts) of a main message that carried it."""
    found: dict[str, list[tuple[str, str]]] = {}
    with fake.state.lock:
        channels = {c: list(ms) for c, ms in fake.state.messages.items()}
    for channel, messages in channels.items():
        for message in messages:
            metadata = message.get("metadata")
            if not metadata or metadata.get("event_type") != "support_report":
                continue
            key = str(metadata["event_payload"]["delivery_key"])
            found.setdefault(key, []).append((channel, str(message["ts"])))
    return found


def check(
    rows: list[Delivery],
    fake: FakeSlack | FakePlatform,
    schedules: list[Schedule],
    cutoff: datetime,
) -> Outcome:
    """Exactly once: each firing up to ``cutoff`` posted once, none missing, none extra."""
    by_key = {r.key: r for r in rows}
    due = [r for r in rows if r.fire_time <= cutoff]
    messages = as_platform(fake).posts()
    duplicates = {k: len(v) for k, v in messages.items() if len(v) > 1}
    lost = [r.key for r in due if r.status != "posted" or r.key not in messages]
    unplanned = [k for k in messages if k not in by_key]
    wrong_ids = [
        r.key
        for r in due
        if r.status == "posted"
        and r.key in messages
        and r.message_id not in {message_id for message_id, _ in messages[r.key]}
    ]
    gaps = []
    for schedule in schedules:
        for target in schedule.targets:
            times = sorted(
                r.fire_time for r in due if r.schedule == schedule.name and r.target == str(target)
            )
            if not times:
                gaps.append(f"{schedule.name}/{target}: never planned")
                continue
            expected = schedule.fire_times(times[0] - timedelta(microseconds=1), times[-1])
            missing = sorted(set(expected) - set(times))
            gaps += [f"{schedule.name}/{target}/{m:%H:%M:%S}" for m in missing]
    latencies = [
        min(at for _, at in messages[r.key]) - r.fire_time.timestamp()
        for r in due
        if r.key in messages
    ]
    recorded = [(r.posted_at - r.fire_time).total_seconds() for r in due if r.posted_at is not None]
    return Outcome(
        firings=len(due),
        statuses=Counter(r.status for r in due),
        messages=sum(len(v) for v in messages.values()),
        duplicates=duplicates,
        lost=lost,
        gaps=gaps,
        unplanned=unplanned,
        wrong_ids=wrong_ids,
        latencies=latencies,
        recorded_latencies=recorded,
        attempts=Counter(r.attempts for r in due),
        rows=by_key,
    )


def delivery_rows(database_url: str) -> list[Delivery]:
    """Every row of the delivery log."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        return SQLAlchemyDeliveryLog(engine).all()
    finally:
        engine.dispose()


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, -(-len(ordered) * pct // 100) - 1))
    return ordered[int(rank)]


def log_events(cluster: Cluster, event: str) -> int:
    """How many log lines of every replica name ``event``."""
    needle = f'"event": "{event}"'
    return sum(
        r.log_path.read_text(encoding="utf-8", errors="replace").count(needle)
        for r in cluster.replicas
        if r.log_path.exists()
    )
