"""Where and as whom the GitHub source reads: plain values the composition root fills in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True, slots=True)
class GitHubConfig:
    """The repositories, API root and credentials of the GitHub source.

    A complete GitHub App (``app_id``, ``app_private_key``, ``app_installation_id``) wins
    over ``token``; with neither, requests go unauthenticated. ``app_private_key`` is the
    PEM text or the path of a ``.pem`` file. Secrets are left out of ``repr``.
    """

    repos: tuple[str, ...] = ()
    api_url: str = "https://api.github.com"
    token: str | None = field(default=None, repr=False)
    app_id: str | None = None
    app_private_key: str | None = field(default=None, repr=False)
    app_installation_id: int | None = None
