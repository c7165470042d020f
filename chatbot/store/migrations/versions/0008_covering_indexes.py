"""Covering indexes for a period's reads: tickets by time with the other time, and each
ticket's thread without its comment bodies.

A report's figures, breakdown and facts read tens of thousands of tickets and comments by
time or by ticket. With indexes on one column, each row found was read again from its
table for the other time, the author or a comment's author, pages that also hold bodies
(a year at 100k tickets: the figures 0.77 -> 0.41 s and the facts 0.80 -> 0.43 s on
SQLite, on a loaded machine). The indexes keep the column they replace first, so every
query served by the old ones is served by these; PostgreSQL reads them index-only once
the store's ``VACUUM (ANALYZE)`` after a load has marked the pages all-visible.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_tickets_created_at_closed_at",
        "tickets",
        ["created_at", "closed_at", "author_login", "id"],
        unique=False,
    )
    op.create_index(
        "ix_tickets_closed_at_created_at",
        "tickets",
        ["closed_at", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_comments_ticket_id_thread",
        "comments",
        ["ticket_id", "created_at", "id", "author_association", "author_is_bot", "author_login"],
        unique=False,
    )
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    op.drop_index("ix_tickets_closed_at", table_name="tickets")
    op.drop_index("ix_comments_ticket_id", table_name="comments")


def downgrade() -> None:
    op.create_index("ix_comments_ticket_id", "comments", ["ticket_id"], unique=False)
    op.create_index("ix_tickets_closed_at", "tickets", ["closed_at"], unique=False)
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"], unique=False)
    op.drop_index("ix_comments_ticket_id_thread", table_name="comments")
    op.drop_index("ix_tickets_closed_at_created_at", table_name="tickets")
    op.drop_index("ix_tickets_created_at_closed_at", table_name="tickets")
