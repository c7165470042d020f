"""Tickets know whether they are demo tickets; ticket numbers and ids are 64-bit.

The demo reload deletes only rows flagged ``demo``, so imported or synced tickets can
never be removed by it. Existing rows are demo rows iff the store's ``demo_loaded_at``
mark is set. PostgreSQL's ``integer`` columns become ``bigint`` (GitHub ids outgrow 32
bits); SQLite's ``INTEGER`` already holds 64 bits and is left as it is.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_WIDENED = [
    ("tickets", "id"),
    ("tickets", "number"),
    ("ticket_labels", "ticket_id"),
    ("ticket_fields", "ticket_id"),
    ("comments", "ticket_id"),
]


def upgrade() -> None:
    op.add_column(
        "tickets", sa.Column("demo", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    conn = op.get_bind()
    marker = conn.execute(
        sa.text("SELECT value FROM store_meta WHERE key = 'demo_loaded_at'")
    ).scalar()
    if marker:
        conn.execute(sa.text("UPDATE tickets SET demo = :yes"), {"yes": True})
    if conn.dialect.name == "postgresql":
        for table, column in _WIDENED:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_nullable=False)
        op.execute("ALTER SEQUENCE tickets_id_seq AS bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER SEQUENCE tickets_id_seq AS integer")
        for table, column in reversed(_WIDENED):
            op.alter_column(table, column, type_=sa.Integer(), existing_nullable=False)
    op.drop_column("tickets", "demo")  # SQLite 3.35+ drops a column in place
