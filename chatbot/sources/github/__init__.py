"""The GitHub ticket source: issues and comments of repositories, synced into the store.

One job per module:

* ``config``: :class:`GitHubConfig`, the plain values the composition root fills in;
* ``options``: :class:`SyncOptions`, how a sync paces, retries and pages;
* ``wire``: one REST answer and the :class:`Transport` role;
* ``transport``: the PyGithub transport and sign-in (the only module importing PyGithub);
* ``ratelimit``: rate limits, waits and retries of one request;
* ``cursors``: where each feed stands between syncs (store meta);
* ``engine``: reading the feeds page by page into the store;
* ``report``: what a sync did, and progress events; ``progress``: the rich bars;
* ``source``: :class:`GitHubIssueSource` and :func:`sync_store`, one sync at a time.
"""

from __future__ import annotations

from chatbot.sources.github.config import GitHubConfig
from chatbot.sources.github.cursors import FeedState, meta_key
from chatbot.sources.github.engine import GitHubSync
from chatbot.sources.github.options import SyncOptions
from chatbot.sources.github.ratelimit import RateLimit, RateLimited, RepoUnavailable
from chatbot.sources.github.report import Progress, ProgressEvent, RepoReport, SyncReport
from chatbot.sources.github.source import SYNC_LOCK, GitHubIssueSource, sync_store
from chatbot.sources.github.transport import PyGithubTransport, make_auth
from chatbot.sources.github.wire import Response, Transport, TransportError

__all__ = [
    "SYNC_LOCK",
    "FeedState",
    "GitHubConfig",
    "GitHubIssueSource",
    "GitHubSync",
    "Progress",
    "ProgressEvent",
    "PyGithubTransport",
    "RateLimit",
    "RateLimited",
    "RepoReport",
    "RepoUnavailable",
    "Response",
    "SyncOptions",
    "SyncReport",
    "Transport",
    "TransportError",
    "make_auth",
    "meta_key",
    "sync_store",
]
