"""Piccolo's SQLite engine on long-lived connections: one writer, a few readers.

Piccolo's own engine opens a new aiosqlite connection (and OS thread) for every query outside
a transaction and runs `PRAGMA foreign_keys` before every statement: at 10,000 idle sockets that
was ~4,000 threads, and on the send path half of the samples (bench/RESULTS.md, issue 10).
Here each connection lives as long as the process, with one thread of its own, and a
statement costs one hop to that thread:

- the writer: every transaction and every statement that is not a SELECT, one at a time (an
  asyncio lock, so writers queue in the loop instead of sleeping in SQLite's busy handler);
- the readers: SELECTs outside a transaction, on a small pool (WAL lets them run beside the
  writer and see every committed transaction).

The writer is held from BEGIN to COMMIT, and every hop to its thread and back costs a turn of
the event loop, which under load is what bounds the write rate. So a transaction's BEGIN goes
in the same hop as its first statement, and `Connection.call` runs several statements in one.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString

READERS = 4
T = TypeVar("T")


class Connection:
    """One sqlite3 connection and the single thread that uses it."""

    def __init__(self, kwargs: dict[str, Any], busy_timeout_ms: int, name: str,
                 synchronous: str = "FULL") -> None:
        self._kwargs = kwargs
        self._busy_timeout_ms = busy_timeout_ms
        self._synchronous = synchronous
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"sqlite-{name}")
        self._conn: sqlite3.Connection | None = None
        # Touched only in the connection's thread (a BEGIN is queued there, in order).
        self._pending_begin: str | None = None
        self._begin_failed = False

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(**self._kwargs, check_same_thread=False)
        conn.row_factory = dict_factory
        conn.execute("PRAGMA foreign_keys = 1")
        conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        return conn

    def _defer_begin(self, begin: str) -> None:
        self._pending_begin, self._begin_failed = begin, False

    def _connection(self) -> sqlite3.Connection:
        """In the connection's thread: the connection, with a deferred BEGIN run first. Once
        a BEGIN failed, every statement of that transaction fails too, until it ends: none may
        run on its own, outside the transaction."""
        if self._conn is None:
            self._conn = self._open()
        if self._pending_begin is not None:
            begin, self._pending_begin = self._pending_begin, None
            try:
                self._conn.execute(begin)
            except sqlite3.Error:
                self._begin_failed = True
                raise
        elif self._begin_failed:
            raise sqlite3.OperationalError("the transaction could not begin")
        return self._conn

    def _run(self, sql: str, args: list[Any] | tuple[Any, ...]) -> list[dict[str, Any]]:
        if sql in ("COMMIT", "ROLLBACK"):
            if self._pending_begin is not None:
                self._pending_begin = None  # nothing ran: nothing to end
                return []
            if self._begin_failed:
                self._begin_failed = False
                if sql == "COMMIT":
                    raise sqlite3.OperationalError("the transaction could not begin")
                return []
        conn = self._connection()
        if sql == "ROLLBACK" and not conn.in_transaction:
            return []  # the BEGIN itself failed
        cursor = conn.execute(sql, args)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    async def run(self, sql: str, args: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, sql, args)

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` with the connection in its thread: several statements for one hop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._connection()))

    async def execute(self, sql: str) -> list[dict[str, Any]]:
        """What Piccolo's transaction calls for BEGIN, COMMIT and ROLLBACK. A BEGIN waits for
        the transaction's first statement (the writer lock already keeps others out); it is
        queued on the connection's thread, without waiting, so it takes effect after anything
        already queued there."""
        if sql.startswith("BEGIN"):
            self._executor.submit(self._defer_begin, sql)
            return []
        return await self.run(sql)

    def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(shut).result()
        self._executor.shutdown(wait=True)


class PooledTransaction(SQLiteTransaction):
    """A transaction on the writer connection, holding the writer lock until it ends."""

    def __init__(self, engine: PooledSQLiteEngine, transaction_type: TransactionType,
                 allow_nested: bool = True) -> None:
        super().__init__(engine, transaction_type, allow_nested)
        self._pool = engine

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        await self._pool.writer_lock.acquire()
        try:
            self.connection = self._pool.writer
            await self.begin()
        except BaseException:
            self._pool.writer_lock.release()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                try:
                    await self.commit()
                except BaseException:
                    with contextlib.suppress(Exception):
                        await self.rollback()
                    raise
        finally:
            self.engine.current_transaction.reset(self.context)
            self._pool.writer_lock.release()
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    def __init__(self, path: str, timeout: float = 30, readers: int = READERS,
                 synchronous: str = "FULL") -> None:
        super().__init__(path=path, timeout=timeout)
        kwargs = dict(self.connection_kwargs)
        busy_ms = int(timeout * 1000)
        self.writer = Connection(kwargs, busy_ms, "writer", synchronous)
        self._readers: asyncio.Queue[Connection] | None = None
        self._reader_count = readers
        self._kwargs = kwargs
        self._busy_ms = busy_ms
        self._writer_lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._all_readers: list[Connection] = []

    def _bind(self) -> None:
        """The lock and the reader queue belong to one event loop (migrations may run in an
        earlier one); the connections themselves outlive loops."""
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        self._loop = loop
        self._writer_lock = asyncio.Lock()
        connections = list(self._all_readers)
        if not connections:
            connections = [Connection(self._kwargs, self._busy_ms, f"reader{i}")
                           for i in range(self._reader_count)]
            self._all_readers = connections
        self._readers = asyncio.Queue()
        for conn in connections:
            self._readers.put_nowait(conn)

    @property
    def writer_lock(self) -> asyncio.Lock:
        self._bind()
        assert self._writer_lock is not None
        return self._writer_lock

    @contextlib.asynccontextmanager
    async def _reader(self) -> AsyncIterator[Connection]:
        self._bind()
        assert self._readers is not None
        conn = await self._readers.get()
        try:
            yield conn
        finally:
            self._readers.put_nowait(conn)

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return PooledTransaction(self, transaction_type, allow_nested)

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: list[Any] | None = None,
        query_type: str = "generic", table: Any = None,
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await connection.run(query, args or [])
        return result

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        if query.lstrip()[:6].upper() == "SELECT":
            async with self._reader() as conn:
                return await conn.run(query, args or [])
        async with self.writer_lock:
            return await self.writer.run(query, args or [])

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        query, args = querystring.compile_string(engine_type=self.engine_type)
        current = self.current_transaction.get()
        if current is not None:
            return await current.connection.run(query, args)
        return await self._run_in_new_connection(query, args)

    def close(self) -> None:
        """Close every connection (at shutdown)."""
        self.writer.close()
        for conn in self._all_readers:
            conn.close()
        self._all_readers = []
