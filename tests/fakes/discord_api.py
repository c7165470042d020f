"""A local Discord API on 127.0.0.1 that speaks Discord's wire format: REST and the gateway.

The bot reaches it the way a user points the bot anywhere: ``DISCORD_API_URL`` (here
``fake.api_url``). ``GET /gateway/bot`` hands out the websocket URL of the same server.

REST (under ``/api/v10``): ``GET /users/@me`` (401 for a token it does not know),
``GET /oauth2/applications/@me``, ``GET /gateway/bot``, command sync (``PUT
/applications/{app}/commands`` and ``.../guilds/{guild}/commands``), interaction
callbacks (``POST /interactions/{id}/{token}/callback``), follow-up webhooks
(``POST /webhooks/{app}/{token}``, ``GET``/``PATCH .../messages/@original``) and
``POST``/``GET /channels/{id}/messages``. Message bodies may be JSON or multipart (a
``payload_json`` part and ``files[n]`` attachments: each ``attachments`` entry of the payload
names its part by ``id``, a part with no entry or an entry with no part answers 400 code
50035, as Discord does; the stored message lists them as attachment objects, and
:meth:`FakeDiscord.attachment` gives their bytes). A channel post with
``enforce_nonce`` whose nonce the channel saw in the last few minutes answers the first
message again, as Discord does.

Gateway (``/gateway``): HELLO, IDENTIFY (its intents and query are recorded), heartbeats and
their ACKs, READY, GUILD_CREATE, RESUME, and :meth:`FakeDiscord.dispatch` of any event
(``INTERACTION_CREATE``, ``MESSAGE_CREATE``) on a test's request. Frames are JSON text, which
discord.py accepts whatever ``compress`` its URL asks for.

Every request is recorded as a :class:`Call`. :meth:`FakeDiscord.fail` makes a route answer
429 (with the headers and body discord.py reads: ``Via``, ``Retry-After``, ``X-RateLimit-*``,
``{"retry_after", "global"}``), a 5xx, 403 (code 50013) or 404 (code 10003) a given number of
times. ``on_message`` is called with each channel post once it is stored and before it is
answered (a test may stop the sender there: posted, but never told so).

The server runs its own event loop in a background thread, so sync tests, async tests,
subprocesses and benchmarks can all use it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

TOKEN = "fake-discord-bot-token"
APPLICATION_ID = "1100000000000000001"
BOT_USER_ID = APPLICATION_ID
GUILD_ID = "1200000000000000001"
CHANNEL_ID = "1300000000000000001"
USER_ID = "1400000000000000001"
#: A member's permissions in interactions: everyday ones, no Manage Server.
MEMBER_PERMISSIONS = "2248473465835073"
MANAGE_GUILD = 1 << 5
"""The Manage Server permission bit; ``str(int(MEMBER_PERMISSIONS) | MANAGE_GUILD)`` has it."""
#: Channels where the bot lacks permission to post (403, 50013).
FORBIDDEN_CHANNEL = "1300000000000000403"
NONCE_WINDOW_SECONDS = 300.0
DISCORD_EPOCH_MS = 1_420_070_400_000

ERRORS: dict[int, tuple[int, str]] = {
    401: (0, "401: Unauthorized"),
    403: (50013, "Missing Permissions"),
    404: (10003, "Unknown Channel"),
    500: (0, "500: Internal Server Error"),
    502: (0, "502: Bad Gateway"),
    503: (0, "503: Service Unavailable"),
}


def snowflake(ms: float | None = None, increment: int = 0) -> str:
    """A Discord id for the moment ``ms`` (Unix milliseconds, default now)."""
    now = int(time.time() * 1000) if ms is None else int(ms)
    return str(((now - DISCORD_EPOCH_MS) << 22) | (increment & 0x3FFFFF))


def user_payload(
    user_id: str = USER_ID, name: str = "customer", bot: bool = False
) -> dict[str, Any]:
    """A user object as Discord sends it."""
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
    }


def member_payload(
    user_id: str = USER_ID, name: str = "customer", permissions: str = MEMBER_PERMISSIONS
) -> dict[str, Any]:
    """A guild member object as Discord sends it in an interaction; ``permissions`` are the
    member's resolved permissions in the channel (a decimal bit set: see ``MANAGE_GUILD``)."""
    return {
        "user": user_payload(user_id, name),
        "roles": [],
        "joined_at": "2025-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "nick": None,
        "permissions": permissions,
    }


