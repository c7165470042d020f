"""The Slack listener groups; :func:`register` adds them all to a Bolt app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from chatbot.delivery.slack.deps import SlackDeps
from chatbot.delivery.slack.listeners import commands, mentions


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Register every listener group."""
    commands.register(app, deps)
    mentions.register(app, deps)


__all__ = ["register"]
