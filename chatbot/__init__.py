"""support-report: support-ticket reports from GitHub issues, for Slack, Discord and files."""

__version__ = "0.1.0"
