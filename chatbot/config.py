"""Settings: one frozen object built from the environment (and ``.env``) at start-up.

Nothing else in the package reads ``os.environ``. Every variable is listed, with a comment,
in ``.env.example``. Secrets are ``SecretStr``: they never show in a repr, a log or an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from chatbot.core.errors import ConfigError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DATABASE_EXAMPLES = "sqlite:///path.db or postgresql+psycopg://user:password@host/db"


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

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout: float = Field(default=60.0, gt=0, le=3600)
    openai_max_retries: int = Field(default=2, ge=0, le=10)

    chatbot_config: Path = Path("chatbot.toml")
    scheduler_tick_seconds: float = Field(default=1.0, gt=0, le=60)
    delivery_lease_seconds: float = Field(default=30.0, ge=1)
    catch_up_minutes: float = Field(default=360.0, ge=0)
    schedule_admins: Annotated[frozenset[str], NoDecode] = frozenset()

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

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        check_database_url(value)
        return value

    @field_validator("github_api_url")
    @classmethod
    def _github_url(cls, value: str) -> str:
        check_http_url(value, "https://api.github.com")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        check_http_url(value, "https://slack.com/api/")
        return value

    @field_validator("openai_base_url")
    @classmethod
    def _openai_url(cls, value: str | None) -> str | None:
        if value is not None:
            check_http_url(value, "http://localhost:11434/v1")
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

    @field_validator("schedule_admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> frozenset[str]:
        items = value.split(",") if isinstance(value, str) else list(value or ())
        ids = frozenset(str(item).strip() for item in items if str(item).strip())
        bad = sorted(i for i in ids if not i.isalnum())
        if bad:
            raise ValueError(
                f"user ids are letters and digits, comma-separated (U0123ABCD,123456789);"
                f" got {', '.join(bad)}"
            )
        return ids

    @property
    def week_start_index(self) -> int:
        """The first weekday as a number, 0 (Monday) to 6 (Sunday)."""
        return WEEKDAYS.index(self.week_start)

    def database_location(self) -> str:
        """The database URL with any password hidden, for messages."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)


def check_database_url(value: str) -> None:
    """Raise ValueError unless ``value`` is a SQLite or PostgreSQL URL whose driver is installed.

    Nothing connects; the message never repeats the URL, which may hold a password.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(value)
        port = url.port
    except (ArgumentError, ValueError):
        raise ValueError(f"not a database URL; use {DATABASE_EXAMPLES}") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(
            f"unsupported database {url.get_backend_name()!r}; use {DATABASE_EXAMPLES}"
        )
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range 1-65535; use {DATABASE_EXAMPLES}")
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg2":
        url = url.set(drivername="postgresql+psycopg")  # the store runs it on psycopg 3
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise ValueError(
            f"unknown driver {url.get_driver_name()!r}; use {DATABASE_EXAMPLES}"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError:
        raise ValueError(
            f"driver {url.get_driver_name()!r} is not installed; use {DATABASE_EXAMPLES}"
        ) from None


def check_http_url(value: str, example: str) -> None:
    """Raise ValueError unless ``value`` is an http(s) URL with a host and a port in 1-65535."""
    fix = f"use an http:// or https:// URL with a host, like {example}"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(f"bad host or port (1-65535); {fix}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL; {fix}")
    if port == 0:
        raise ValueError(f"port 0 is out of range 1-65535; {fix}")


def _first_non_utf8_line(path: Path) -> int | str:
    """The number of the first line of ``path`` that is not UTF-8; never its text."""
    try:
        data = path.read_bytes()
    except OSError:
        return "?"
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return number
    return "?"


def load_settings(env_file: str | None = ".env", **overrides: Any) -> Settings:
    """Settings from the environment; one :class:`ConfigError` lists every bad variable."""
    try:
        return Settings(_env_file=env_file, **overrides)
    except UnicodeDecodeError:
        where = _first_non_utf8_line(Path(str(env_file)))
        raise ConfigError(
            [f"{env_file}: line {where} is not UTF-8 text; save the file as UTF-8"]
        ) from None
    except OSError as exc:
        raise ConfigError(
            [f"{env_file}: cannot be read ({exc.strerror or type(exc).__name__}); fix or remove it"]
        ) from None
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "?"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise ConfigError(problems) from None
