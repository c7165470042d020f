"""Text helpers shared by the renderers: defusing untrusted ticket text, durations, deltas."""

from __future__ import annotations

import re

_MENTION = re.compile(r"@(?=[\w-])")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def defuse_mentions(text: str) -> str:
    """Break ``@name``, ``@here``, ``@channel`` and ``@everyone`` with a zero-width space."""
    return _MENTION.sub("@\u200b", text)


def one_line(text: str, limit: int | None = None) -> str:
    """Fold white space (newlines included) to single spaces; cut to ``limit`` with an ellipsis."""
    flat = " ".join(text.split())
    if limit is not None and len(flat) > limit:
        return flat[: max(limit - 1, 0)] + "…"
    return flat


def md_inline(text: str, limit: int | None = None) -> str:
    """Untrusted text made safe for one line of Markdown, a table cell or a link text."""
    flat = one_line(text, limit)
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return defuse_mentions(_MARKDOWN_SPECIAL.sub(r"\\\1", flat))


def hours(value: float | None) -> str:
    """A duration in hours as people say it: ``45 min``, ``5.2 h``, ``3.1 days``."""
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} days"


def delta(now: int, before: int | None) -> str:
    """``+3``, ``-2`` or ``±0`` against the previous period."""
    if before is None:
        return ""
    change = now - before
    return f"{change:+d}" if change else "±0"
