"""Renderers: pure functions from the report model to each surface's format.

Each name loads its module on first use (PEP 562), so ``chatbot report`` printing Markdown
does not import the Slack and Discord renderers; ``tests/test_cli.py`` checks it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatbot.render.discord_embeds import render_discord_json, render_discord_message
    from chatbot.render.json_report import render_json, report_to_dict
    from chatbot.render.markdown import render_markdown
    from chatbot.render.slack_blocks import render_slack_json, render_slack_report

_HOMES = {
    "render_discord_json": "chatbot.render.discord_embeds",
    "render_discord_message": "chatbot.render.discord_embeds",
    "render_json": "chatbot.render.json_report",
    "report_to_dict": "chatbot.render.json_report",
    "render_markdown": "chatbot.render.markdown",
    "render_slack_json": "chatbot.render.slack_blocks",
    "render_slack_report": "chatbot.render.slack_blocks",
}

__all__ = [
    "render_discord_json",
    "render_discord_message",
    "render_json",
    "render_markdown",
    "render_slack_json",
    "render_slack_report",
    "report_to_dict",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # found once; later lookups skip this function
    return value
