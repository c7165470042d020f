"""MemoryAnswerCache: the answer cache of one process, for a refiner without a store.

It plays the :class:`~chatbot.core.ports.AnswerCache` role with the same claim rules as the
store's table (``chatbot.store.answers``), for tests and uses without a database; replicas
share answers only through the store's. It keeps the newest :data:`KEEP` answers.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

#: How many answers the memory cache keeps; the oldest go first.
KEEP = 256


class MemoryAnswerCache:
    """Answers and claims in dictionaries, behind one lock."""

    def __init__(self) -> None:
        self._answers: dict[str, str] = {}
        self._claims: dict[str, tuple[str, datetime]] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> str | None:
        """The answer kept under ``key``, or None."""
        with self._guard:
            return self._answers.get(key)

    def claim(self, key: str, worker: str, now: datetime, lease: timedelta) -> bool:
        """True if ``worker`` now holds the claim on ``key``: no answer, no live claim."""
        with self._guard:
            if key in self._answers:
                return False
            held = self._claims.get(key)
            if held is not None and held[1] > now:
                return False
            self._claims[key] = (worker, now + lease)
            return True

    def put(self, key: str, answer: str, now: datetime) -> None:
        """Keep ``answer`` under ``key``, ending any claim; a kept answer is never replaced."""
        with self._guard:
            self._answers.setdefault(key, answer)
            self._claims.pop(key, None)
            while len(self._answers) > KEEP:
                del self._answers[next(iter(self._answers))]

    def release(self, key: str, worker: str) -> None:
        """Drop ``worker``'s claim on ``key``."""
        with self._guard:
            if self._claims.get(key, ("", None))[0] == worker:
                del self._claims[key]
