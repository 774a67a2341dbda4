"""The embedded engine's writer: a transaction's BEGIN rides with its first statement, and what
a transaction wrote is all there after COMMIT and all gone after a rollback or a failure.

Fast: an engine on a temporary file, no server.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

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


def _spy_statements(engine: PooledSQLiteEngine) -> list[str]:
    """What the writer's thread runs as transaction control (COMMIT, ROLLBACK)."""
    seen: list[str] = []
    run = engine.writer._run

    def spy(sql: str, args: Any) -> Any:
        if sql in ("COMMIT", "ROLLBACK"):
            seen.append(sql)
        return run(sql, args)

    engine.writer._run = spy  # type: ignore[method-assign]
    return seen


def _visible(tmp_path: Path, body: str) -> bool:
    """Committed, as another connection (another process) sees it."""
    return body in _bodies(tmp_path)


class _Writes:
    """Transactions that each insert a note; the one marked `hold` keeps the writer until
    `let_go` is set, so that the others queue behind it and form a group."""

    def __init__(self, engine: PooledSQLiteEngine) -> None:
        self.engine = engine
        self.holding = asyncio.Event()
        self.let_go = asyncio.Event()

    async def write(self, body: str, hold: bool = False) -> None:
        async with self.engine.transaction(transaction_type=TransactionType.immediate) as txn:
            await txn.connection.run("INSERT INTO note (body) VALUES (?)", [body])
            if hold:
                self.holding.set()
                await self.let_go.wait()


def test_transactions_waiting_for_the_writer_share_one_commit_and_each_returns_after_it(
        tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    control = _spy_statements(engine)

    async def story() -> None:
        writes = _Writes(engine)
        returned: list[tuple[str, bool]] = []

        async def write(body: str, hold: bool = False) -> None:
            await writes.write(body, hold)
            returned.append((body, _visible(tmp_path, body)))

        first = asyncio.create_task(write("first", hold=True))
        await writes.holding.wait()
        others = [asyncio.create_task(write(f"m{i}")) for i in range(5)]
        await asyncio.sleep(0.05)  # all five wait for the writer
        writes.let_go.set()
        await asyncio.gather(first, *others)
        assert {body for body, _ in returned} == {"first", "m0", "m1", "m2", "m3", "m4"}
        assert all(durable for _, durable in returned)  # none returned before its COMMIT
        assert control == ["COMMIT"]  # six transactions, one COMMIT

        await write("alone")  # nobody waiting: it commits at once
        assert control == ["COMMIT", "COMMIT"]

    asyncio.run(story())
    engine.close()


def test_one_failing_transaction_of_a_group_leaves_the_others_and_a_failed_commit_fails_all(
        tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with sqlite3.connect(tmp_path / "t.db") as conn:
        conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL "
                     "REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")

    async def group(*bodies: tuple[str, str]) -> list[BaseException | None]:
        """Runs the writes as one group: the first holds the writer until the rest wait."""
        first_in = asyncio.Event()
        let_first_go = asyncio.Event()

        async def write(index: int, kind: str, body: str) -> None:
            async with engine.transaction(transaction_type=TransactionType.immediate) as txn:
                if kind == "note":
                    await txn.connection.run("INSERT INTO note (body) VALUES (?)", [body])
                elif kind == "orphan":  # checked only at COMMIT
                    await txn.connection.run("INSERT INTO child (parent) VALUES (42)")
                else:
                    await txn.connection.run("INSERT INTO note (body) VALUES (?)", [body])
                    raise RuntimeError("the action failed after writing")
                if index == 0:
                    first_in.set()
                    await let_first_go.wait()

        tasks = [asyncio.create_task(write(0, *bodies[0]))]
        await first_in.wait()
        tasks += [asyncio.create_task(write(i, *b)) for i, b in enumerate(bodies[1:], 1)]
        await asyncio.sleep(0.05)
        let_first_go.set()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    async def story() -> None:
        results = await group(("note", "kept 1"), ("fails", "undone"), ("note", "kept 2"))
        assert results[0] is None and results[2] is None
        assert isinstance(results[1], RuntimeError)
        assert _bodies(tmp_path) == ["kept 1", "kept 2"]

        results = await group(("note", "lost 1"), ("orphan", ""), ("note", "lost 2"))
        assert all(isinstance(r, sqlite3.IntegrityError) for r in results), results
        assert _bodies(tmp_path) == ["kept 1", "kept 2"]

        async with engine.transaction() as txn:  # the writer goes on
            await txn.connection.run("INSERT INTO note (body) VALUES (?)", ["after"])
        assert _bodies(tmp_path) == ["kept 1", "kept 2", "after"]

    asyncio.run(story())
    engine.close()


def test_a_transaction_cancelled_while_it_commits_its_group_fails_none_of_the_others(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import server.sqlite_engine

    monkeypatch.setattr(server.sqlite_engine, "MAX_GROUP", 2)  # the second one commits it
    engine = _engine(tmp_path)
    run = engine.writer._run

    def slow_disk(sql: str, args: Any) -> Any:
        if sql == "COMMIT":
            time.sleep(0.3)
        return run(sql, args)

    engine.writer._run = slow_disk  # type: ignore[method-assign]

    async def story() -> None:
        writes = _Writes(engine)
        first = asyncio.create_task(writes.write("first", hold=True))
        await writes.holding.wait()
        last = asyncio.create_task(writes.write("last"))
        await asyncio.sleep(0.05)
        writes.let_go.set()
        await asyncio.sleep(0.1)  # `last` waits for the group's COMMIT, on a slow disk
        last.cancel()
        await asyncio.sleep(0)
        last.cancel()  # twice: nothing of the commit may depend on the task that asked for it
        assert await asyncio.wait_for(first, 3) is None
        with pytest.raises(asyncio.CancelledError):
            await last
        assert _bodies(tmp_path) == ["first", "last"]  # both committed, as `first` was told

    asyncio.run(story())
    engine.close()


def test_a_pragma_or_vacuum_on_its_own_runs_outside_any_transaction(tmp_path: Path) -> None:
    engine = _engine(tmp_path)

    async def story() -> None:
        await engine._run_in_new_connection("INSERT INTO note (body) VALUES ('kept')")
        await engine._run_in_new_connection("PRAGMA foreign_keys = 0")  # a no-op in one
        rows = await engine._run_in_new_connection("PRAGMA foreign_keys")
        assert rows == [{"foreign_keys": 0}]
        await engine._run_in_new_connection("PRAGMA foreign_keys = 1")
        await engine._run_in_new_connection("VACUUM")  # refused in one

    asyncio.run(story())
    engine.close()
    assert _bodies(tmp_path) == ["kept"]
