"""One chat completion from an OpenAI-compatible server, as JSON text.

Structured outputs (``response_format`` ``json_schema``) first; a server that refuses them
with 400 is asked again for plain JSON (``json_object``). Timeout and retries are bounded
by :class:`ModelConfig`. Library errors become :class:`ModelError` here, at the border.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    """Where the model is and how long to wait for it, as plain values."""

    base_url: str | None
    api_key: str = field(repr=False)
    model: str
    timeout: float = 30.0
    max_retries: int = 2

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if self.max_retries < 0:
            raise ValueError("max_retries cannot be negative")


class ModelClient:
    """Asks the configured model for one JSON answer."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self._client = openai.OpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
        )

    def complete(self, messages: Sequence[dict[str, str]]) -> str:
        """The answer's text; raises :class:`ModelError` when there is none."""
        try:
            try:
                return self._ask(messages, answer_schema())
            except openai.BadRequestError:
                # servers without structured outputs (older llama.cpp, some proxies)
                return self._ask(messages, {"type": "json_object"})
        except openai.APITimeoutError:
            raise ModelError(f"the model did not answer within {self.config.timeout:g} s") from None
        except openai.APIStatusError as exc:
            raise ModelError(f"the model server answered HTTP {exc.status_code}") from None
        except openai.APIConnectionError:
            raise ModelError("the model server could not be reached") from None
        except openai.OpenAIError as exc:
            raise ModelError(f"the model call failed ({type(exc).__name__})") from None

    def _ask(self, messages: Sequence[dict[str, str]], response_format: dict[str, object]) -> str:
        completion = self._client.chat.completions.create(
            model=self.config.model,
            messages=cast(Any, list(messages)),  # role/content dicts, the wire shape
            response_format=cast(Any, response_format),
            temperature=0,
        )
        if not completion.choices or not completion.choices[0].message.content:
            raise ModelError("the model answered nothing")
        return completion.choices[0].message.content
