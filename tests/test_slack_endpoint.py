"""The Slack endpoint of a real ``chatbot serve`` before and after authentication.

Each test runs ``python -m chatbot serve`` processes (``tests/replica_harness.py``) against the
fake Slack Web API, and talks to them over raw HTTP as Slack, or an attacker, would: unsigned
and forged requests, malformed headers and bodies, oversized and flooding bodies, replayed
slash commands (to two replicas sharing PostgreSQL). ``tests/test_healthz.py`` uses its helpers.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from structlog.testing import capture_logs

from chatbot.delivery.slack.gate import MAX_AGE, RejectionLog, signature_problem
from tests.fakes.slack_api import Call, FakeSlack
from tests.pg import fresh_database
from tests.replica_harness import Cluster, Replica

SECRET = "replica-test-secret"  # what Cluster gives every replica
CHANNEL = "C0REPORTS"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def sign(timestamp: str, body: bytes, secret: str = SECRET) -> str:
    """Slack's ``X-Slack-Signature`` for ``body`` sent at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Answer:
    """What the server sent back."""

    status: int
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def post(port: int, body: bytes, headers: dict[str, str | bytes]) -> Answer:
    """POST ``body`` to ``/slack/events`` with exactly these headers (any bytes allowed)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("POST", "/slack/events", skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body)
        response = conn.getresponse()
        return Answer(response.status, response.read())
    finally:
        conn.close()


def get_health(port: int) -> Answer:
    """``GET /healthz``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        return Answer(response.status, response.read())
    finally:
        conn.close()


def signed(
    body: bytes, content_type: str, *, timestamp: str | None = None
) -> dict[str, str | bytes]:
    """Headers of a correctly signed request."""
    ts = timestamp or str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(ts, body),
    }


def slash_form(fake: FakeSlack, text_: str = "last-week", channel_name: str = "support") -> bytes:
    """A ``/support-report`` slash command as Slack posts it."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T0001",
            "channel_id": CHANNEL,
            "channel_name": channel_name,
            "user_id": "U0ASKER",
            "user_name": "asker",
            "command": "/support-report",
            "text": text_,
            "api_app_id": "A0001",
            "response_url": fake.response_url("r1"),
            "trigger_id": "1.2.3",
        }
    ).encode()


def reports(fake: FakeSlack) -> list[Call]:
    """The reports' main messages posted (top level, with a header block)."""
    return [
        c
        for c in fake.calls("chat.postMessage")
        if c.body.get("thread_ts") is None and c.blocks and c.blocks[0]["type"] == "header"
    ]


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``check()`` until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def log_of(replica: Replica) -> str:
    return replica.log_path.read_text(encoding="utf-8", errors="replace")


@dataclass
class Served:
    """One running ``chatbot serve`` on a SQLite store with the demo tickets."""

    cluster: Cluster
    fake: FakeSlack
    database: Path

    @property
    def replica(self) -> Replica:
        return self.cluster.replicas[0]

    @property
    def port(self) -> int:
        return self.replica.port


def _serve(fake: FakeSlack, workdir: Path, database_url: str, replicas: int = 1) -> Cluster:
    cluster = Cluster(
        fake=fake, database_url=database_url, workdir=workdir, replicas=replicas, schedules=""
    )
    cluster.start_all()
    try:
        cluster.wait_healthy()
    except BaseException:
        print(cluster.tails())
        cluster.close()
        raise
    return cluster


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A real ``chatbot serve`` shared by the module's request tests."""
    workdir = tmp_path_factory.mktemp("endpoint")
    database = workdir / "store.db"
    with FakeSlack() as fake:
        cluster = _serve(fake, workdir, f"sqlite:///{database}")
        try:
            yield Served(cluster=cluster, fake=fake, database=database)
        finally:
            cluster.stop_all()
            cluster.close()


@pytest.fixture
def fresh_serve(tmp_path: Path) -> Iterator[Served]:
    """A real ``chatbot serve`` of this test alone (its log holds only this test's lines)."""
    database = tmp_path / "store.db"
    with FakeSlack() as fake:
        cluster = _serve(fake, tmp_path, f"sqlite:///{database}")
        try:
            yield Served(cluster=cluster, fake=fake, database=database)
        finally:
            cluster.stop_all()
            cluster.close()


