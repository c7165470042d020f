"""Build the application's objects from settings: store, service. Front ends start here."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from chatbot.config import Settings
from chatbot.core.service import ReportService, utc_now
from chatbot.sources.demo import ensure_demo
from chatbot.store import SQLAlchemyTicketStore, exclusive, open_store

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class App:
    """The objects one process works with."""

    settings: Settings
    store: SQLAlchemyTicketStore
    service: ReportService


def build_app(settings: Settings, *, demo: bool = True) -> App:
    """Open the store and build the service; with no GitHub repos set, load the demo."""
    store = open_store(settings.database_url)
    if demo and not settings.github_repos:
        with exclusive(store.engine, "support-report:demo"):
            if ensure_demo(store, utc_now(), settings.tz):
                log.info("demo_loaded", tickets=store.count_tickets())
    service = ReportService(
        store, tz=settings.tz, week_start=settings.week_start_index, top=settings.top_tickets
    )
    return App(settings=settings, store=store, service=service)
