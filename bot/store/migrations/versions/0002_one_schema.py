"""One schema for both backends: what Chorus 0.1's SQLite (V007) and PostgreSQL (V002) databases become.

Both: jobs gain their cost in songs (1 for every job so far); personas are unique per server regardless of case
(two voices whose names differ only in case are kept, the later ones renamed "name (id)"); the old runner's
`schema_migrations` table goes. SQLite also gains what only PostgreSQL had: the poll-claim columns, the `turns`
table, the unique index of one running challenge per server (extra running ones, which the store never allowed, are
cancelled), PostgreSQL's indexes in place of its own, and a NOT NULL process name in `workers` (a TEXT primary key
takes NULL on SQLite). PostgreSQL's ids become what a new database has: a sequence default (SQLAlchemy's BIGSERIAL)
instead of an identity, each sequence continuing where the identity stood.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("bot.store.migrations")

# PostgreSQL's jobs indexes, which SQLite lacked or defined otherwise: (name, columns, unique, where).
JOB_INDEXES = (
    ("jobs_in_flight", ["id"], "state IN ('queued', 'running')"),
    ("jobs_live", ["guild_id", "user_id"], "state IN ('submitting', 'queued', 'running')"),
    ("jobs_overdue", ["finished_at"], "state = 'timed_out'"),
    ("jobs_to_deliver", ["finished_at", "id"], "delivery IN ('pending', 'claimed')"),
    ("jobs_submitting", ["created_at"], "state = 'submitting'"),
)
RUNNING = "state IN ('open', 'voting')"
# The tables whose ids the database generates (an identity on PostgreSQL V001/V002).
ID_TABLES = ("jobs", "personas", "battles", "challenges", "jams", "jam_lines")


def upgrade() -> None:
    """Bring a Chorus 0.1 database to the one schema."""
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_catches_up()
    renamed = op.get_bind().execute(sa.text(
        "UPDATE personas SET name = name || ' (' || id || ')' WHERE id NOT IN"
        " (SELECT min(id) FROM personas GROUP BY guild_id, lower(name))"
    )).rowcount
    if renamed:
        log.warning("renamed %d persona(s) whose names differed from another's only in case", renamed)
    if op.get_bind().dialect.name == "sqlite":
        # The unnamed UNIQUE (guild_id, name) lives in the table's definition: batch mode rebuilds it without. The
        # rebuilt table's AUTOINCREMENT counter would restart at the highest id left, so a deleted newest persona's
        # id would be handed out again: it is carried over.
        counter = _autoincrement_counter("personas")
        with op.batch_alter_table("personas", recreate="always", copy_from=_personas_without_unique()):
            pass
        _restore_autoincrement_counter("personas", counter)
    else:
        op.drop_constraint("personas_guild_id_name_key", "personas", type_="unique")
        for table in ID_TABLES:
            _identity_to_sequence(table)
    op.create_index("personas_name", "personas", ["guild_id", sa.text("lower(name)")], unique=True)
    # What a job costs, in songs (Chorus 0.1 counted every job as one).
    op.add_column("jobs", sa.Column("cost", sa.Integer(), nullable=False, server_default="1"))
    op.drop_table("schema_migrations")


def _sqlite_catches_up() -> None:
    op.add_column("jobs", sa.Column("polled_at", sa.REAL()))
    op.add_column("jobs", sa.Column("poll_owner", sa.Text()))
    for name, _, _ in JOB_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, columns, where in JOB_INDEXES:
        op.create_index(name, "jobs", columns, sqlite_where=sa.text(where))
    op.create_index("likes_by_member", "likes", ["guild_id", "user_id"])
    op.execute(
        f"UPDATE challenges SET state = 'cancelled' WHERE {RUNNING} AND id NOT IN"  # noqa: S608 - constants only
        f" (SELECT max(id) FROM challenges WHERE {RUNNING} GROUP BY guild_id)"
    )
    op.create_index("challenges_one_running", "challenges", ["guild_id"], unique=True, sqlite_where=sa.text(RUNNING))
    op.create_table(
        "turns",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("workers", recreate="always") as workers:
        workers.alter_column("owner", existing_type=sa.Text(), nullable=False)


def _autoincrement_counter(table: str) -> int | None:
    """The highest id SQLite's AUTOINCREMENT has handed out for `table` (None before its first row)."""
    return op.get_bind().execute(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = :table"), {"table": table}
    ).scalar()


def _restore_autoincrement_counter(table: str, counter: int | None) -> None:
    """Put a rebuilt table's AUTOINCREMENT counter back where it stood (never lower than its highest id)."""
    if counter is None:
        return
    bind = op.get_bind()
    moved = bind.execute(sa.text("UPDATE sqlite_sequence SET seq = max(seq, :seq) WHERE name = :table"),
                         {"seq": counter, "table": table}).rowcount
    if not moved:
        bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:table, :seq)"),
                     {"seq": counter, "table": table})


def _identity_to_sequence(table: str) -> None:
    """`id … GENERATED BY DEFAULT AS IDENTITY` becomes `id … DEFAULT nextval('<table>_id_seq')` with the sequence
    owned by the column, as SQLAlchemy creates it on a new database, and continuing where the identity stood."""
    bind = op.get_bind()
    identity = bind.execute(sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table}).scalar_one()
    last_value, is_called = bind.execute(sa.text(f"SELECT last_value, is_called FROM {identity}")).one()  # noqa: S608
    sequence = f"{table}_id_seq"
    op.execute(f"ALTER TABLE {table} ALTER COLUMN id DROP IDENTITY")
    op.execute(f"CREATE SEQUENCE {sequence} OWNED BY {table}.id")
    bind.execute(sa.select(sa.func.setval(sequence, last_value, is_called)))
    op.execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{sequence}'::regclass)")


def _personas_without_unique() -> sa.Table:
    """SQLite's personas table as V005 made it, less its UNIQUE (guild_id, name)."""
    return sa.Table(
        "personas",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("persona_id", sa.Text(), nullable=False),
        sa.Column("root_clip_id", sa.Text(), nullable=False),
        sa.Column("source_job_id", sa.Integer()),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.REAL(), nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Not supported: Chorus 0.1 cannot read the one schema back."""
    raise NotImplementedError("downgrading below the one schema is not supported")
