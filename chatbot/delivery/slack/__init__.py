"""The Slack front end: a Bolt app (HTTP or Socket Mode), its listeners, and the poster."""

from chatbot.delivery.slack.app import (
    EVENTS_PATH,
    SlackBot,
    SlackConfig,
    build_slack_bot,
    slack_mode,
)
from chatbot.delivery.slack.errors import SlackProblem, describe_slack_error
from chatbot.delivery.slack.poster import (
    MessageMetadata,
    PostedReport,
    SlackPoster,
    ThreadFile,
    delivery_metadata,
)

__all__ = [
    "EVENTS_PATH",
    "MessageMetadata",
    "PostedReport",
    "SlackBot",
    "SlackConfig",
    "SlackPoster",
    "SlackProblem",
    "ThreadFile",
    "build_slack_bot",
    "delivery_metadata",
    "describe_slack_error",
    "slack_mode",
]
