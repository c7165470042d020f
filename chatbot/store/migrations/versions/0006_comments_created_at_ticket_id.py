"""Comments by time with their ticket: the index of comment times also holds the ticket id.

A report's touched tickets include those commented on in its span: the ids come from a
range of this index. With the time alone, each of a year's 45k comments was read from
the table for its ``ticket_id``; with both columns SQLite reads the range from the index
only (the union of a year's touched ids 0.13 -> 0.09 s at 100k tickets). The index keeps
serving every query by time, so it replaces the old one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_comments_created_at_ticket_id", "comments", ["created_at", "ticket_id"], unique=False
    )
    op.drop_index("ix_comments_created_at", table_name="comments")


def downgrade() -> None:
    op.create_index("ix_comments_created_at", "comments", ["created_at"], unique=False)
    op.drop_index("ix_comments_created_at_ticket_id", table_name="comments")