EVENT = b'{"type":"event_callback","event_id":"EvX","event":{"type":"app_mention"}}'


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        (None, None),
        ("abc", "v0=" + "0" * 64),
        ("1e10", "v0=" + "0" * 64),
        ("", "v0=" + "0" * 64),
        (" 1", "v0=" + "0" * 64),
        ("-5", "v0=" + "0" * 64),
        ("99999999999999999999999", "v0=" + "0" * 64),
        ("now", None),
        ("now", ""),
        ("now", "v0=" + "0" * 64),
        ("now", "v0=\u00e9\u00e9".encode()),
        ("now", b"v0=\xff\xfe"),
        ("now", "v1=" + "0" * 64),
        ("stale", "sign"),
    ],
    ids=[
        "no-headers",
        "ts-abc",
        "ts-1e10",
        "ts-empty",
        "ts-space",
        "ts-negative",
        "ts-huge",
        "no-signature",
        "empty-signature",
        "forged",
        "non-ascii-signature",
        "non-utf8-signature",
        "wrong-version",
        "stale",
    ],
)
def test_unsigned_or_badly_signed_requests_get_401(
    served: Served, timestamp: str | None, signature: str | bytes | None
) -> None:
    """A request without a valid signature gets 401 and reaches no listener, never a 500."""
    headers: dict[str, str | bytes] = {"Content-Type": JSON}
    now = str(int(time.time()))
    if timestamp is not None:
        ts = {"now": now, "stale": str(int(time.time()) - MAX_AGE - 60)}.get(timestamp, timestamp)
        headers["X-Slack-Request-Timestamp"] = ts
        if signature == "sign":
            signature = sign(ts, EVENT)
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    before = len(served.fake.calls())
    answer = post(served.port, EVENT, headers)
    assert (answer.status, answer.json()) == (401, {"error": "invalid request"})
    assert len(served.fake.calls()) == before
    assert "Traceback" not in log_of(served.replica)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{", JSON),
        (b"[1, 2]", JSON),
        (b'"a string"', JSON),
        (b"null", JSON),
        (b"17", JSON),
        (b"{}", JSON),
        (b'{"type": 5}', JSON),
        (b"[" * 100_000, JSON),
        (b'{"type": "event_callback", "event": ' + b"[" * 100_000, JSON),
        (b'{"type": "event_callback", "event": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", JSON),
        (b"command=%2Fsupport-report&text=\xff\xfe", FORM),
        (b'{"type": "event_callback", "x": "\xc3\x28"}', JSON),
        (b"payload=%7B", FORM),
        (b"payload=%5B%5D", FORM),
        (b"payload=null", FORM),
        (b"foo=bar", FORM),
        (b"", FORM),
        (b"text=last-week", FORM),
    ],
    ids=[
        "json-invalid",
        "json-list",
        "json-string",
        "json-null",
        "json-number",
        "json-no-type",
        "json-type-not-text",
        "json-100k-open-brackets",
        "json-deep-unclosed",
        "json-deep-closed",
        "form-invalid-utf8",
        "json-invalid-utf8",
        "payload-half-object",
        "payload-list",
        "payload-null",
        "form-no-command",
        "empty",
        "form-text-only",
    ],
)
def test_signed_malformed_bodies_get_400(served: Served, body: bytes, content_type: str) -> None:
    """A signed body that is not something Slack sends gets 400, never a 500 or a traceback."""
    before = len(served.fake.calls())
    answer = post(served.port, body, signed(body, content_type))
    assert answer.status == 400
    assert len(served.fake.calls()) == before
    assert "Traceback" not in log_of(served.replica)


def test_oversized_body_gets_413(served: Served) -> None:
    """A body larger than 1 MiB is refused with 413, signed or not."""
    body = b"x" * (1024 * 1024 + 1)
    assert post(served.port, body, signed(body, FORM)).status == 413
    assert get_health(served.port).status == 200


def test_signed_requests_are_still_answered(served: Served) -> None:
    """A signed slash command is acked and its report posted; a URL check gets its challenge."""
    challenge = b'{"type": "url_verification", "challenge": "abc123", "token": "t"}'
    answer = post(served.port, challenge, signed(challenge, JSON))
    assert (answer.status, answer.json()) == (200, {"challenge": "abc123"})
    before = len(reports(served.fake))
    form = slash_form(served.fake, "yesterday")
    answer = post(served.port, form, signed(form, FORM + "; charset=utf-8"))
    assert answer.status == 200
    assert str(answer.json()["text"]).startswith("Working on the report")  # type: ignore[index]
    wait_until(lambda: len(reports(served.fake)) == before + 1)


def test_command_whose_fields_contain_the_word_payload_is_answered(served: Served) -> None:
    """A command from ``#payload-team`` is a command, not an interaction with no fields."""
    before = len(reports(served.fake))
    form = slash_form(served.fake, "last-week", channel_name="payload-team")
    answer = post(served.port, form, signed(form, FORM))
    assert answer.status == 200
    assert str(answer.json()["text"]).startswith("Working on the report")  # type: ignore[index]
    wait_until(lambda: len(reports(served.fake)) == before + 1)


