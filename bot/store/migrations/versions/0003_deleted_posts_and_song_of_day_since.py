"""Songs deleted in Discord, and song of the day from the day it was switched on.

Jobs gain an index on their post's message id (each message deleted in Discord is looked up by it, to tell a song's
post from any other message), and guild settings the time song of the day was switched on (NULL for a server that
switched it on before: every day counts there, as it did).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

POSTED = "delivered_message_id IS NOT NULL"


def upgrade() -> None:
    """Add the index and the column."""
    op.create_index("jobs_by_post", "jobs", ["delivered_message_id"], sqlite_where=sa.text(POSTED),
                    postgresql_where=sa.text(POSTED))
    op.add_column("guild_settings", sa.Column("song_of_day_since", sa.Double().with_variant(sa.REAL(), "sqlite")))
