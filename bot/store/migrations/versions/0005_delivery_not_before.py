"""A failed delivery's wait is kept in the store: jobs gain `delivery_not_before`.

A 429's Retry-After (or the courier's backoff) held a song only in the memory of the process that met it: another
process, or this one restarted, posted it at once. Existing rows have no wait (NULL).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column (schema.Time: PostgreSQL's double precision, SQLite's REAL)."""
    with op.batch_alter_table("jobs") as table:
        table.add_column(sa.Column("delivery_not_before", sa.Double().with_variant(sa.REAL(), "sqlite")))
