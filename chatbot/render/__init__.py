"""Renderers: pure functions from the report model to each surface's format."""

from chatbot.render.discord_embeds import render_discord_json, render_discord_message
from chatbot.render.json_report import render_json, report_to_dict
from chatbot.render.markdown import render_markdown
from chatbot.render.slack_blocks import render_slack_json, render_slack_report

__all__ = [
    "render_discord_json",
    "render_discord_message",
    "render_json",
    "render_markdown",
    "render_slack_json",
    "render_slack_report",
    "report_to_dict",
]
