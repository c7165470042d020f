"""GitHub through PyGithub: sign in and send the sync's GET requests.

This is the only module that imports PyGithub. It builds a ``github.Github`` client from
a :class:`~chatbot.sources.github.config.GitHubConfig` (a token, a GitHub App
installation, or nobody) and hands its requester to the sync engine as a
:class:`~chatbot.sources.github.wire.Transport`. PyGithub's own retries are off (the
engine retries with its own policy) and its pause between requests is
:attr:`SyncOptions.throttle <chatbot.sources.github.options.SyncOptions.throttle>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from github import Auth, Github, GithubException

from chatbot.core.errors import ConfigError, SourceUnavailable
from chatbot.lazylog import get_logger
from chatbot.sources.github.config import GitHubConfig
from chatbot.sources.github.options import SyncOptions
from chatbot.sources.github.wire import Response, TransportError

log = get_logger(__name__)

USER_AGENT = "support-report"
UNAUTHENTICATED_LIMIT = 60
_ACCEPT = "application/vnd.github+json"


def _private_key(raw: str) -> str:
    """The App's PEM key: the value itself, or the file it names; ``\\n`` escapes undone."""
    text = raw.strip()
    if "-----BEGIN" not in text:
        path = Path(text).expanduser()
        if path.is_file():
            text = path.read_text(encoding="utf-8").strip()
    return text.replace("\\n", "\n")


def make_auth(config: GitHubConfig) -> Auth.Auth | None:
    """PyGithub authentication from the config: a GitHub App, a token, or None.

    A complete GitHub App configuration (id, private key, installation id) wins over
    ``GITHUB_TOKEN``; with neither, requests go unauthenticated (60 per hour).

    Raises:
        ConfigError: if the App settings are incomplete or the private key is unusable.
    """
    app_values = {
        "GITHUB_APP_ID": config.app_id,
        "GITHUB_APP_PRIVATE_KEY": config.app_private_key,
        "GITHUB_APP_INSTALLATION_ID": config.app_installation_id,
    }
    given = [name for name, value in app_values.items() if value not in (None, "")]
    if given and len(given) < len(app_values):
        missing = [name for name in app_values if name not in given]
        raise ConfigError(
            [
                f"{name}: needed with {', '.join(given)} to sign in as a GitHub App"
                for name in missing
            ]
        )
    if given:
        return _app_auth(config)
    if config.token:
        return Auth.Token(config.token)
    return None


def _app_auth(config: GitHubConfig) -> Auth.AppInstallationAuth:
    assert config.app_id is not None
    assert config.app_private_key is not None
    assert config.app_installation_id is not None
    key = _private_key(config.app_private_key)
    try:
        app = Auth.AppAuth(config.app_id, key)
        app.create_jwt()
    except Exception as exc:  # PyJWT and cryptography raise several kinds
        raise ConfigError(
            [
                "GITHUB_APP_PRIVATE_KEY: not a usable PEM private key"
                f" ({type(exc).__name__}); paste the .pem contents or give its path"
            ]
        ) from None
    return app.get_installation_auth(config.app_installation_id)


class PyGithubTransport:
    """The sync engine's transport: GET requests through a PyGithub requester."""

    def __init__(self, client: Github, api_url: str, auth: Auth.Auth | None = None) -> None:
        self._client = client
        self._api_url = api_url
        self._auth = auth

    @classmethod
    def from_config(cls, config: GitHubConfig, options: SyncOptions) -> PyGithubTransport:
        """A transport for ``config.api_url`` with the config's credentials."""
        auth = make_auth(config)
        api_url = config.api_url.rstrip("/")
        if auth is None:
            log.warning(
                "github_unauthenticated",
                limit_per_hour=UNAUTHENTICATED_LIMIT,
                fix="set GITHUB_TOKEN (or a GitHub App) for 5,000 requests an hour",
            )
        else:
            log.info("github_auth", method=type(auth).__name__, api=api_url)
        client = Github(
            auth=auth,
            base_url=api_url,
            timeout=options.timeout,
            user_agent=USER_AGENT,
            per_page=options.per_page,
            retry=None,
            seconds_between_requests=options.throttle or None,
            seconds_between_writes=None,
            lazy=True,
        )
        return cls(client, api_url, auth)

    @property
    def api_url(self) -> str:
        """The API root requests go to."""
        return self._api_url

    def get(
        self, path: str, params: Mapping[str, str] | None = None, etag: str | None = None
    ) -> Response:
        """GET ``path`` or a ``Link`` URL; every HTTP status comes back as a :class:`Response`.

        PyGithub checks that a full URL points at the configured host and port.

        Raises:
            TransportError: if no HTTP answer came back.
            SourceUnavailable: if a GitHub App installation token could not be obtained.
        """
        self._ensure_installation_token()
        headers = {"Accept": _ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        try:
            found, data = self._client.requester.requestJsonAndCheck(
                "GET", path, parameters=dict(params or {}), headers=headers
            )
        except GithubException as exc:
            if exc.status is None or exc.status < 100:
                raise TransportError(type(exc).__name__) from None
            return Response(status=exc.status, headers=_lower(exc.headers), data=exc.data)
        except OSError as exc:  # requests' ConnectionError and Timeout are OSErrors
            raise TransportError(type(exc).__name__) from None
        except AssertionError as exc:  # PyGithub's host check on Link URLs
            raise SourceUnavailable(
                "GitHub",
                f"answered with a URL outside GITHUB_API_URL ({exc}); check GITHUB_API_URL",
            ) from None
        # PyGithub 2.x returns (headers, None) for 304 Not Modified and the parsed JSON
        # for 200; a 200 always has a body (a list or an object).
        status = 304 if data is None else 200
        return Response(status=status, headers=_lower(found), data=data)

    def _ensure_installation_token(self) -> None:
        """Get (or reuse) the App installation token, so a failure is named as such."""
        if not isinstance(self._auth, Auth.AppInstallationAuth):
            return
        try:
            _ = self._auth.token
        except GithubException as exc:
            raise SourceUnavailable(
                "GitHub",
                f"no installation token for the GitHub App (HTTP {exc.status}); check"
                " GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID",
            ) from None
        except OSError as exc:
            raise TransportError(type(exc).__name__) from None


def _lower(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}
