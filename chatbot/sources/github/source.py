"""The GitHub ticket source: sync the configured repositories into a store, one at a time.

Typical use (the composition root builds the config from the settings)::

    report = sync_store(config, store, options=SyncOptions(wait=True))
    print(report.summary())
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from chatbot.core.errors import ConfigError
from chatbot.core.ports import TicketStore
from chatbot.lazylog import get_logger
from chatbot.sources.demo import DEMO_META_KEY
from chatbot.sources.github.config import GitHubConfig
from chatbot.sources.github.cursors import meta_key
from chatbot.sources.github.engine import GitHubSync
from chatbot.sources.github.options import SyncOptions
from chatbot.sources.github.report import Progress, SyncReport
from chatbot.sources.github.transport import PyGithubTransport
from chatbot.sources.github.wire import Transport

log = get_logger(__name__)

SYNC_LOCK = "support-report:github-sync"


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
    def from_config(
        cls, config: GitHubConfig, options: SyncOptions | None = None
    ) -> GitHubIssueSource:
        """The source for ``config.repos`` on ``config.api_url`` with the config's credentials.

        Raises:
            ConfigError: if ``GITHUB_REPOS`` is empty or the App settings are unusable.
        """
        if not config.repos:
            raise ConfigError(
                [
                    "GITHUB_REPOS: empty; set it to the repositories to sync,"
                    " e.g. GITHUB_REPOS=owner/name,owner/other"
                ]
            )
        chosen = options or SyncOptions()
        return cls(PyGithubTransport.from_config(config, chosen), config.repos, options=chosen)

    def sync(
        self,
        store: TicketStore,
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


def _forget_cursors_of_demo(store: TicketStore, repos: Sequence[str]) -> bool:
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
    config: GitHubConfig,
    store: TicketStore,
    *,
    options: SyncOptions | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    wait: bool = True,
) -> SyncReport:
    """Sync ``config.repos`` into ``store``: the use case behind ``chatbot sync``.

    One sync runs at a time per store, across processes and replicas. With ``wait`` it
    waits for a running one to end (and says so in the log); without, it returns at once
    a report with ``skipped`` set (the periodic sync of ``chatbot serve`` does that).

    Raises:
        ConfigError: if ``GITHUB_REPOS`` is empty or the credentials are misconfigured.
        SourceUnavailable: if GitHub cannot be reached or refuses the credentials.
    """
    source = GitHubIssueSource.from_config(config, options)

    def waiting() -> None:
        log.warning("github_sync_waiting", reason="another sync of this store is running")

    with store.exclusive(SYNC_LOCK, wait=wait, on_wait=waiting) as held:
        if not held:
            log.info("github_sync_skipped", reason="another process is syncing this store")
            return SyncReport(skipped=True)
        return source.sync(store, progress=progress, sleep=sleep, clock=clock)
