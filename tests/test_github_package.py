"""The GitHub source's shape: plain config in, PyGithub in one module, errors under one base."""

from __future__ import annotations

import ast
from pathlib import Path

from chatbot.app import github_config
from chatbot.config import Settings
from chatbot.core.errors import DeliveryFailed, SourceUnavailable, SupportReportError
from chatbot.delivery.slack.poster import ResponseUrlError
from chatbot.sources.github import GitHubConfig, RateLimited, TransportError

SOURCES = Path(__file__).resolve().parents[1] / "chatbot" / "sources"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_source_module_reads_the_settings() -> None:
    """Sources take plain values: none imports chatbot.config, only transport.py PyGithub."""
    readers: list[str] = []
    pygithub: list[str] = []
    for path in sorted(SOURCES.rglob("*.py")):
        name = str(path.relative_to(SOURCES))
        modules = _imports(path)
        if any(m == "chatbot.config" or m.startswith("chatbot.config.") for m in modules):
            readers.append(name)
        if any(m == "github" or m.startswith("github.") for m in modules):
            pygithub.append(name)
    assert readers == []
    assert pygithub == ["github/transport.py"]


def test_github_config_carries_the_settings_without_showing_secrets() -> None:
    """The composition root copies every GitHub setting; repr leaves token and key out."""
    settings = Settings(
        _env_file=None,
        github_repos="acme/web,acme/sql",
        github_api_url="https://ghe.example.com/api/v3",
        github_token="ghp_secret_token_value",
        github_app_id="12345",
        github_app_private_key="-----BEGIN PRIVATE KEY-----secret-pem",
        github_app_installation_id=678,
    )
    config = github_config(settings)
    assert config == GitHubConfig(
        repos=("acme/web", "acme/sql"),
        api_url="https://ghe.example.com/api/v3",
        token="ghp_secret_token_value",
        app_id="12345",
        app_private_key="-----BEGIN PRIVATE KEY-----secret-pem",
        app_installation_id=678,
    )
    shown = repr(config)
    assert "ghp_secret_token_value" not in shown
    assert "secret-pem" not in shown
    assert "acme/web" in shown


def test_no_token_gives_a_config_without_credentials() -> None:
    """Unset credentials stay None (not an empty string), so requests go unauthenticated."""
    config = github_config(Settings(_env_file=None, github_repos="acme/web"))
    assert (config.token, config.app_id, config.app_private_key) == (None, None, None)


def test_errors_of_the_sync_and_the_response_url_derive_from_the_product_base() -> None:
    """TransportError and ResponseUrlError are SupportReportErrors and RuntimeErrors."""
    assert issubclass(TransportError, SupportReportError)
    assert issubclass(TransportError, RuntimeError)
    assert not issubclass(TransportError, SourceUnavailable)  # the engine retries it first
    assert str(TransportError("ConnectionError")) == "ConnectionError"
    assert issubclass(RateLimited, SupportReportError)

    error = ResponseUrlError(404, "expired_url" * 20)
    assert isinstance(error, DeliveryFailed)
    assert isinstance(error, SupportReportError)
    assert isinstance(error, RuntimeError)
    assert error.permanent
    assert (error.status, error.body) == (404, "expired_url" * 20)
    assert (
        str(error) == f"posting to response_url failed: answered 404: {('expired_url' * 20)[:100]}"
    )
