"""The database engine, transactions and migrations for both SQLite and PostgreSQL."""

from __future__ import annotations

import io
import logging
import sqlite3
from contextlib import redirect_stdout
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from server.settings import Settings

log = logging.getLogger("carethread.db")

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def make_engine(settings: Settings) -> Engine[Any]:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    return PostgresEngine(config={"dsn": settings.database_url}, extensions=())


def engine() -> Engine[Any]:
    """The engine piccolo_conf chose, shared by every table."""
    from piccolo.engine.finder import engine_finder

    found = engine_finder()
    assert found is not None, "piccolo_conf must define DB"
    return found


def write_transaction() -> Any:
    """A transaction for read-then-write work.

    On SQLite it takes the write lock at BEGIN (IMMEDIATE), so two writers queue on the
    busy timeout instead of one failing with "database is locked" on upgrade.
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


def prepare_sqlite(settings: Settings) -> None:
    """WAL lets readers proceed while one writer commits; it is a property of the file."""
    if not settings.is_sqlite:
        return
    with sqlite3.connect(settings.sqlite_path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


async def migrate(settings: Settings) -> None:
    """Run every pending migration; raise if one fails (Piccolo only reports it)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    prepare_sqlite(settings)
    out = io.StringIO()
    with redirect_stdout(out):
        result = await run_forwards(app_name="carethread")
    for line in out.getvalue().splitlines():
        if line.strip():
            log.info("migrate: %s", line.strip())
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")


async def start(settings: Settings) -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=2, max_size=20)


async def stop(settings: Settings) -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()


def is_unique_violation(exc: BaseException) -> bool:
    """True for a unique-constraint failure on either engine."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, asyncpg.UniqueViolationError)
