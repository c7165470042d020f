"""GitHub through PyGithub: sign in, send the sync's GET requests, run ``chatbot sync``.

This is the only module that imports PyGithub. It builds a ``github.Github`` client from
:class:`~chatbot.config.Settings` (a token, a GitHub App installation, or nobody) and
hands its requester to the sync engine in :mod:`chatbot.sources.github_sync` as a
:class:`~chatbot.sources.github_sync.Transport`. PyGithub's own retries are off (the
engine retries with its own policy) and its pause between requests is
:attr:`SyncOptions.throttle <chatbot.sources.github_sync.SyncOptions.throttle>`.

Typical use::

    report = sync_store(settings, store, options=SyncOptions(wait=True))
    print(report.summary())
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog
from github import Auth, Github, GithubException

from chatbot.config import Settings
from chatbot.core.errors import ConfigError, SourceUnavailable
from chatbot.sources.demo import DEMO_META_KEY
from chatbot.sources.github_sync import (
    GitHubSync,
    Progress,
    ProgressEvent,
    RateLimit,
    RateLimited,
    RepoReport,
    RepoUnavailable,
    Response,
    SyncOptions,
    SyncReport,
    SyncStore,
    Transport,
    TransportError,
    meta_key,
)

__all__ = [
    "GitHubIssueSource",
    "ProgressEvent",
    "PyGithubTransport",
    "RateLimit",
    "RateLimited",
    "RepoReport",
    "RepoUnavailable",
    "SyncOptions",
    "SyncReport",
    "make_auth",
    "sync_store",
]

log = structlog.get_logger(__name__)

USER_AGENT = "support-report"
SYNC_LOCK = "support-report:github-sync"
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


def make_auth(settings: Settings) -> Auth.Auth | None:
    """PyGithub authentication from the settings: a GitHub App, a token, or None.

    A complete GitHub App configuration (id, private key, installation id) wins over
    ``GITHUB_TOKEN``; with neither, requests go unauthenticated (60 per hour).

    Raises:
        ConfigError: if the App settings are incomplete or the private key is unusable.
    """
    app_values = {
        "GITHUB_APP_ID": settings.github_app_id,
        "GITHUB_APP_PRIVATE_KEY": settings.github_app_private_key,
        "GITHUB_APP_INSTALLATION_ID": settings.github_app_installation_id,
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
        return _app_auth(settings)
    if settings.github_token is not None and settings.github_token.get_secret_value():
        return Auth.Token(settings.github_token.get_secret_value())
    return None


def _app_auth(settings: Settings) -> Auth.AppInstallationAuth:
    assert settings.github_app_id is not None
    assert settings.github_app_private_key is not None
    assert settings.github_app_installation_id is not None
    key = _private_key(settings.github_app_private_key.get_secret_value())
    try:
        app = Auth.AppAuth(settings.github_app_id, key)
        app.create_jwt()
    except Exception as exc:  # PyJWT and cryptography raise several kinds
        raise ConfigError(
            [
                "GITHUB_APP_PRIVATE_KEY: not a usable PEM private key"
                f" ({type(exc).__name__}); paste the .pem contents or give its path"
            ]
        ) from None
    return app.get_installation_auth(settings.github_app_installation_id)


class PyGithubTransport:
    """The sync engine's transport: GET requests through a PyGithub requester."""

    def __init__(self, client: Github, api_url: str, auth: Auth.Auth | None = None) -> None:
        self._client = client
        self._api_url = api_url
        self._auth = auth

    @classmethod
    def from_settings(cls, settings: Settings, options: SyncOptions) -> PyGithubTransport:
        """A transport for ``settings.github_api_url`` with the settings' credentials."""
        auth = make_auth(settings)
        api_url = settings.github_api_url.rstrip("/")
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


class GitHubIssueSource:
    """The GitHub ticket source: syncs the configured repositories into a store."""

    def __init__(
        self,
        transport: Transport,
        repos: Sequence[str],
        *,
        options: SyncOptions | None = None,
    ) -> None:
        self.transport = transport
        self.repos = tuple(repos)
        self.options = options or SyncOptions()

    @classmethod
    def from_settings(
        cls, settings: Settings, options: SyncOptions | None = None
    ) -> GitHubIssueSource:
        """The source for ``GITHUB_REPOS`` on ``GITHUB_API_URL`` with the settings' credentials.

        Raises:
            ConfigError: if ``GITHUB_REPOS`` is empty or the App settings are unusable.
        """
        if not settings.github_repos:
            raise ConfigError(
                [
                    "GITHUB_REPOS: empty; set it to the repositories to sync,"
                    " e.g. GITHUB_REPOS=owner/name,owner/other"
                ]
            )
        chosen = options or SyncOptions()
        return cls(
            PyGithubTransport.from_settings(settings, chosen), settings.github_repos, options=chosen
        )

    def sync(
        self,
        store: SyncStore,
        *,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> SyncReport:
        """Fetch what changed since the last sync into ``store``.

        If the store holds the bundled demo tickets, they are removed first (and every
        cursor with them), so the store then holds only real tickets.

        Args:
            store: where tickets, comments and the sync cursors go.
            progress: called as pages arrive, e.g. to draw a progress bar.
            sleep: how to wait (retries, rate limits); tests pass a fake clock's.
            clock: the current time as a Unix timestamp.

        Raises:
            SourceUnavailable: if GitHub cannot be reached or refuses the credentials.
        """
        cleared = _forget_cursors_of_demo(store, self.repos)
        engine = GitHubSync(
            self.transport, store, options=self.options, progress=progress, sleep=sleep, clock=clock
        )
        report = engine.run(self.repos)
        report.demo_cleared = cleared
        return report


def _forget_cursors_of_demo(store: SyncStore, repos: Sequence[str]) -> bool:
    """If the store holds the demo, start every feed from the beginning; True if it does.

    The demo rows themselves go in the transaction that saves the first real ticket
    (see ``SQLAlchemyTicketStore.save_tickets``), so a sync that saves nothing keeps them.
    """
    if not store.get_meta(DEMO_META_KEY):
        return False
    for repo in repos:
        for feed in ("issues", "comments"):
            store.set_meta(meta_key(repo, feed), "")
    return True


def sync_store(
    settings: Settings,
    store: SyncStore,
    *,
    options: SyncOptions | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    wait: bool = True,
) -> SyncReport:
    """Sync ``GITHUB_REPOS`` into ``store``: the use case behind ``chatbot sync``.

    One sync runs at a time per store, across processes and replicas. With ``wait`` it
    waits for a running one to end (and says so in the log); without, it returns at once
    a report with ``skipped`` set (the periodic sync of ``chatbot serve`` does that).

    Raises:
        ConfigError: if ``GITHUB_REPOS`` is empty or the credentials are misconfigured.
        SourceUnavailable: if GitHub cannot be reached or refuses the credentials.
    """
    source = GitHubIssueSource.from_settings(settings, options)

    def waiting() -> None:
        log.warning("github_sync_waiting", reason="another sync of this store is running")

    with store.exclusive(SYNC_LOCK, wait=wait, on_wait=waiting) as held:
        if not held:
            log.info("github_sync_skipped", reason="another process is syncing this store")
            return SyncReport(skipped=True)
        return source.sync(store, progress=progress, sleep=sleep, clock=clock)
