"""Alembic's entry point for Chorus's migrations.

The bot runs them itself when it opens the store (`bot.store.database.migrate`), on its own connection. To write a
new revision against a database made from the current schema, from the checkout's root:
`alembic -x url=sqlite:///data/chorus.db revision --autogenerate -m "what changes"` with an `alembic.ini` whose
`script_location` is `bot/store/migrations` (none is shipped: the bot needs none). Use `op.batch_alter_table` for
anything SQLite cannot ALTER in place.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.factory import engine_url
from bot.store.schema import metadata


def run_on(connection: Connection) -> None:
    """Run the pending migrations on `connection` (batch mode: SQLite's ALTERs rebuild the table)."""
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_from_command_line() -> None:
    """`alembic -x url=…`: connect to that database and migrate it."""
    engine = create_async_engine(engine_url(context.get_x_argument(as_dictionary=True)["url"]))
    async with engine.begin() as conn:
        await conn.run_sync(run_on)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(run_from_command_line())
