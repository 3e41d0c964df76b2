"""Admins can switch voice off: guild settings gain `voice_enabled`.

Every server that already has settings keeps voice on (the column's default is true), as a new server has it.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# schema.Flag: PostgreSQL's boolean, SQLite's 0/1.
FLAG = sa.Boolean().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add the column, true for every existing row."""
    with op.batch_alter_table("guild_settings") as settings:
        settings.add_column(sa.Column("voice_enabled", FLAG, nullable=False, server_default=sa.true()))