def test_replayed_command_to_one_replica_is_answered_once(served: Served) -> None:
    """The same signed command sent again is acked with an empty 200 and posts nothing more."""
    form = slash_form(served.fake, "last-month")
    headers = signed(form, FORM)
    before = len(reports(served.fake))
    first = post(served.port, form, headers)
    again = [post(served.port, form, headers) for _ in range(4)]
    assert first.status == 200
    assert first.body
    assert [(a.status, a.body) for a in again] == [(200, b"")] * 4
    wait_until(lambda: len(reports(served.fake)) == before + 1)
    # the same text, signed anew (a person asking again), is a new request
    fresh = signed(form, FORM, timestamp=str(int(time.time()) + 1))
    assert post(served.port, form, fresh).body
    wait_until(lambda: len(reports(served.fake)) == before + 2)


def test_forged_flood_leaves_a_small_log_and_a_working_server(fresh_serve: Served) -> None:
    """20 forged 1 MB POSTs write under 4 kB of log, none of the body; the server still answers."""
    body = b"x" * 1_000_000
    forged: dict[str, str | bytes] = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    size_before = fresh_serve.replica.log_path.stat().st_size
    statuses = {post(fresh_serve.port, body, forged).status for _ in range(20)}
    assert statuses == {401}
    assert get_health(fresh_serve.port).status == 200
    form = slash_form(fresh_serve.fake)
    assert post(fresh_serve.port, form, signed(form, FORM)).status == 200
    wait_until(lambda: len(reports(fresh_serve.fake)) == 1)
    fresh_serve.cluster.stop_all()
    written = fresh_serve.replica.log_path.read_bytes()[size_before:]
    assert len(written) < 4096, written[:2000]
    assert b"xxxxxxxx" not in written
    assert written.count(b"slack_request_rejected") >= 1


def test_rejection_log_writes_one_line_per_interval() -> None:
    """Rejections within the interval are counted, not logged; the next line says how many."""
    now = [0.0]
    rejections = RejectionLog(every=10.0, clock=lambda: now[0])
    with capture_logs() as logs:
        for moment in (0.0, 1.0, 2.0, 9.9, 10.0, 10.5):
            now[0] = moment
            rejections.note(401, "bad_signature")
    assert [(e["event"], e["suppressed"]) for e in logs] == [
        ("slack_request_rejected", 0),
        ("slack_request_rejected", 3),
    ]
    assert logs[0]["status"] == 401
    assert logs[0]["reason"] == "bad_signature"


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [("", "v0=" + "0" * 64), ("12a", "v0=" + "0" * 64), ("\u0661\u0662", "v0=" + "0" * 64)],
)
def test_signature_problem_never_raises(timestamp: str, signature: str) -> None:
    """Malformed header values (even Unicode digits) are reasons, not exceptions."""
    assert signature_problem(b"s", timestamp, signature, b"{}", time.time()) is not None


@pytest.mark.postgres
def test_replayed_command_to_two_replicas_posts_one_report(tmp_path: Path) -> None:
    """The same signed command sent 5 times across two replicas sharing PostgreSQL: one report."""
    with fresh_database("support_report_replay") as url, FakeSlack() as fake:
        cluster = _serve(fake, tmp_path, url, replicas=2)
        try:
            form = slash_form(fake)
            headers = signed(form, FORM)
            answers = [post(cluster.replicas[i % 2].port, form, headers) for i in range(5)]
            assert {a.status for a in answers} == {200}
            acked = [a for a in answers if a.body]
            assert len(acked) == 1
            assert str(acked[0].json()["text"]).startswith("Working on")  # type: ignore[index]
            wait_until(lambda: len(reports(fake)) == 1)
            cluster.stop_all()  # lets any answer in flight finish before counting
            assert len(reports(fake)) == 1
        finally:
            cluster.close()


def test_signed_request_no_listener_handles_is_logged_without_its_body(
    fresh_serve: Served,
) -> None:
    """Bolt's "unhandled request" warning (which quotes the body) becomes one short line."""
    payload = {"type": "dialog_submission", "callback_id": "c", "submission": {"x": "TICKET-TEXT"}}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    size_before = fresh_serve.replica.log_path.stat().st_size
    assert post(fresh_serve.port, body, signed(body, FORM)).status == 404
    fresh_serve.cluster.stop_all()
    written = fresh_serve.replica.log_path.read_bytes()[size_before:]
    assert b"TICKET-TEXT" not in written
    assert b"slack request that no listener handles" in written
    assert b"app.action" not in written  # Bolt's multi-line code suggestion
