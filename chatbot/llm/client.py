"""One chat completion from an OpenAI-compatible server, as JSON text.

Structured outputs (``response_format`` ``json_schema``) first; a server that refuses them
with 400 is asked again for plain JSON (``json_object``). The time is bounded as a whole:
``ModelConfig.timeout`` is the budget of one answer, retries and waits between them
included; each attempt may use only what is left of it, and a retry that would start
after it is not made. Retries (429, 5xx, a lost connection) are at most
``ModelConfig.max_retries``; a timed-out attempt is not retried, it spent the budget.
Library errors become :class:`ModelError` here, at the border.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import openai

from chatbot.core.errors import SupportReportError
from chatbot.llm.schema import answer_schema


class ModelError(SupportReportError, RuntimeError):
    """No usable answer from the model server; the offline analysis is shown instead."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"{reason}; check OPENAI_BASE_URL, OPENAI_MODEL and OPENAI_API_KEY")


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelConfig:
    """Where the model is and how long to wait for it, as plain values.

    ``timeout`` is the whole time one answer may take, in seconds, retries included.
    """

    base_url: str | None
    api_key: str = field(repr=False)
    model: str
    timeout: float = 60.0
    max_retries: int = 2

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if self.max_retries < 0:
            raise ValueError("max_retries cannot be negative")


#: Longest pause before a retry, whatever the server's ``retry-after`` asks for.
MAX_PAUSE = 10.0


def _pause(exc: openai.APIError, retry: int) -> float:
    """Seconds to wait before retry number ``retry``: the server's ``retry-after``, or 0.5·2ⁿ."""
    response = getattr(exc, "response", None)
    headers = response.headers if response is not None else {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return min(MAX_PAUSE, max(0.0, float(headers[name]) * scale))
        except (KeyError, TypeError, ValueError):
            continue
    return min(MAX_PAUSE, 0.5 * 2.0 ** (retry - 1))


class ModelClient:
    """Asks the configured model for one JSON answer, within ``config.timeout`` in all."""

    def __init__(
        self,
        config: ModelConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self._client = openai.OpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=0,  # retried here, within the budget
        )

    def complete(self, messages: Sequence[dict[str, str]]) -> str:
        """The answer's text; raises :class:`ModelError` when there is none in time."""
        deadline = self._clock() + self.config.timeout
        late = ModelError(f"the model did not answer within {self.config.timeout:g} s")
        response_format: dict[str, object] = answer_schema()
        retries = 0
        while True:
            left = deadline - self._clock()
            if left <= 0:
                raise late
            try:
                return self._ask(messages, response_format, left)
            except openai.BadRequestError as exc:
                if response_format.get("type") == "json_object":
                    raise ModelError(f"the model server answered HTTP {exc.status_code}") from None
                # servers without structured outputs (older llama.cpp, some proxies)
                response_format = {"type": "json_object"}
            except openai.APITimeoutError:
                raise late from None
            except (openai.RateLimitError, openai.InternalServerError,
                    openai.APIConnectionError) as exc:
                failed = _failure(exc)
                retries += 1
                if retries > self.config.max_retries:
                    raise failed from None
                pause = _pause(exc, retries)
                if self._clock() + pause >= deadline:
                    raise failed from None
                self._sleep(pause)
            except openai.APIStatusError as exc:
                raise _failure(exc) from None
            except openai.OpenAIError as exc:
                raise ModelError(f"the model call failed ({type(exc).__name__})") from None

    def _ask(
        self, messages: Sequence[dict[str, str]], response_format: dict[str, object], left: float
    ) -> str:
        completion = self._client.with_options(timeout=left).chat.completions.create(
            model=self.config.model,
            messages=cast(Any, list(messages)),  # role/content dicts, the wire shape
            response_format=cast(Any, response_format),
            temperature=0,
        )
        if not completion.choices or not completion.choices[0].message.content:
            raise ModelError("the model answered nothing")
        return completion.choices[0].message.content


def _failure(exc: openai.APIError) -> ModelError:
    """The :class:`ModelError` for a failed attempt."""
    if isinstance(exc, openai.APIStatusError):
        return ModelError(f"the model server answered HTTP {exc.status_code}")
    return ModelError("the model server could not be reached")
