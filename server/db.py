"""The database engine, transactions and migrations for both SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import redirect_stdout
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from server import uow
from server.settings import Settings
from server.sqlite_engine import PooledSQLiteEngine
from server.uow import UnitOfWork

log = logging.getLogger("carethread.db")

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def make_engine(settings: Settings) -> Engine[Any]:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return PooledSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS,
                                  synchronous=settings.sqlite_synchronous)
    return PostgresEngine(config={"dsn": settings.database_url}, extensions=())


_engine: Engine[Any] | None = None


def engine() -> Engine[Any]:
    """The engine piccolo_conf chose, shared by every table. Found once per process, as each
    Piccolo table does (looking it up was 3.5 % of the event loop's time per message)."""
    global _engine
    if _engine is None:
        from piccolo.engine.finder import engine_finder

        found = engine_finder()
        assert found is not None, "piccolo_conf must define DB"
        _engine = found
    return _engine


@contextlib.asynccontextmanager
async def write_transaction() -> AsyncIterator[UnitOfWork]:
    """A transaction for read-then-write work, yielding its unit of work.

    Effects registered on the unit of work (events to publish, mail to wake, sockets to close,
    hooks) run after commit, and not at all after a rollback. Nested, it is the outer one.

    On SQLite it takes the write lock at BEGIN (IMMEDIATE) on the one writer connection, and
    writers of this process queue on its asyncio lock first (server/sqlite_engine.py): SQLite's
    busy handler would otherwise have them sleep and retry, which under load is seconds of
    latency (bench/RESULTS.md: p99 13.4 s -> 1.6 s at 200/s).
    On PostgreSQL it is a plain transaction; rows are locked where it matters.
    """
    outer = uow.current_or_none()
    if outer is not None:
        yield outer
        return
    db = engine()
    work = uow.UnitOfWork()
    token = uow.enter(work)
    try:
        if isinstance(db, SQLiteEngine):
            async with db.transaction(transaction_type=TransactionType.immediate):
                yield work
                await work.prepare()
        else:
            async with db.transaction():
                yield work
                await work.prepare()
    finally:
        uow.leave(token)
    await work.run_effects()


def prepare_sqlite(settings: Settings) -> None:
    """WAL lets readers proceed while one writer commits; it is a property of the file."""
    if not settings.is_sqlite:
        return
    with sqlite3.connect(settings.sqlite_path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


# pg_advisory_lock key of migrations: any fixed 64-bit number, the same in every process.
MIGRATION_LOCK_KEY = 0x6361726574687264  # "carethrd"


async def migrate(settings: Settings) -> None:
    """Run every pending migration; raise if one fails (Piccolo only reports it).

    Any number of processes may start at once: they take turns (a PostgreSQL advisory lock, or
    a lock file beside the SQLite file), and the ones that wait find nothing left to run.
    """
    async with _migration_lock(settings):
        await _migrate(settings)


@contextlib.asynccontextmanager
async def _migration_lock(settings: Settings) -> AsyncIterator[None]:
    if settings.is_sqlite:
        import fcntl

        lock_path = settings.sqlite_path.with_name(settings.sqlite_path.name + ".migrate-lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = await asyncio.to_thread(os.open, lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock
        return
    import asyncpg

    connection = await asyncpg.connect(settings.database_url)
    try:
        # A session lock on a connection of its own, held while Piccolo uses others.
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            yield
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    finally:
        await connection.close()


async def _migrate(settings: Settings) -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    prepare_sqlite(settings)
    before = await _applied_migrations()
    out = io.StringIO()
    with redirect_stdout(out):
        result = await run_forwards(app_name="carethread")
    for line in out.getvalue().splitlines():  # Piccolo's own chatter: for debugging only
        if line.strip():
            log.debug("migrate: %s", line.strip())
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")
    total = await _applied_migrations()
    where = settings.sqlite_path if settings.is_sqlite else "PostgreSQL"
    if total > before:
        ran = total - before
        log.info("database %s: applied %d new migration%s, up to date (%d in all)",
                 where, ran, "" if ran == 1 else "s", total)
    else:
        log.info("database %s: up to date (%d migrations)", where, total)


async def _applied_migrations() -> int:
    from piccolo.apps.migrations.tables import Migration

    if not await Migration.table_exists():
        return 0
    return await Migration.count().where(Migration.app_name == "carethread")


async def start(settings: Settings) -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=2, max_size=settings.db_pool_size,
                                       reset=_release)


async def _release(connection: Any) -> None:
    """Instead of asyncpg's reset (a round trip on every release, ~12 % of the hot path):
    we keep no session state, so only an unfinished transaction needs undoing."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def stop(settings: Settings) -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()
    elif isinstance(db, PooledSQLiteEngine):
        await asyncio.to_thread(db.close)


def sql_list(values: frozenset[str]) -> str:
    """Our own constants (kinds, roles) as an SQL list of literals, in a stable order; never
    input."""
    return ", ".join(f"'{v}'" for v in sorted(values))


def row_uuid(value: Any) -> uuid.UUID:
    """A uuid column read by plain SQL: asyncpg gives a UUID, SQLite the text."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def is_unique_violation(exc: BaseException) -> bool:
    """True for a unique-constraint failure on either engine."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, asyncpg.UniqueViolationError)


def index_migration(migration_id: str, description: str, indexes: dict[str, str]) -> Any:
    """A migration's `forwards` that creates raw-SQL indexes (and drops them going back).

    For what Piccolo's auto migrations cannot express on both engines: composite and partial
    unique indexes. Its raw steps run before add_table, so these live in migrations of their own.
    """
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager
    from piccolo.table import Table

    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name="carethread",
                                   description=description)

        async def create() -> None:
            for sql in indexes.values():
                await Table.raw(sql)

        async def drop() -> None:
            for name in indexes:
                await Table.raw(f"DROP INDEX {name}")

        manager.add_raw(create)
        manager.add_raw_backwards(drop)
        return manager

    return forwards
