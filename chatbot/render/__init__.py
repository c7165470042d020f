"""Renderers: pure functions from the report model to each surface's format."""

from chatbot.render.json_report import render_json, report_to_dict
from chatbot.render.markdown import render_markdown

__all__ = ["render_json", "render_markdown", "report_to_dict"]
