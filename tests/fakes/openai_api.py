"""A local OpenAI-compatible server on 127.0.0.1: ``POST /v1/chat/completions``.

The bot reaches it the way a user points it at Ollama or vLLM: ``OPENAI_BASE_URL`` (here
``fake.base_url``). Answers have the real ``chat.completion`` shape. With ``response_format``
of type ``json_schema`` the answer is checked against the schema's top-level ``required`` keys
(a server that honours structured outputs never answers outside them); ``mode`` picks how the
"model" behaves:

- ``good``: names each offered theme from its tickets' titles and recommends on real tickets;
- ``invalid_json``: text that is not JSON;
- ``unknown_ticket``: cites ``acme/support#99999``, which is not in the data;
- ``links``: adds a link that is not in the data;
- ``repeat``: the same recommendation twice;
- ``obey``: does what a ticket body tells it ("cite #99999"), like a gullible model;
- ``slow``: holds the answer until :meth:`FakeOpenAI.release` (or ``HOLD_LIMIT``);
- ``429`` / ``500``: answers that status with an OpenAI error body;
- ``no_schema``: refuses ``json_schema`` with 400, as servers without structured outputs do.

Every request body is kept in ``requests``; :meth:`FakeOpenAI.wait_for` waits for them.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: How long a held answer waits for its release before the fake gives up (a test forgot it).
HOLD_LIMIT = 30.0
MODES = (
    "good", "invalid_json", "unknown_ticket", "links", "repeat", "obey", "slow", "429", "500",
    "no_schema",
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def _data(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON data block of the last user message (the prompt quotes it between markers)."""
    text = body["messages"][-1]["content"]
    match = re.search(r"<data>\s*(.*?)\s*</data>", text, re.S)
    assert match, "the prompt quotes the tickets between <data> markers"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _good(data: dict[str, Any]) -> dict[str, Any]:
    tickets = {t["ref"]: t for t in data["tickets"]}
    themes = []
    for theme in data["themes"]:
        first = tickets[theme["tickets"][0]]["title"] if theme["tickets"] else "misc"
        themes.append({
            "index": theme["index"],
            "title": f"Reports like '{first[:40]}'",
            "summary": f"{len(theme['tickets'])} tickets report problems like '{first[:60]}'.",
        })
    recommendations = []
    for ref in list(tickets)[:2]:
        recommendations.append({
            "text": f"Reply to {ref} today: '{tickets[ref]['title'][:50]}' waits for the team.",
            "tickets": [ref],
        })
    return {"themes": themes, "recommendations": recommendations}


class FakeOpenAI:
    """The fake server; use as a context manager."""

    def __init__(self, mode: str = "good") -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.requests: list[dict[str, Any]] = []
        self._released = threading.Event()
        self._arrived = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with fake._arrived:
                    fake.requests.append(body)
                    fake._arrived.notify_all()
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "not found", "type": "invalid_request"}})
                    return
                status, answer = fake.answer(body)
                if status != 200:
                    self._send(status, answer)
                    return
                self._send(200, fake.completion(body, answer["content"]))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    if status == 429:
                        self.send_header("retry-after-ms", "10")
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """What ``OPENAI_BASE_URL`` is set to."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def wait_for(self, count: int, timeout: float = HOLD_LIMIT) -> None:
        """Return once ``count`` requests have arrived; AssertionError after ``timeout``."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.requests) >= count, timeout)
        assert arrived, f"{len(self.requests)} of {count} requests arrived"

    def release(self) -> None:
        """Let a held (``slow``) answer go."""
        self._released.set()

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The status and the message content (or the error body) for one request."""
        mode = self.mode
        if mode in ("429", "500"):
            kind = "rate_limit_exceeded" if mode == "429" else "server_error"
            return int(mode), {"error": {"message": kind, "type": kind, "code": kind}}
        response_format = body.get("response_format") or {}
        if mode == "no_schema" and response_format.get("type") == "json_schema":
            return 400, {"error": {"message": "response_format json_schema is not supported",
                                   "type": "invalid_request_error"}}
        if mode == "slow":
            self._released.wait(HOLD_LIMIT)
        if mode == "invalid_json":
            return 200, {"content": "Error: the model is overloaded, try again later"}
        data = _data(body)
        answer = _good(data)
        first = answer["recommendations"][0] if answer["recommendations"] else None
        if mode == "unknown_ticket" or (mode == "obey" and "#99999" in json.dumps(data)):
            answer["recommendations"].append(
                {"text": "Escalate acme/support#99999 now.", "tickets": ["acme/support#99999"]}
            )
        elif mode == "links" and first:
            first["text"] += " See https://evil.example/phish for details."
        elif mode == "repeat" and first:
            answer["recommendations"].append(dict(first))
        if response_format.get("type") == "json_schema":
            schema = response_format["json_schema"]["schema"]
            missing = [key for key in schema.get("required", ()) if key not in answer]
            assert not missing, missing
        return 200, {"content": json.dumps(answer)}

    def completion(self, body: dict[str, Any], content: str) -> dict[str, Any]:
        """The real ``chat.completion`` response shape."""
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model", "fake"),
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }
