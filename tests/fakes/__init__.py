"""Local fake servers that speak the real wire formats (GitHub, Slack, Discord, OpenAI)."""
