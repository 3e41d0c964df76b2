"""The connection to the database: one SQLAlchemy async engine, its transactions, and its migrations.

SQLite (`sqlite+aiosqlite`) runs in WAL mode with a busy timeout; its write transactions take the write lock up
front (`BEGIN IMMEDIATE`) and, inside one process, wait their turn on an asyncio lock instead of on SQLite's busy
timeout. PostgreSQL (`postgresql+asyncpg`) is a pool shared with nothing else.

Migrations are Alembic's (`bot/store/migrations`). A new database is created from `schema.metadata` and stamped
current (Alembic's recipe for a fresh database); a database made by the hand-written migrations of Chorus 0.1
(SQLite V007, PostgreSQL V002) is stamped as that baseline and upgraded in place, every row kept. Processes that
start together migrate one at a time (PostgreSQL: an advisory lock; SQLite: the write lock).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from . import schema
from .dialects import MIGRATION_LOCK, Backend, Clock, postgres_backend, sqlite_backend

log = logging.getLogger(__name__)

T = TypeVar("T")

# The baseline revision: the schema the hand-written migrations left (SQLite V007 = PostgreSQL V002).
LEGACY_REVISION = "0001"
LEGACY_VERSIONS = {"sqlite": 7, "postgresql": 2}
_WRITE = "chorus_write"  # execution option: this SQLite transaction writes (BEGIN IMMEDIATE)
# Between two tries of work a lost connection cut off (a server shutting down may end a few sessions in a row).
RETRY_PAUSE = 0.1


class LegacyDatabaseError(RuntimeError):
    """The database was made by an older Chorus whose schema this one cannot upgrade directly."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for our migrations (with `connection`, migrations run on it)."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("bot.store") / "migrations"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class Database:
    """An async engine with the backend's named differences, read connections and write transactions."""

    # How long PostgreSQL may refuse connections before an operation fails: at start-up, and while running.
    startup_wait = 300.0
    outage_wait = 20.0

    def __init__(self, engine: AsyncEngine, backend: Backend) -> None:
        self.engine = engine
        self.backend = backend
        # SQLite: one writer per process at a time, so writers never wait on SQLite's busy timeout in a thread.
        self._write_lock = asyncio.Lock() if not backend.shared else None
        # When the database went away (time.monotonic()), None while it answers: an outage is logged once each way.
        self._outage_since: float | None = None

    @classmethod
    async def open_sqlite(cls, path: Path, *, now: Clock | None = None) -> Database:
        """Open (creating its folder) and migrate a SQLite file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}", pool_size=4, max_overflow=4)
        _configure_sqlite(engine)
        database = cls(engine, sqlite_backend(now))
        return await database._migrated()

    @classmethod
    async def open_postgres(cls, url: str, *, now: Clock | None = None, max_size: int = 10) -> Database:
        """Open a pool on a PostgreSQL database (`postgresql+asyncpg://…`) and migrate it."""
        engine = create_async_engine(
            url,
            pool_size=max_size,
            max_overflow=0,
            pool_pre_ping=True,
            connect_args={"command_timeout": 60},
        )
        database = cls(engine, postgres_backend(now))
        return await database._migrated()

    async def _migrated(self) -> Database:
        try:
            # A database that is not up yet (started alongside the bot, or restarting) is waited for.
            await (await self._reachable(self.startup_wait)).close()
            async with self.transaction() as conn:
                if self.backend.shared:
                    await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(*MIGRATION_LOCK)))
                await conn.run_sync(migrate)
        except BaseException:
            await self.engine.dispose()
            raise
        return self

    async def _reachable(self, patience: float) -> AsyncConnection:
        """A started connection; while the database refuses connections, retried with backoff for `patience` s
        (then DatabaseUnavailableError)."""
        waited, delay = 0.0, 0.1
        while True:
            try:
                conn = await self.engine.connect()
            except Exception as exc:
                if not unreachable(exc) or not self.backend.shared:
                    raise
                if waited >= patience:
                    raise DatabaseUnavailableError(f"the database did not come back within {patience:.0f}s") from exc
                self._outage_began(exc, patience)
                await asyncio.sleep(delay)
                waited, delay = waited + delay, min(delay * 2, 2.0)
            else:
                self._outage_ended()
                return conn

    def _outage_began(self, exc: BaseException, patience: float) -> None:
        """Say once per outage, however many calls wait through it, that the database is away."""
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            log.warning("the database is not reachable (%s); waiting up to %.0fs for it", _brief(exc), patience)

    def _outage_ended(self) -> None:
        """Say once that the database is back, and after how long."""
        if self._outage_since is not None:
            log.warning("the database is reachable again after %.1fs", time.monotonic() - self._outage_since)
            self._outage_since = None

    async def run_once(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`work`'s result, from one write transaction that committed once, riding out a database restart.

        A restart (or a proxy) may cut the connection in the middle of the transaction. Cut before its commit,
        nothing of it was kept, and it is run again once the database is back. Cut during its commit, the outcome
        is unknown: PostgreSQL is asked whether that transaction committed (`txid_status`), and it is run again only
        if it did not, so a retry never writes twice (a reservation is never made twice). `work` may run more than
        once, so it must do nothing outside the transaction. DatabaseUnavailableError when the database stays away
        longer than `outage_wait`."""
        if not self.backend.shared:
            async with self.transaction() as conn:
                return await work(conn)
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.outage_wait
        while True:
            xid: int | None = None
            committing = False
            try:
                async with self.transaction() as conn:
                    xid = int((await conn.execute(sa.select(sa.func.txid_current()))).scalar_one())
                    result = await work(conn)
                    committing = True
                return result
            except Exception as exc:
                if not connection_lost(exc):
                    raise
                self._outage_began(exc, self.outage_wait)
                if committing and xid is not None and await self._committed(xid, give_up_at) == "committed":
                    log.info("a write's commit was cut off by the database going away, but it committed")
                    return result
                if loop.time() >= give_up_at:
                    raise DatabaseUnavailableError("the database went away in the middle of a write") from exc
                log.info("a write was cut off by the database going away (%s); writing it again", _brief(exc))
                await asyncio.sleep(RETRY_PAUSE)

    async def _committed(self, xid: int, give_up_at: float) -> str:
        """What became of transaction `xid` whose commit was cut off: "committed" or "aborted" (asked again while
        it is still "in progress": the server has not yet noticed the connection is gone)."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                async with self.connect() as conn:
                    status = (await conn.execute(sa.select(sa.func.txid_status(xid)))).scalar()
            except Exception as exc:
                if not connection_lost(exc) or loop.time() >= give_up_at:
                    raise
                status = "in progress"
            if status != "in progress":
                return str(status)  # NULL (too old to know) cannot be: it was moments ago
            if loop.time() >= give_up_at:
                raise DatabaseUnavailableError(f"could not learn whether transaction {xid} committed")
            await asyncio.sleep(RETRY_PAUSE)

    async def read(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`work`'s result on a read connection; a read cut off by the database going away is read again once it
        is back (DatabaseUnavailableError after `outage_wait`)."""
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.outage_wait
        while True:
            try:
                async with self.connect() as conn:
                    return await work(conn)
            except Exception as exc:
                if not self.backend.shared or not connection_lost(exc):
                    raise
                self._outage_began(exc, self.outage_wait)
                if loop.time() >= give_up_at:
                    raise DatabaseUnavailableError("the database went away in the middle of a read") from exc
                await asyncio.sleep(RETRY_PAUSE)

    async def close(self) -> None:
        """Close every connection."""
        await self.engine.dispose()

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads (on SQLite each statement is its own transaction; elsewhere the transaction is rolled
        back at the end); a short outage is waited out."""
        conn = await self._reachable(self.outage_wait)
        try:
            yield conn
        finally:
            await conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block ends (rolled back if it raises). A database that refuses
        the connection is waited for (a restart takes seconds); a failure after it began is the caller's to see,
        since a commit cut off may or may not have happened (`run_once` rides that out for writes that must take
        effect once)."""
        if self._write_lock is None:
            conn = await self._reachable(self.outage_wait)
            try:
                async with conn.begin():
                    yield conn
            finally:
                await conn.close()
            return
        async with self._write_lock, self.engine.connect() as conn:
            conn = await conn.execution_options(**{_WRITE: True})
            async with conn.begin():
                yield conn

    async def clock(self) -> float:
        """The store's time: the injected or process clock on SQLite, the database's on PostgreSQL."""
        local = self.backend.local_now()
        if local is not None:
            return local
        return await self.read(lambda conn: _scalar_float(conn, sa.select(self.backend.now())))


