"""Settings: one frozen object built from the environment (and ``.env``) at start-up.

Nothing else in the package reads ``os.environ``. Every variable is listed, with a comment,
in ``.env.example``. Secrets are ``SecretStr``: they never show in a repr, a log or an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from chatbot.core.errors import ConfigError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def default_database_url() -> str:
    """The embedded default: a SQLite file in the user's data folder."""
    return f"sqlite:///{Path(user_data_dir('support-report')) / 'support-report.db'}"


class Settings(BaseSettings):
    """Every setting of support-report; see ``.env.example`` for the variables."""

    model_config = SettingsConfigDict(
        frozen=True,
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

    database_url: str = Field(default_factory=default_database_url)
    reports_dir: Path = Path("reports")
    tz: str = "UTC"
    week_start: str = "monday"
    top_tickets: int = Field(default=5, ge=1, le=25)
    log_level: Literal["debug", "info", "warning", "error"] | None = None
    log_format: Literal["auto", "console", "json"] = "auto"

    github_token: SecretStr | None = None
    github_repos: Annotated[tuple[str, ...], NoDecode] = ()
    github_api_url: str = "https://api.github.com"
    github_app_id: str | None = None
    github_app_private_key: SecretStr | None = None
    github_app_installation_id: int | None = None
    sync_interval_minutes: int = Field(default=15, ge=1)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(default=3000, ge=1, le=65535)

    discord_token: SecretStr | None = None
    discord_guild_id: int | None = Field(default=None, ge=1)
    discord_api_url: str = "https://discord.com/api/v10"

    chatbot_config: Path = Path("chatbot.toml")
    scheduler_tick_seconds: float = Field(default=1.0, gt=0, le=60)
    delivery_lease_seconds: float = Field(default=30.0, ge=1)
    catch_up_minutes: float = Field(default=360.0, ge=0)

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Europe/Berlin"
            ) from None
        return value

    @field_validator("week_start")
    @classmethod
    def _weekday(cls, value: str) -> str:
        day = value.strip().lower()
        if day not in WEEKDAYS:
            raise ValueError(f"must be a weekday name ({', '.join(WEEKDAYS)})")
        return day

    @field_validator("github_repos", mode="before")
    @classmethod
    def _repos(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value or ())
        repos = tuple(item.strip() for item in items if item and item.strip())
        bad = [r for r in repos if r.count("/") != 1 or r.startswith("/") or r.endswith("/")]
        if bad:
            raise ValueError(f"repositories are owner/name, comma-separated; got {', '.join(bad)}")
        return repos

    @property
    def week_start_index(self) -> int:
        """The first weekday as a number, 0 (Monday) to 6 (Sunday)."""
        return WEEKDAYS.index(self.week_start)

    def database_location(self) -> str:
        """The database URL with any password hidden, for messages."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)


def load_settings(env_file: str | None = ".env", **overrides: Any) -> Settings:
    """Settings from the environment; one :class:`ConfigError` lists every bad variable."""
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "?"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise ConfigError(problems) from None
