"""The one description of Chorus's database: every table, column, constraint and index, for both backends.

SQLAlchemy Core renders it as SQLite or PostgreSQL DDL; the store's queries are built from these tables, Alembic's
migrations start from them, and `python -m bot.store.to_postgres` copies whatever they list. Where the two backends
store a value differently, the column's type says so once (`Id`, `Time`, `Flag`, `Document` below), so every table
reads alike on both.

Times are unix seconds (a float), written from the store's clock: the database server's on PostgreSQL, which every
process sharing it agrees on. Every vote and like has a primary key per (thing, member), so two presses at the same
instant count once.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

# Row ids and Discord snowflakes: 64-bit on PostgreSQL; SQLite's INTEGER is 64-bit already, and only a column declared
# exactly INTEGER can be the table's rowid (AUTOINCREMENT).
Id: sa.types.TypeEngine[int] = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Unix seconds.
Time: sa.types.TypeEngine[float] = sa.Double().with_variant(sa.REAL(), "sqlite")
# True/false: PostgreSQL's boolean, SQLite's 0/1 (read back as ints: records turn them into bools).
Flag: sa.types.TypeEngine[Any] = sa.Boolean().with_variant(sa.Integer(), "sqlite")


class Document(sa.types.TypeDecorator[Any]):
    """A JSON value: jsonb on PostgreSQL, JSON text on SQLite. None is SQL NULL, never the JSON `null`."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        """jsonb where the database has it."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Serialise for SQLite; jsonb's own processing does it on PostgreSQL."""
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        """Parse SQLite's text; PostgreSQL hands out the value already."""
        if value is None or dialect.name == "postgresql" or not isinstance(value, str):
            return value
        return json.loads(value)


def partial(where: str) -> dict[str, Any]:
    """The options of an index on the rows that satisfy `where` (both backends support partial indexes)."""
    return {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}


def one_of(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    """A CHECK that a text column holds one of our own constant values."""
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"{column}_check")


def is_one_of(column: sa.ColumnElement[Any], values: Any) -> sa.ColumnElement[bool]:
    """`column IN ('a', 'b')` with our own constants written into the SQL (not bound): usable in an executemany,
    and matched by the partial indexes above, whose conditions are written the same way."""
    return column.in_([sa.literal_column(f"'{value}'") for value in sorted(values)])


metadata = sa.MetaData(naming_convention={"ck": "%(table_name)s_%(constraint_name)s"})

JOB_STATES = ("submitting", "submit_failed", "queued", "running", "succeeded", "failed", "timed_out", "cancelled")
DELIVERY_STATES = ("none", "pending", "claimed", "delivered", "abandoned")