class DatabaseUnavailableError(RuntimeError):
    """The database stayed away (restarting) longer than the store waits for it while running."""


# A database that refused or dropped the connection before anything was sent: safe to try again.
UNREACHABLE = (OSError, sa.exc.OperationalError, sa.exc.InterfaceError)
# PostgreSQL's "the database system is starting up" (or shutting down, or not yet accepting connections): the
# server is there but refuses connections for a moment, as right after a crash while it recovers.
CANNOT_CONNECT_NOW = "57P03"
# The server ended the session: an administrator's shutdown, a crash of another server process (57P01, 57P02).
SESSION_ENDED = frozenset({"57P01", "57P02", CANNOT_CONNECT_NOW})


def unreachable(exc: BaseException) -> bool:
    """Whether a connection attempt failed because the database is away or restarting (worth waiting for)."""
    if isinstance(exc, UNREACHABLE):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and getattr(exc.orig, "sqlstate", None) == CANNOT_CONNECT_NOW


def connection_lost(exc: BaseException) -> bool:
    """Whether work on an open connection failed because the connection went away (a database restart, asyncpg's
    "connection was closed in the middle of operation", an administrator's shutdown), not because of the work."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:  # SQLAlchemy found the connection closed
        return True
    state = str(getattr(exc.orig, "sqlstate", None) or "")
    return state in SESSION_ENDED or state.startswith("08")  # 08: connection exceptions


def database_outage(exc: BaseException) -> bool:
    """Whether an error means the database is away (restarting) rather than anything about the request."""
    return isinstance(exc, DatabaseUnavailableError) or connection_lost(exc)


async def _scalar_float(conn: AsyncConnection, statement: sa.Select[Any]) -> float:
    return float((await conn.execute(statement)).scalar_one())


def _brief(exc: BaseException) -> str:
    """The cause of a connection failure in a few words (the driver's own error, without SQLAlchemy's advice)."""
    cause = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    return f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys; and transactions that we begin ourselves (SQLAlchemy's recipe for
    pysqlite, whose own transaction handling would begin them late and never take the write lock first)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A read is one statement (Database.read), consistent on its own: no BEGIN, one round trip to SQLite's thread
        # fewer per read.
        if conn.get_execution_options().get(_WRITE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine.sync_engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, _exc: BaseException | None) -> None:
        # A cancel that lands while a statement runs makes SQLAlchemy invalidate (close) the connection without a
        # rollback; but SQLite closes it only once every statement it prepared is finalized, and the cancelled one
        # lives on in the CancelledError's traceback, which asyncio keeps with the task. Until then the transaction,
        # and the write lock, would stay: every later write "database is locked". Roll it back first.
        try:
            dbapi_connection.rollback()
        except Exception:  # already gone, or not in the event loop's greenlet (garbage collection): nothing held
            log.debug("no rollback for an invalidated SQLite connection", exc_info=True)


def migrate(conn: Connection) -> None:
    """Bring the schema up to date, on `conn` inside the caller's transaction (see the module's docstring)."""
    tables = set(sa.inspect(conn).get_table_names())
    config = alembic_config(conn)
    if "alembic_version" not in tables:
        if "schema_migrations" in tables:
            _adopt_legacy(conn, config)
        elif "jobs" in tables:
            raise LegacyDatabaseError("the database has Chorus tables but no record of their migrations")
        else:
            schema.metadata.create_all(conn)
            command.stamp(config, "head")
            log.info("created the database schema")
            return
    command.upgrade(config, "head")


def _adopt_legacy(conn: Connection, config: Config) -> None:
    """A database from Chorus 0.1's own migration runner: stamp it as the baseline (then upgraded in place)."""
    version = conn.execute(sa.text("SELECT max(version) FROM schema_migrations")).scalar()
    expected = LEGACY_VERSIONS[conn.dialect.name]
    if version != expected:
        raise LegacyDatabaseError(
            f"this database is at the old migration V{version or 0:03d}; start Chorus 0.1 on it once to bring it to"
            f" V{expected:03d}, then this version upgrades it in place"
        )
    command.stamp(config, LEGACY_REVISION)
    log.info("upgrading a Chorus 0.1 database (V%03d) in place", expected)
