"""The Discord front end: a discord.py client, its command and mention handlers, the poster.

What a composition root calls::

    bot = DiscordBot(token=..., api_url=..., guild_id=..., deps=DiscordDeps.for_service(svc))
    await bot.start()                      # DiscordTokenRefused / DiscordUnavailable
    poster = DiscordReportPoster(bot.client, post_timeout=lease / 2)   # for "discord:" targets
    ...
    await bot.stop()
"""

from chatbot.delivery.discord.bot import (
    DEFAULT_API_URL,
    DiscordBot,
    DiscordDeps,
    SupportReportClient,
    intents,
    use_api_url,
)
from chatbot.delivery.discord.errors import (
    DiscordProblem,
    DiscordTokenRefused,
    DiscordUnavailable,
    describe_http_error,
)
from chatbot.delivery.discord.poster import DiscordReportPoster, delivery_nonce

__all__ = [
    "DEFAULT_API_URL",
    "DiscordBot",
    "DiscordDeps",
    "DiscordProblem",
    "DiscordReportPoster",
    "DiscordTokenRefused",
    "DiscordUnavailable",
    "SupportReportClient",
    "delivery_nonce",
    "describe_http_error",
    "intents",
    "use_api_url",
]