# One row per job a member asked for.
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("guild_id", Id),
    sa.Column("channel_id", Id, nullable=False),
    sa.Column("status_message_id", Id),
    sa.Column("interaction_token", sa.Text),
    sa.Column("interaction_expires_at", Time),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False, server_default="generate"),
    sa.Column("parent_job_id", Id, sa.ForeignKey("jobs.id")),
    sa.Column("task_id", sa.Text),
    sa.Column("params", Document, nullable=False, server_default="{}"),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("progress", sa.Integer),
    sa.Column("result", Document),
    sa.Column("error", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("submitted_at", Time),
    sa.Column("finished_at", Time),
    sa.Column("delivery", sa.Text, nullable=False, server_default="none"),
    sa.Column("delivery_claimed_at", Time),
    sa.Column("delivery_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("delivered_at", Time),
    sa.Column("delivered_channel_id", Id),
    sa.Column("delivered_message_id", Id),
    sa.Column("delivery_error", sa.Text),
    # CometAPI has no cancel: a cancelled job keeps running (and costing) until CometAPI finishes it.
    sa.Column("cancel_requested_at", Time),
    # The song finished after the job had been reported timed out, and is posted late, once, with a note.
    sa.Column("late", Flag, nullable=False, server_default=sa.false()),
    # The process holding the delivery claim, and the one that records and submits the job (crash recovery).
    sa.Column("delivery_owner", sa.Text),
    sa.Column("submit_owner", sa.Text),
    # Poll claims on a shared database: which process was last handed this job to fetch, and when.
    sa.Column("polled_at", Time),
    sa.Column("poll_owner", sa.Text),
    # What the job costs, in songs: limits, budgets and /chorus usage count this, not jobs (stems of every track cost
    # about five songs where resold).
    sa.Column("cost", sa.Integer, nullable=False, server_default="1"),
    # A delivery that failed for now (a 429's Retry-After, a backoff) is not tried again before this time, by any
    # process: the wait is kept in the store, not only in the memory of the process that met it.
    sa.Column("delivery_not_before", Time),
    one_of("provider", ("suno", "udio")),
    one_of("action", ("MUSIC", "LYRICS")),
    one_of("state", JOB_STATES),
    one_of("delivery", DELIVERY_STATES),
    sqlite_autoincrement=True,
)
# The poller reads every in-flight job (polled_at is left out, so rewriting it each cycle stays a heap-only update).
sa.Index("jobs_in_flight", jobs.c.id, **partial("state IN ('queued', 'running')"))
# Admission counts what is in progress (bot-wide, per guild, per member) on every submit.
sa.Index("jobs_live", jobs.c.guild_id, jobs.c.user_id, **partial("state IN ('submitting', 'queued', 'running')"))
sa.Index("jobs_overdue", jobs.c.finished_at, **partial("state = 'timed_out'"))
# Finished jobs waiting to be posted, and claims that may have been abandoned by a crash.
sa.Index("jobs_to_deliver", jobs.c.finished_at, jobs.c.id, **partial("delivery IN ('pending', 'claimed')"))
sa.Index("jobs_by_user", jobs.c.user_id, jobs.c.created_at.desc())
sa.Index("jobs_by_guild", jobs.c.guild_id, jobs.c.created_at)
# Jobs stuck between "recorded" and "CometAPI answered" after a crash.
sa.Index("jobs_submitting", jobs.c.created_at, **partial("state = 'submitting'"))
sa.Index("jobs_task", jobs.c.provider, jobs.c.task_id, unique=True, **partial("task_id IS NOT NULL"))
# A message deleted in Discord: is it a song's post? (asked for every deleted message the bot hears of)
sa.Index("jobs_by_post", jobs.c.delivered_message_id, **partial("delivered_message_id IS NOT NULL"))

# Per-guild settings an admin changes with /chorus. A guild without a row uses the defaults in code.
guild_settings = sa.Table(
    "guild_settings",
    metadata,
    sa.Column("guild_id", Id, primary_key=True, autoincrement=False),
    sa.Column("allowed_channels", Document, nullable=False, server_default="[]"),
    sa.Column("required_role_id", Id),
    sa.Column("default_suno_model", sa.Text),
    sa.Column("default_udio_model", sa.Text),
    sa.Column("suno_enabled", Flag, nullable=False, server_default=sa.true()),
    sa.Column("udio_enabled", Flag, nullable=False, server_default=sa.true()),
    sa.Column("max_concurrent", sa.Integer, nullable=False),
    sa.Column("daily_quota", sa.Integer, nullable=False),
    sa.Column("daily_budget", sa.Integer, nullable=False),
    sa.Column("cooldown_seconds", sa.Integer, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("updated_by", Id),
    # Credit alerts: where, below what balance, and when the current low spell's warning was posted (once a spell).
    sa.Column("alert_channel_id", Id),
    sa.Column("credit_alert_below", Time),
    sa.Column("credit_warned_at", Time),
    # Where song of the day goes (NULL: off), and how long battles take votes.
    sa.Column("song_of_day_channel_id", Id),
    sa.Column("battle_minutes", sa.Integer, nullable=False, server_default="1440"),
    # When song of the day was switched on: no day before that one is featured (NULL: switched on before Chorus
    # kept this, so every day counts).
    sa.Column("song_of_day_since", Time),
    # Whether /listen may host a listening party in the server's voice channels (admins switch it off).
    sa.Column("voice_enabled", Flag, nullable=False, server_default=sa.true()),
)

# One row per bot process, with its heartbeat (on the store's clock).
workers = sa.Table(
    "workers",
    metadata,
    sa.Column("owner", sa.Text, primary_key=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("heartbeat_at", Time, nullable=False),
)

# Turns shared by every process (e.g. Discord's IDENTIFY, once per 5 s per bucket), and holds (a time before which
# no process may, e.g. fetch from CometAPI after its Retry-After); on real time, not the store's.
turns = sa.Table(
    "turns",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
)

# Personas ("house voices"): a server's reusable Suno voices, made from one of its songs. Names are unique per
# server regardless of case ("Nova" and "nova" are one voice), as every lookup reads them.
personas = sa.Table(
    "personas",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("guild_id", Id, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("persona_id", sa.Text, nullable=False),
    sa.Column("root_clip_id", sa.Text, nullable=False),
    sa.Column("source_job_id", Id),
    sa.Column("created_by", Id, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sqlite_autoincrement=True,
)
sa.Index("personas_name", personas.c.guild_id, sa.func.lower(personas.c.name), unique=True)

# One like per member per song.
likes = sa.Table(
    "likes",
    metadata,
    sa.Column("job_id", Id, sa.ForeignKey("jobs.id"), primary_key=True, autoincrement=False),
    sa.Column("user_id", Id, primary_key=True, autoincrement=False),
    sa.Column("guild_id", Id),
    sa.Column("created_at", Time, nullable=False),
)
sa.Index("likes_by_guild", likes.c.guild_id, likes.c.created_at)
# /profile counts the likes a member gave on a server.
sa.Index("likes_by_member", likes.c.guild_id, likes.c.user_id)

# Songs whose post was deleted: they drop out of charts, battles, challenges and song of the day.
removed_songs = sa.Table(
    "removed_songs",
    metadata,
    sa.Column("job_id", Id, sa.ForeignKey("jobs.id"), primary_key=True, autoincrement=False),
    sa.Column("removed_by", Id),
    sa.Column("removed_at", Time, nullable=False),
)

# A song battle: two takes of one Suno job (job_b NULL), or a Suno job against a Udio job on the same prompt.
# making → open (face-off posted, votes taken until closes_at) → closed (result posted), or called_off.
battles = sa.Table(
    "battles",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("guild_id", Id, nullable=False),
    sa.Column("channel_id", Id, nullable=False),
    sa.Column("starter_id", Id, nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("job_a", Id, sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("job_b", Id, sa.ForeignKey("jobs.id")),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("voting_seconds", Time, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("opened_at", Time),
    sa.Column("closes_at", Time),
    sa.Column("message_id", Id),
    sa.Column("closed_at", Time),
    sa.Column("winner", sa.Text),
    sa.Column("votes_a", sa.Integer),
    sa.Column("votes_b", sa.Integer),
    sa.Column("note", sa.Text),
    sa.Column("result_message_id", Id),
    one_of("mode", ("takes", "versus")),
    one_of("state", ("making", "open", "closed", "called_off")),
    one_of("winner", ("a", "b", "tie")),
    sqlite_autoincrement=True,
)
sa.Index("battles_by_state", battles.c.state, battles.c.closes_at)

battle_votes = sa.Table(
    "battle_votes",
    metadata,
    sa.Column("battle_id", Id, sa.ForeignKey("battles.id"), primary_key=True, autoincrement=False),
    sa.Column("user_id", Id, primary_key=True, autoincrement=False),
    sa.Column("choice", sa.Text, nullable=False),
    sa.Column("voted_at", Time, nullable=False),
    one_of("choice", ("a", "b")),
)

# A weekly challenge: open (entries) until submit_ends_at → voting (anonymous) until vote_ends_at → closed.
challenges = sa.Table(
    "challenges",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("guild_id", Id, nullable=False),
    sa.Column("channel_id", Id, nullable=False),
    sa.Column("theme", sa.Text, nullable=False),
    sa.Column("started_by", Id, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("submit_ends_at", Time, nullable=False),
    sa.Column("voting_seconds", Time, nullable=False),
    sa.Column("vote_ends_at", Time),
    sa.Column("vote_message_id", Id),
    sa.Column("result_message_id", Id),
    sa.Column("closed_at", Time),
    one_of("state", ("open", "voting", "closed", "cancelled")),
    sqlite_autoincrement=True,
)
sa.Index("challenges_by_guild", challenges.c.guild_id, challenges.c.state)
# One running challenge per guild: the store checks first (and answers None); this is the database's guarantee.
sa.Index("challenges_one_running", challenges.c.guild_id, unique=True, **partial("state IN ('open', 'voting')"))

# One entry per member per challenge (submitting again replaces it); a moderator may take one out.
challenge_entries = sa.Table(
    "challenge_entries",
    metadata,
    sa.Column("challenge_id", Id, sa.ForeignKey("challenges.id"), primary_key=True, autoincrement=False),
    sa.Column("user_id", Id, primary_key=True, autoincrement=False),
    sa.Column("job_id", Id, sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("submitted_at", Time, nullable=False),
    sa.Column("removed_by", Id),
)

challenge_votes = sa.Table(
    "challenge_votes",
    metadata,
    sa.Column("challenge_id", Id, sa.ForeignKey("challenges.id"), primary_key=True, autoincrement=False),
    sa.Column("voter_id", Id, primary_key=True, autoincrement=False),
    sa.Column("entry_user_id", Id, nullable=False),
    sa.Column("voted_at", Time, nullable=False),
)

# A jam thread and the lyric lines members add to it; each song made from it credits its contributors.
jams = sa.Table(
    "jams",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("guild_id", Id, nullable=False),
    sa.Column("channel_id", Id, nullable=False),
    sa.Column("thread_id", Id, nullable=False, unique=True),
    sa.Column("starter_id", Id, nullable=False),
    sa.Column("theme", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sqlite_autoincrement=True,
)

jam_lines = sa.Table(
    "jam_lines",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("jam_id", Id, sa.ForeignKey("jams.id"), nullable=False),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("line", sa.Text, nullable=False),
    sa.Column("added_at", Time, nullable=False),
    sqlite_autoincrement=True,
)
sa.Index("jam_lines_by_jam", jam_lines.c.jam_id, jam_lines.c.id)

# The songs made from a jam, and whom they credit (a JSON list of user ids, in order of first line).
jam_songs = sa.Table(
    "jam_songs",
    metadata,
    sa.Column("job_id", Id, sa.ForeignKey("jobs.id"), primary_key=True, autoincrement=False),
    sa.Column("jam_id", Id, sa.ForeignKey("jams.id"), nullable=False),
    sa.Column("credits", Document, nullable=False),
)

# Song of the day: one row per guild and UTC day featured (job_id NULL: nothing was liked that day).
song_of_day = sa.Table(
    "song_of_day",
    metadata,
    sa.Column("guild_id", Id, primary_key=True, autoincrement=False),
    sa.Column("day", Time, primary_key=True),
    sa.Column("job_id", Id, sa.ForeignKey("jobs.id")),
    sa.Column("channel_id", Id),
    sa.Column("message_id", Id),
    sa.Column("posted_at", Time, nullable=False),
)

# Tables whose rows carry their own generated ids (a copy keeps them and moves each sequence past them).
IDENTITY_TABLES = tuple(table for table in metadata.sorted_tables if "id" in table.c and table.c.id.autoincrement)