@dataclass(frozen=True, kw_only=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    route: str
    query: dict[str, str]
    body: dict[str, Any]
    files: dict[str, bytes]
    headers: dict[str, str]
    at: float

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """The embeds of the message the call carried."""
        return list(self.body.get("embeds") or [])


@dataclass
class _Failure:
    status: int
    retry_after: float
    is_global: bool
    times: int


@dataclass
class _State:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    nonces: dict[tuple[str, str], tuple[float, dict[str, Any]]] = field(default_factory=dict)
    identifies: list[dict[str, Any]] = field(default_factory=list)
    gateway_queries: list[dict[str, str]] = field(default_factory=list)
    heartbeats: int = 0
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attachments: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeDiscord:
    """The fake Discord server; use as a context manager (or :meth:`start` / :meth:`stop`)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        #: Every bot token accepted.
        self.tokens = {token}
        #: Channels that exist (posting elsewhere answers 404, code 10003).
        self.channels = {CHANNEL_ID, FORBIDDEN_CHANNEL, "1300000000000000002"}
        #: Called with each channel post once stored, before the answer is sent.
        self.on_message: Callable[[Call], None] | None = None
        self.state = _State()
        self._ids = itertools.count(1)
        self._sequence = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._port = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeDiscord:
        """Start serving in a background thread, on a free port of 127.0.0.1."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Close every gateway connection, stop serving, and stop the thread."""
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> FakeDiscord:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=512)
        await site.start()
        self._port = next(a[1] for a in self._runner.addresses if isinstance(a, tuple))

    async def _stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """The REST base to put in ``DISCORD_API_URL``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What ``GET /gateway/bot`` answers."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    # -- test controls --------------------------------------------------------------------

    def fail(
        self,
        route: str,
        *,
        status: int,
        retry_after: float = 0.05,
        is_global: bool = False,
        times: int = 1,
    ) -> None:
        """Make ``route`` (e.g. ``POST /channels/{id}/messages``) fail ``times`` times."""
        failure = _Failure(status=status, retry_after=retry_after, is_global=is_global, times=times)
        with self.state.lock:
            self.state.failures.setdefault(route, []).append(failure)

    def calls(self, route: str | None = None) -> list[Call]:
        """The calls received so far, optionally only those of one route."""
        with self.state.lock:
            return [c for c in self.state.calls if route is None or c.route == route]

    def routes(self) -> list[str]:
        """The routes called so far, in order."""
        return [c.route for c in self.calls()]

    async def wait_for(self, route: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait (in the caller's loop) until ``route`` was called ``count`` times."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls(route)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{route} called {len(found)} times, wanted {count}")
            await asyncio.sleep(0.01)

    @property
    def identifies(self) -> list[dict[str, Any]]:
        """The IDENTIFY payloads (``d``) received, oldest first."""
        with self.state.lock:
            return list(self.state.identifies)

    @property
    def gateway_queries(self) -> list[dict[str, str]]:
        """The query of each gateway connection (``v``, ``encoding``, ``compress``)."""
        with self.state.lock:
            return list(self.state.gateway_queries)

    def posted(self, channel: str) -> list[dict[str, Any]]:
        """The messages in ``channel``, oldest first."""
        with self.state.lock:
            return list(self.state.messages.get(channel, []))

    def attachment(self, attachment_id: str) -> bytes:
        """The bytes of an attachment of a stored message (by its ``id``)."""
        with self.state.lock:
            return self.state.attachments[attachment_id]

    def synced_commands(self, scope: str = "global") -> list[dict[str, Any]]:
        """The commands last synced globally (``global``) or to a guild id."""
        with self.state.lock:
            return list(self.state.commands.get(scope, []))

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH of ``event`` to every gateway connection (from any thread)."""
        asyncio.run_coroutine_threadsafe(self._dispatch(event, data), self._loop).result(10)

    def interaction(
        self, name: str = "support-report", options: dict[str, str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        """An ``INTERACTION_CREATE`` payload for a slash command in the fake guild."""
        interaction_id = snowflake(increment=next(self._ids))
        return {
            "id": interaction_id,
            "application_id": APPLICATION_ID,
            "type": 2,
            "token": f"itoken-{interaction_id}",
            "version": 1,
            "guild_id": GUILD_ID,
            "channel_id": CHANNEL_ID,
            "channel": {"id": CHANNEL_ID, "type": 0, "guild_id": GUILD_ID, "name": "support"},
            "member": member_payload(),
            "app_permissions": "2248473465835073",
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
            "data": {
                "id": "1500000000000000001",
                "name": name,
                "type": 1,
                "guild_id": GUILD_ID,
                "options": [
                    {"name": key, "type": 3, "value": value}
                    for key, value in (options or {}).items()
                ],
            },
            **extra,
        }

    def autocomplete(self, current: str) -> dict[str, Any]:
        """An ``INTERACTION_CREATE`` payload asking to complete the ``period`` option."""
        payload = self.interaction(options={"request": current})
        payload["type"] = 4
        payload["data"]["options"][0]["focused"] = True
        return payload

    def mention(self, text: str, *, mention_bot: bool = True) -> dict[str, Any]:
        """A ``MESSAGE_CREATE`` payload: a person writing ``text`` in the support channel.

        Without the message-content intent Discord still delivers the content of messages
        that mention the bot; this fake always does.
        """
        message_id = snowflake(increment=next(self._ids))
        return {
            "id": message_id,
            "channel_id": CHANNEL_ID,
            "guild_id": GUILD_ID,
            "author": user_payload(),
            "member": {k: v for k, v in member_payload().items() if k != "user"},
            "content": text,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [user_payload(BOT_USER_ID, "support-report", bot=True)]
            if mention_bot
            else [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "components": [],
        }

    # -- the gateway ----------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        with self.state.lock:
            self.state.gateway_queries.append(dict(request.query))
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            op = frame.get("op")
            if op == 1:
                with self.state.lock:
                    self.state.heartbeats += 1
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                await self._identify(ws, frame["d"])
            elif op == 6:
                self._sockets.append(ws)
                await self._send(ws, "RESUMED", {})
        if ws in self._sockets:
            self._sockets.remove(ws)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        with self.state.lock:
            self.state.identifies.append(data)
        if data.get("token") not in self.tokens:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self._sockets.append(ws)
        await self._send(
            ws,
            "READY",
            {
                "v": 10,
                "user": user_payload(BOT_USER_ID, "support-report", bot=True),
                "guilds": [{"id": GUILD_ID, "unavailable": True}],
                "session_id": f"session-{next(self._ids)}",
                "resume_gateway_url": self.gateway_url,
                "application": {"id": APPLICATION_ID, "flags": 0},
                "private_channels": [],
                "relationships": [],
            },
        )
        await self._send(ws, "GUILD_CREATE", self._guild())

    def _guild(self) -> dict[str, Any]:
        channels: list[dict[str, Any]] = [
            {
                "id": cid,
                "type": 0,
                "name": f"channel-{n}",
                "position": n,
                "guild_id": GUILD_ID,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            }
            for n, cid in enumerate(sorted(self.channels))
        ]
        return {
            "id": GUILD_ID,
            "name": "Fake support",
            "icon": None,
            "owner_id": USER_ID,
            "unavailable": False,
            "member_count": 2,
            "large": False,
            "joined_at": "2025-01-01T00:00:00+00:00",
            "roles": [
                {
                    "id": GUILD_ID,
                    "name": "@everyone",
                    "permissions": "2248473465835073",
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "members": [
                {
                    **member_payload(BOT_USER_ID, "support-report"),
                    "user": user_payload(BOT_USER_ID, "support-report", bot=True),
                }
            ],
            "channels": channels,
            "threads": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_flags": 0,
        }

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        for ws in list(self._sockets):
            await self._send(ws, event, data)

    async def _send(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        await ws.send_json({"op": 0, "t": event, "s": next(self._sequence), "d": data})

    # -- REST -------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        route = _route_of(request.method, path)
        body, files = await _read_body(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        call = Call(
            method=request.method,
            path=path,
            route=route,
            query=dict(request.query),
            body=body,
            files=files,
            headers=headers,
            at=time.monotonic(),
        )
        with self.state.lock:
            self.state.calls.append(call)
        if not route.startswith(("POST /webhooks/", "GET /webhooks/", "PATCH /webhooks/")) and (
            not route.startswith("POST /interactions/")
        ):
            auth = headers.get("authorization", "")
            if auth not in {f"Bot {t}" for t in self.tokens}:
                return self._error(401)
        failure = self._take_failure(route)
        if failure is not None:
            return self._failure(failure)
        return await self._answer(call, request)

    def _take_failure(self, route: str) -> _Failure | None:
        with self.state.lock:
            queue = self.state.failures.get(route) or []
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    def _failure(self, failure: _Failure) -> web.Response:
        if failure.status != 429:
            return self._error(failure.status)
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(failure.retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + failure.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{failure.retry_after:.3f}",
            "X-RateLimit-Bucket": "fakebucket",
            "X-RateLimit-Scope": "shared" if not failure.is_global else "global",
        }
        if failure.is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": failure.retry_after,
            "global": failure.is_global,
        }
        return self._json(body, status=429, headers=headers)

    def _error(self, status: int) -> web.Response:
        code, message = ERRORS.get(status, (0, f"{status}: Error"))
        return self._json(
            {"message": message, "code": code}, status=status, headers={"Via": "1.1 google"}
        )

    @staticmethod
    def _json(
        body: Any, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        # discord.py reads JSON only with exactly this Content-Type (no charset).
        return web.Response(
            body=json.dumps(body).encode(),
            status=status,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    async def _answer(self, call: Call, request: web.Request) -> web.StreamResponse:
        route, parts = call.route, call.path.strip("/").split("/")
        if route == "GET /users/@me":
            return self._json(user_payload(BOT_USER_ID, "support-report", bot=True))
        if route == "GET /oauth2/applications/@me":
            return self._json(self._application())
        if route == "GET /gateway/bot":
            return self._json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 14400000,
                        "max_concurrency": 1,
                    },
                }
            )
        if route in (
            "PUT /applications/{app}/commands",
            "PUT /applications/{app}/guilds/{guild}/commands",
        ):
            scope = parts[3] if "guilds" in parts else "global"
            return self._json(self._sync(scope, call.body.get("items")))
        if route == "POST /interactions/{id}/{token}/callback":
            return self._json(self._callback(parts[1], call.body))
        if route == "POST /webhooks/{app}/{token}":
            channel = self._interaction_channel(call)
            attachments = self._attachments(call, snowflake(increment=next(self._ids)))
            if attachments is None:
                return self._invalid_form()
            return self._json(
                self._message(channel, call.body, webhook=True, attachments=attachments)
            )
        if route in (
            "PATCH /webhooks/{app}/{token}/messages/@original",
            "GET /webhooks/{app}/{token}/messages/@original",
        ):
            return self._json(self._message(CHANNEL_ID, call.body, webhook=True, store=False))
        if route == "POST /channels/{id}/messages":
            return self._post(parts[1], call)
        if route == "GET /channels/{id}/messages":
            return self._history(parts[1], call.query)
        return self._json({"message": "404: Not Found", "code": 0}, status=404)

    def _application(self) -> dict[str, Any]:
        return {
            "id": APPLICATION_ID,
            "name": "support-report",
            "icon": None,
            "description": "Support reports from GitHub issues",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user_payload(USER_ID, "owner"),
            "verify_key": "0" * 64,
            "team": None,
            "flags": 0,
            "interactions_endpoint_url": None,
        }

    def _sync(self, scope: str, body: Any) -> list[dict[str, Any]]:
        commands = [
            {
                **command,
                "id": snowflake(increment=next(self._ids)),
                "application_id": APPLICATION_ID,
                "version": "1",
                **({"guild_id": scope} if scope != "global" else {}),
            }
            for command in (body if isinstance(body, list) else [])
        ]
        with self.state.lock:
            self.state.commands[scope] = commands
        return commands

    def _callback(self, interaction_id: str, body: dict[str, Any]) -> dict[str, Any]:
        kind = int(body.get("type", 0))
        flags = int((body.get("data") or {}).get("flags") or 0)
        return {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            },
            "resource": {"type": kind},
        }

    def _interaction_channel(self, call: Call) -> str:
        return CHANNEL_ID

    def _attachments(self, call: Call, message_id: str) -> list[dict[str, Any]] | None:
        """The attachment objects of a multipart message, None if its parts do not match."""
        wanted = call.body.get("attachments") or []
        if not call.files and not wanted:
            return []
        if {f"files[{a.get('id')}]" for a in wanted} != set(call.files):
            return None
        out = []
        for n, entry in enumerate(wanted):
            content = call.files[f"files[{entry['id']}]"]
            attachment_id = f"{message_id}{n}"
            name = str(entry.get("filename") or "file")
            with self.state.lock:
                self.state.attachments[attachment_id] = content
            out.append(
                {
                    "id": attachment_id,
                    "filename": name,
                    "size": len(content),
                    "url": f"{self.base_url}/attachments/{attachment_id}/{name}",
                    "proxy_url": f"{self.base_url}/attachments/{attachment_id}/{name}",
                    "content_type": "image/png" if name.endswith(".png") else None,
                }
            )
        return out

    def _message(
        self,
        channel: str,
        body: dict[str, Any],
        *,
        webhook: bool = False,
        store: bool = True,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        message_id = snowflake(increment=next(self._ids))
        message = {
            "id": message_id,
            "channel_id": channel,
            "author": user_payload(BOT_USER_ID, "support-report", bot=True),
            "content": body.get("content") or "",
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": attachments or [],
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "type": 19 if body.get("message_reference") else 0,
            "flags": int(body.get("flags") or 0),
            "components": [],
        }
        if webhook:
            message["webhook_id"] = APPLICATION_ID
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if store:
            with self.state.lock:
                self.state.messages.setdefault(channel, []).append(message)
        return message

    def _post(self, channel: str, call: Call) -> web.Response:
        if channel == FORBIDDEN_CHANNEL:
            return self._error(403)
        if channel not in self.channels:
            return self._error(404)
        nonce = call.body.get("nonce")
        if nonce is not None and call.body.get("enforce_nonce"):
            with self.state.lock:
                seen = self.state.nonces.get((channel, str(nonce)))
            if seen is not None and time.monotonic() - seen[0] < NONCE_WINDOW_SECONDS:
                return self._json(seen[1])
        attachments = self._attachments(call, snowflake(increment=next(self._ids)))
        if attachments is None:
            return self._invalid_form()
        message = self._message(channel, call.body, attachments=attachments)
        if nonce is not None:
            with self.state.lock:
                self.state.nonces[(channel, str(nonce))] = (time.monotonic(), message)
        if self.on_message is not None:
            self.on_message(call)
        return self._json(message)

    def _invalid_form(self) -> web.Response:
        return self._json(
            {"message": "Invalid Form Body", "code": 50035, "errors": {"attachments": {}}},
            status=400,
        )

    def _history(self, channel: str, query: dict[str, str]) -> web.Response:
        if channel == FORBIDDEN_CHANNEL:
            return self._error(403)
        if channel not in self.channels:
            return self._error(404)
        limit = max(1, min(int(query.get("limit") or 50), 100))
        with self.state.lock:
            found = list(self.state.messages.get(channel, []))
        after = int(query["after"]) if "after" in query else None
        before = int(query["before"]) if "before" in query else None
        out = []
        for message in reversed(found):  # newest first, as Discord answers
            mid = int(message["id"])
            if after is not None and mid <= after:
                continue
            if before is not None and mid >= before:
                continue
            shown = {k: v for k, v in message.items() if k != "nonce"}  # history has no nonce
            out.append(shown)
        if after is not None and before is None:
            out = out[-limit:]  # Discord answers the oldest `limit` after the id
        return self._json(out[:limit])


def _route_of(method: str, path: str) -> str:
    """``POST /channels/{id}/messages`` for ``POST /channels/123/messages``."""
    parts = path.strip("/").split("/")
    names = {
        "channels": ["channels", "{id}"],
        "interactions": ["interactions", "{id}", "{token}"],
        "webhooks": ["webhooks", "{app}", "{token}"],
        "applications": ["applications", "{app}"],
    }
    template = names.get(parts[0])
    if template is None:
        return f"{method} {path}"
    shown = template + parts[len(template) :]
    if parts[0] == "applications" and len(parts) >= 4 and parts[2] == "guilds":
        shown = ["applications", "{app}", "guilds", "{guild}", *parts[4:]]
    return f"{method} /" + "/".join(shown)


async def _read_body(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The JSON body, or a multipart body's ``payload_json`` and its ``files[n]`` parts."""
    files: dict[str, bytes] = {}
    if request.content_type.startswith("multipart/"):
        body: dict[str, Any] = {}
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            data = await part.read()
            if part.name == "payload_json":
                body = json.loads(data)
            elif part.name:
                files[part.name] = bytes(data)
        return body, files
    raw = await request.read()
    if not raw:
        return {}, files
    loaded = json.loads(raw)
    if isinstance(loaded, list):
        return {"items": loaded}, files
    return loaded, files
