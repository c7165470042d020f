"""A local Slack Web API on 127.0.0.1 that speaks Slack's wire format.

The bot reaches it the way a user points the bot anywhere: ``SLACK_API_URL`` (here
``fake.api_url``). It answers ``auth.test``, ``chat.postMessage``, ``chat.postEphemeral``,
``files.getUploadURLExternal`` (``filename`` and ``length`` required), the upload URL it
hands out (on the fake itself, 127.0.0.1), ``files.completeUploadExternal`` (each id must
have been handed out and its bytes uploaded, else ``file_not_found``; with ``channel_id`` the
files are shared there, in ``thread_ts`` if given, as a message with ``files``, as Slack
shows them), ``conversations.history`` (top-level messages only, newest
first, paged by ``cursor``; with ``metadata`` only when ``include_all_metadata`` is set),
``conversations.replies`` (the thread's parent and its replies, oldest first, files included;
``metadata`` as for history),
``apps.connections.open`` (app token; hands out the URL of a :class:`FakeSocketMode`) and
``response_url`` endpoints (:meth:`FakeSlack.response_url`).

Every request is recorded as a :class:`Call`. The bearer token is checked (``invalid_auth``
otherwise; ``tokens`` lists every bot token accepted, so that each of several bot processes
can have its own), and :meth:`FakeSlack.fail` makes a method answer 429 with ``Retry-After``,
a 5xx status, or ``{"ok": false, "error": ...}`` a given number of times. ``on_message`` is
called with each ``chat.postMessage`` call once the message is stored and before it is
answered (a test may kill the sender there: posted, but never told so).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from aiohttp import WSMsgType, web

TOKEN = "xoxb-fake-token"
APP_TOKEN = "xapp-fake-token"
BOT_USER_ID = "UBOT"
TEAM_ID = "T0001"
#: How long a held call waits for its release before the fake gives up (a test forgot it).
HOLD_LIMIT = 30.0


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops bursts of connections (the kernel retries a
    # dropped SYN after a second), which would time the fake instead of the bot.
    request_queue_size = 256
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client went away before its answer (a test killed it)."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass(frozen=True, kw_only=True)
class Call:
    """One request the fake received."""

    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The message blocks sent with the call (JSON or form-encoded)."""
        blocks = self.body.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else list(blocks)

    def text_everywhere(self) -> str:
        """Every piece of text the call would show: fallback text and block texts."""
        return json.dumps({"text": self.body.get("text"), "blocks": self.blocks})


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    times: int


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    pending_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    shared: list[dict[str, Any]] = field(default_factory=list)
    holds: dict[str, list[threading.Event]] = field(default_factory=dict)
    channels: dict[str, str] = field(
        default_factory=lambda: {"support": "C0SUPPORT", "general": "C0GENERAL"}
    )
    #: What ``users.info`` knows: user id -> the role flags of a Slack user object.
    users: dict[str, dict[str, bool]] = field(
        default_factory=lambda: {
            "U0ASKER": {},
            "U0ADMIN": {"is_admin": True},
            "U0OWNER": {"is_owner": True, "is_primary_owner": True},
        }
    )
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeSlack:
    """The fake Web API server; use as a context manager (or :meth:`start` / :meth:`stop`)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        #: Every bot token accepted (add more for several bot processes).
        self.tokens = {token}
        self.app_token = APP_TOKEN
        #: Called with each ``chat.postMessage`` once stored, before the answer is sent.
        self.on_message: Callable[[Call], None] | None = None
        #: What ``apps.connections.open`` hands out (set to a :class:`FakeSocketMode` URL).
        self.socket_url = "ws://127.0.0.1:9/link"
        self.state = _State()
        self._ts = itertools.count(1)
        self._last_ts = 0.0
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """The Web API root to put in ``SLACK_API_URL``."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A ``response_url`` the fake accepts, as Slack sends with a slash command."""
        return f"{self.base_url}/response/{name}"

    # -- test controls --------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make ``method`` fail ``times`` times: 429 + Retry-After, a 5xx, or ``ok: false``."""
        if status == 429 and retry_after is None:
            retry_after = 1
        failure = _Failure(status=status, error=error, retry_after=retry_after, times=times)
        with self.state.lock:
            self.state.failures.setdefault(method, []).append(failure)

    def hold(self, method: str) -> threading.Event:
        """Keep the answer to the next call of ``method`` back until the event is set.

        The call is recorded (and its failure, if any, taken) when it arrives, so a test can
        run other requests while this one is in flight, then release it.
        """
        release = threading.Event()
        with self.state.lock:
            self.state.holds.setdefault(method, []).append(release)
        return release

    def calls(self, method: str | None = None) -> list[Call]:
        """The calls received so far, optionally only those of one method."""
        with self.state.lock:
            return [c for c in self.state.calls if method is None or c.method == method]

    def methods(self) -> list[str]:
        """The methods called so far, in order."""
        return [c.method for c in self.calls()]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``method`` was called ``count`` times; return those calls."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls(method)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} called {len(found)} times, wanted {count}")
            await asyncio.sleep(0.01)

    def posted(self, channel: str) -> list[dict[str, Any]]:
        """The messages posted to ``channel``, oldest first, as history would show them."""
        with self.state.lock:
            return list(self.state.messages.get(channel, []))

    def uploaded(self) -> dict[str, bytes]:
        """The bytes uploaded to each file id."""
        with self.state.lock:
            return dict(self.state.uploads)

    def shared_files(self) -> list[dict[str, Any]]:
        """Every file shared by ``files.completeUploadExternal``: id, name, title, channel,
        thread_ts and its bytes, in the order they were shared."""
        with self.state.lock:
            return [dict(f, content=self.state.uploads.get(f["id"])) for f in self.state.shared]

    # -- the server -----------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                fake._serve(self)

            def do_POST(self) -> None:
                fake._serve(self)

        return Handler

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in request.headers.items()}
        path = parsed.path
        if path.startswith("/upload/"):
            file_id = path.rsplit("/", 1)[1]
            self._record("upload", {"file_id": file_id, "size": len(raw)}, headers)
            with self.state.lock:
                self.state.uploads[file_id] = raw
            self._send(request, 200, f"OK - {len(raw)}".encode(), "text/plain")
            return
        body = self._parse_body(raw, headers.get("content-type", ""), parsed.query)
        if path.startswith("/response/"):
            method = "response_url"
            self._record(method, {**body, "response_name": path.rsplit("/", 1)[1]}, headers)
            failure = self._take_failure(method)
            if failure is not None:
                self._send_failure(request, failure, plain=True)
                return
            self._send(request, 200, b"ok", "text/plain")
            return
        if not path.startswith("/api/"):
            self._send(request, 404, b"not found", "text/plain")
            return
        method = path.removeprefix("/api/")
        call = self._record(method, body, headers)
        tokens = {self.app_token} if method == "apps.connections.open" else self.tokens
        if headers.get("authorization") not in {f"Bearer {t}" for t in tokens}:
            self._json(request, {"ok": False, "error": "invalid_auth"})
            return
        failure = self._take_failure(method)
        self._wait_if_held(method)
        if failure is not None:
            self._send_failure(request, failure)
            return
        answer = self._answer(method, body)
        if method == "chat.postMessage" and self.on_message is not None:
            self.on_message(call)
        self._json(request, answer)

    def _parse_body(self, raw: bytes, content_type: str, query: str) -> dict[str, Any]:
        body: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query).items()}
        if not raw:
            return body
        if "json" in content_type:
            body.update(json.loads(raw))
        else:
            body.update({k: v[-1] for k, v in parse_qs(raw.decode()).items()})
        return body

    def _record(self, method: str, body: dict[str, Any], headers: dict[str, str]) -> Call:
        call = Call(method=method, body=body, headers=headers, at=time.monotonic())
        with self.state.lock:
            self.state.calls.append(call)
        return call

    def _take_failure(self, method: str) -> _Failure | None:
        with self.state.lock:
            queue = self.state.failures.get(method) or []
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    def _wait_if_held(self, method: str) -> None:
        with self.state.lock:
            queue = self.state.holds.get(method) or []
            release = queue.pop(0) if queue else None
        if release is not None and not release.wait(HOLD_LIMIT):
            raise AssertionError(f"held {method} was never released")

    def _send_failure(
        self, request: BaseHTTPRequestHandler, failure: _Failure, *, plain: bool = False
    ) -> None:
        if failure.status == 429:
            body = {"ok": False, "error": "ratelimited"}
            extra = {"Retry-After": str(failure.retry_after)}
            self._json(request, body, status=429, headers=extra)
        elif failure.status >= 500:
            self._send(request, failure.status, b"upstream trouble", "text/plain")
        elif plain:
            self._send(request, 404, (failure.error or "no_service").encode(), "text/plain")
        else:
            self._json(request, {"ok": False, "error": failure.error or "fatal_error"})

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake",
                "user": "support-report",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": "BBOT",
                "is_enterprise_install": False,
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "chat.postMessage":
            return {"ok": True, "channel": body.get("channel"), "ts": self._post(body)}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{time.time():.6f}"}
        if method == "files.getUploadURLExternal":
            if not body.get("filename") or not str(body.get("length", "")).isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{next(self._ts):06d}"
            upload_url = f"{self.base_url}/upload/{file_id}"
            with self.state.lock:
                self.state.pending_files[file_id] = {
                    "name": str(body["filename"]),
                    "length": int(body["length"]),
                }
            return {"ok": True, "upload_url": upload_url, "file_id": file_id}
        if method == "files.completeUploadExternal":
            return self._complete_upload(body)
        if method == "conversations.replies":
            return self._replies(body)
        if method == "conversations.history":
            return self._history(body)
        if method == "users.info":
            return self._user(body)
        if method == "conversations.list":
            with self.state.lock:
                named = sorted(self.state.channels.items())
            channels = [{"id": cid, "name": name, "is_member": True} for name, cid in named]
            return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}
        return {"ok": False, "error": "unknown_method"}

    def _user(self, body: dict[str, Any]) -> dict[str, Any]:
        """``users.info``: a user object with its role flags, or ``user_not_found``."""
        user = str(body.get("user", ""))
        with self.state.lock:
            flags = self.state.users.get(user)
        if flags is None:
            return {"ok": False, "error": "user_not_found"}
        roles = {"is_admin": False, "is_owner": False, "is_primary_owner": False, **flags}
        return {
            "ok": True,
            "user": {
                "id": user,
                "team_id": TEAM_ID,
                "name": user.lower(),
                "deleted": False,
                "is_bot": False,
                "is_restricted": False,
                **roles,
            },
        }

    def _post(self, body: dict[str, Any]) -> str:
        with self.state.lock:  # real time, as Slack's ts are, and unique per message
            self._last_ts = max(time.time(), self._last_ts + 1e-6)
            ts = f"{self._last_ts:.6f}"
        message: dict[str, Any] = {
            "type": "message",
            "ts": ts,
            "text": body.get("text", ""),
            "bot_id": "BBOT",
            "user": BOT_USER_ID,
        }
        if body.get("thread_ts"):
            message["thread_ts"] = body["thread_ts"]
        if body.get("files"):
            message["files"] = body["files"]
        metadata = body.get("metadata")
        if metadata:
            message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        with self.state.lock:
            self.state.messages.setdefault(str(body.get("channel")), []).append(message)
        return ts

    def _complete_upload(self, body: dict[str, Any]) -> dict[str, Any]:
        files = body.get("files")
        items = json.loads(files) if isinstance(files, str) else list(files or [])
        if not items:
            return {"ok": False, "error": "invalid_arguments"}
        channel, thread_ts = body.get("channel_id"), body.get("thread_ts")
        shown = []
        with self.state.lock:
            for item in items:
                pending = self.state.pending_files.get(str(item.get("id")))
                if pending is None or item["id"] not in self.state.uploads:
                    return {"ok": False, "error": "file_not_found"}
            for item in items:
                pending = self.state.pending_files.pop(str(item["id"]))
                shown.append(
                    {
                        "id": item["id"],
                        "name": pending["name"],
                        "title": item.get("title") or pending["name"],
                        "size": len(self.state.uploads[item["id"]]),
                        "mimetype": "image/png" if pending["name"].endswith(".png") else "",
                    }
                )
            if channel:
                self.state.shared += [
                    {**f, "channel": channel, "thread_ts": thread_ts} for f in shown
                ]
        if channel:
            self._post(
                {
                    "channel": channel,
                    "thread_ts": thread_ts,
                    "text": body.get("initial_comment") or "",
                    "files": shown,
                }
            )
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in shown]}

    def _replies(self, body: dict[str, Any]) -> dict[str, Any]:
        ts = str(body.get("ts"))
        with self.state.lock:
            found = list(self.state.messages.get(str(body.get("channel")), []))
        thread = [m for m in found if m["ts"] == ts or m.get("thread_ts") == ts]
        if not any(m["ts"] == ts for m in thread):
            return {"ok": False, "error": "thread_not_found"}
        with_metadata = str(body.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(body.get("limit") or 100)
        start = int(body.get("cursor") or 0)
        page, more = thread[start : start + limit], len(thread) > start + limit
        return {
            "ok": True,
            "messages": [
                {k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in page
            ],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            found = list(self.state.messages.get(str(body.get("channel")), []))
        if not found and str(body.get("channel", "")).startswith("CMISSING"):
            return {"ok": False, "error": "channel_not_found"}
        with_metadata = str(body.get("include_all_metadata", "")).lower() in ("1", "true")
        oldest = float(body.get("oldest") or 0)
        limit = int(body.get("limit") or 100)
        start = int(body.get("cursor") or 0)
        out = []
        for message in reversed(found):  # newest first, as Slack answers
            if float(message["ts"]) < oldest:
                continue
            if message.get("thread_ts", message["ts"]) != message["ts"]:
                continue  # thread replies are not in a channel's history, as in Slack
            shown = dict(message)
            if not with_metadata:
                shown.pop("metadata", None)
            out.append(shown)
        page, more = out[start : start + limit], len(out) > start + limit
        cursor = str(start + limit) if more else ""
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": cursor},
        }

    def _json(
        self,
        request: BaseHTTPRequestHandler,
        body: dict[str, Any],
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._send(request, status, json.dumps(body).encode(), "application/json", headers)

    def _send(
        self,
        request: BaseHTTPRequestHandler,
        status: int,
        payload: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(payload)


class FakeSocketMode:
    """A Socket Mode WebSocket endpoint in the test's loop: sends envelopes, records acks.

    Slack's side of Socket Mode: on connect it says ``hello``; then it sends envelopes
    (``slash_commands``, ``events_api``) and the app answers each with ``{"envelope_id", ...}``.
    """

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.connected = asyncio.Event()
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        """Listen on 127.0.0.1 (a free port); return the ``wss`` URL to hand out."""
        app = web.Application()
        app.router.add_get("/link", self._connect)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = next(a[1] for a in self._runner.addresses if isinstance(a, tuple))
        self.url = f"ws://127.0.0.1:{port}/link"
        return self.url

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _connect(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}}
        )
        self.connected.set()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
        return ws

    async def send(self, envelope: dict[str, Any]) -> None:
        """Send one envelope to the newest connection."""
        await self._sockets[-1].send_json(envelope)

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The app's answer to ``envelope_id``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ack in self.acks:
                if ack.get("envelope_id") == envelope_id:
                    return ack
            await asyncio.sleep(0.01)
        raise AssertionError(f"no ack for envelope {envelope_id}")
