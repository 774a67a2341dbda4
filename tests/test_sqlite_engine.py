"""The embedded engine's writer: a transaction's BEGIN rides with its first statement, and what
a transaction wrote is all there after COMMIT and all gone after a rollback or a failure.

Fast: an engine on a temporary file, no server.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest
from piccolo.engine.sqlite import TransactionType

from server.sqlite_engine import PooledSQLiteEngine


def _engine(tmp_path: Path, synchronous: str = "FULL") -> PooledSQLiteEngine:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    return PooledSQLiteEngine(path=str(path), synchronous=synchronous)


def _bodies(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "t.db") as conn:
        return [r[0] for r in conn.execute("SELECT body FROM note ORDER BY id")]


def test_a_committed_transaction_keeps_every_statement_and_a_failed_one_none(
        tmp_path: Path) -> None:
    engine = _engine(tmp_path)

    async def story() -> None:
        async with engine.transaction() as txn:
            await txn.connection.run("INSERT INTO note (body) VALUES (?)", ["one"])
            rows = await txn.connection.call(lambda db: [
                db.execute("INSERT INTO note (body) VALUES (?)", ["two"]).rowcount,
                db.execute("SELECT COUNT(*) AS n FROM note").fetchone()["n"]])
            assert rows == [1, 2]
        with pytest.raises(sqlite3.IntegrityError):
            async with engine.transaction() as txn:
                await txn.connection.run("INSERT INTO note (body) VALUES (?)", ["three"])
                await txn.connection.run("INSERT INTO note (body) VALUES (NULL)")
        with pytest.raises(RuntimeError):
            async with engine.transaction() as txn:
                await txn.connection.run("INSERT INTO note (body) VALUES (?)", ["four"])
                raise RuntimeError("the action failed after writing")
        # A transaction that wrote nothing ends cleanly, committed or not.
        async with engine.transaction():
            pass
        with pytest.raises(RuntimeError):
            async with engine.transaction():
                raise RuntimeError("failed before any statement")
        async with engine.transaction() as txn:
            await txn.connection.run("INSERT INTO note (body) VALUES (?)", ["five"])

    asyncio.run(story())
    engine.close()
    assert _bodies(tmp_path) == ["one", "two", "five"]


def test_a_begin_that_fails_is_reported_and_the_writer_stays_usable(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    engine.writer._busy_timeout_ms = 50
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

    async def story() -> None:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with engine.transaction(transaction_type=TransactionType.immediate) as txn:
                await txn.connection.run("INSERT INTO note (body) VALUES (?)", ["lost"])
        # A body that swallows the failure cannot write outside the transaction: the rest of
        # its statements fail too, and so does its COMMIT.
        with pytest.raises(sqlite3.OperationalError):
            async with engine.transaction(transaction_type=TransactionType.immediate) as txn:
                with contextlib.suppress(sqlite3.OperationalError):
                    await txn.connection.run("INSERT INTO note (body) VALUES (?)", ["lost"])
                other.execute("ROLLBACK")  # the lock is free again: a stray write could land
                await txn.connection.run("INSERT INTO note (body) VALUES (?)", ["stray"])
        async with engine.transaction() as txn:
            await txn.connection.run("INSERT INTO note (body) VALUES (?)", ["kept"])

    asyncio.run(story())
    engine.close()
    other.close()
    assert _bodies(tmp_path) == ["kept"]


def test_the_writer_uses_the_configured_synchronous(tmp_path: Path) -> None:
    for setting, value in (("FULL", 2), ("NORMAL", 1)):
        engine = _engine(tmp_path, setting)

        async def read(engine: PooledSQLiteEngine) -> int:
            rows = await engine.writer.run("PRAGMA synchronous")
            return int(rows[0]["synchronous"])

        assert asyncio.run(read(engine)) == value
        engine.close()
