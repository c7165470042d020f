"""The ticket store: SQLAlchemy tables and queries, SQLite by default, PostgreSQL by URL."""

from chatbot.store.database import exclusive, make_engine, migrate, open_store
from chatbot.store.ticket_store import SQLAlchemyTicketStore

__all__ = ["SQLAlchemyTicketStore", "exclusive", "make_engine", "migrate", "open_store"]
