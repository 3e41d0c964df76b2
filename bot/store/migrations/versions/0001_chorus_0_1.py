"""The schema Chorus 0.1's own migration runner left: SQLite V001-V007, PostgreSQL V001-V002.

Nothing runs here: such a database is stamped with this revision when it is first opened (its `schema_migrations`
table says which it is), and the revisions after this one upgrade it in place. A new database is created from
`bot.store.schema` and stamped with the newest revision instead.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing: the old runner made this schema."""


def downgrade() -> None:
    """Nothing to undo."""
