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

Group commit: a COMMIT with synchronous=FULL waits for the disk, with the writer held. When
other transactions are already waiting for the writer, one that ends does not commit: it
releases its savepoint and leaves the SQLite transaction open for them, and waits; the last of
the group commits for all (at most `MAX_GROUP`), and each returns only once that COMMIT is
durable, so what a caller does after its transaction (publish, acknowledge) still follows a
durable commit. Each transaction is a savepoint of the group's: one that fails rolls back to
it, leaving the others' work; a failed COMMIT fails every one of them. At 1,000 msg/s this is
one COMMIT for several messages instead of one each (bench/RESULTS.md, issue 10).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString

READERS = 4
MAX_GROUP = 64  # transactions sharing one COMMIT, at most
T = TypeVar("T")
READ_VERB = "SELECT"  # statements outside a transaction that go to a reader; all else writes
UNIT = "SAVEPOINT carethread_unit"
RELEASE_UNIT = "RELEASE carethread_unit"
UNDO_UNIT = "ROLLBACK TO carethread_unit"


class Connection:
    """One sqlite3 connection and the single thread that uses it."""

    def __init__(self, kwargs: dict[str, Any], busy_timeout_ms: int, name: str,
                 synchronous: str = "FULL") -> None:
        self._kwargs = kwargs
        self._busy_timeout_ms = busy_timeout_ms
        self._synchronous = synchronous
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"sqlite-{name}")
        self._conn: sqlite3.Connection | None = None
        # Touched only in the connection's thread (queued there, in order): the statements
        # that open a transaction (BEGIN, a group's savepoint), run before its first statement.
        self._pending: list[str] = []
        self._begin_failed = False
        self._in_group = False  # a BEGIN ran: an open transaction is expected until it ends
        # The open transaction vanished under a group (SQLite rolled it all back on an error):
        # the group's COMMIT must fail, not start afresh. Read by the loop after a hop.
        self.lost = False

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(**self._kwargs, check_same_thread=False)
        conn.row_factory = dict_factory
        conn.execute("PRAGMA foreign_keys = 1")
        conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        return conn

    def _defer(self, statements: tuple[str, ...]) -> None:
        if statements and statements[0].startswith("BEGIN"):
            self._pending, self._begin_failed, self.lost = [], False, False
        self._pending.extend(statements)

    def _connection(self) -> sqlite3.Connection:
        """In the connection's thread: the connection, with a deferred BEGIN run first. Once
        a BEGIN failed, every statement of that transaction fails too, until it ends: none may
        run on its own, outside the transaction."""
        if self._conn is None:
            self._conn = self._open()
        if self._begin_failed:
            raise sqlite3.OperationalError("the transaction could not begin")
        while self._pending:
            statement = self._pending.pop(0)
            try:
                self._conn.execute(statement)
            except sqlite3.Error:
                self._begin_failed = True
                self._pending.clear()
                raise
            if statement.startswith("BEGIN"):
                self._in_group = True
        return self._conn

    def _run(self, sql: str, args: list[Any] | tuple[Any, ...]) -> list[dict[str, Any]]:
        if sql in ("COMMIT", "ROLLBACK"):
            self._in_group = False
            if self._pending and self._pending[0].startswith("BEGIN"):
                self._pending.clear()  # nothing ran: nothing to end
                return []
            self._pending.clear()
            if self._begin_failed:
                # Nothing was written: the member whose BEGIN failed, or one that swallowed
                # the failure, was refused when its savepoint ended.
                self._begin_failed = False
                return []
            if self.lost:
                self.lost = False
                if sql == "COMMIT":
                    raise sqlite3.OperationalError("the group's transaction was rolled back")
                return []
        conn = self._connection()
        if sql == "ROLLBACK" and not conn.in_transaction:
            return []  # the BEGIN itself failed
        cursor = conn.execute(sql, args)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    @property
    def failed(self) -> bool:
        """The open transaction cannot go on (its BEGIN failed, or SQLite rolled it back):
        read by the loop after a hop to the thread."""
        return self._begin_failed or self.lost

    def _end_unit(self, keep: bool) -> None:
        """One transaction of a group ends: its savepoint is released (kept) or undone."""
        if self._pending and self._pending[-1] == UNIT:
            self._pending.pop()  # it ran nothing
            return
        if self._begin_failed:
            if keep:
                raise sqlite3.OperationalError("the transaction could not begin")
            return
        conn = self._conn
        if conn is None or not conn.in_transaction:
            if self._in_group:
                self.lost = True
            if keep:
                raise sqlite3.OperationalError("the transaction was rolled back")
            return
        try:
            if not keep:
                conn.execute(UNDO_UNIT)
            conn.execute(RELEASE_UNIT)
        finally:
            if self._in_group and not conn.in_transaction:
                self.lost = True

    def _commit_group(self) -> None:
        """A group's COMMIT, and its ROLLBACK if that fails, in one job on this thread: no
        statement of the next group can come between them."""
        try:
            self._run("COMMIT", ())
        except BaseException:
            with contextlib.suppress(Exception):
                self._run("ROLLBACK", ())
            raise

    async def end_unit(self, keep: bool) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._end_unit, keep)

    async def run(self, sql: str, args: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, sql, args)

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` with the connection in its thread: several statements for one hop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._connection()))

    def defer(self, *statements: str) -> None:
        """Statements that open a transaction (BEGIN, a savepoint) wait for its first statement
        (the writer lock already keeps others out); they are queued on the connection's thread,
        without waiting, so they take effect after anything already queued there."""
        self._executor.submit(self._defer, statements)

    async def execute(self, sql: str) -> list[dict[str, Any]]:
        """What Piccolo's transaction calls for BEGIN, COMMIT and ROLLBACK."""
        if sql.startswith("BEGIN"):
            self.defer(sql)
            return []
        return await self.run(sql)

    def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(shut).result()
        self._executor.shutdown(wait=True)


def _resolve(group: _Group, done: asyncio.Future[Any] | None) -> None:
    """The group's COMMIT ran (`done`), or never will (None)."""
    if group.committed.done():
        return
    if done is None or done.cancelled():
        group.committed.set_exception(sqlite3.OperationalError("the commit did not run"))
    elif (exc := done.exception()) is not None:
        group.committed.set_exception(exc)
    else:
        group.committed.set_result(None)
        return
    group.committed.exception()  # retrieved: members that failed on their own don't wait


class _Group:
    """Transactions sharing one SQLite transaction and its COMMIT."""

    __slots__ = ("closer", "committed", "size")

    def __init__(self) -> None:
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.size = 0
        self.closer: asyncio.Task[None] | None = None


class PooledTransaction(SQLiteTransaction):
    """A transaction on the writer connection, holding the writer lock until it ends: a
    savepoint of the group's SQLite transaction (see the module's docstring)."""

    def __init__(self, engine: PooledSQLiteEngine, transaction_type: TransactionType,
                 allow_nested: bool = True) -> None:
        super().__init__(engine, transaction_type, allow_nested)
        self._pool = engine
        self._group: _Group | None = None

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        await self._pool.acquire_writer()
        try:
            self.connection = self._pool.writer
            self._group = self._pool.join_group(f"BEGIN {self.transaction_type.value}")
        except BaseException:
            self._pool.writer_lock.release()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        group = self._group
        assert group is not None
        failure: BaseException | None = None
        try:
            try:
                await self._pool.writer.end_unit(keep=exception is None)
            except BaseException as exc:
                failure = exc
                if exception is None:
                    with contextlib.suppress(Exception):
                        await self._pool.writer.end_unit(keep=False)
        finally:
            self.engine.current_transaction.reset(self.context)
            kept = exception is None and failure is None
            committing = self._pool.leave_group(group)
        if kept:
            await asyncio.shield(committing)  # raises if the group's COMMIT failed
        else:
            # Undone, but it returns after the group too: what its caller reads next (the
            # message a unique index refused as a repeat) is then there.
            with contextlib.suppress(Exception):
                await asyncio.shield(committing)
        if failure is not None:
            raise failure
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
        self._waiting = 0  # tasks waiting for the writer lock
        self._group: _Group | None = None
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
        self._waiting = 0
        self._group = None
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

    async def acquire_writer(self) -> None:
        lock = self.writer_lock
        self._waiting += 1
        try:
            await lock.acquire()
        finally:
            self._waiting -= 1

    def join_group(self, begin: str) -> _Group:
        """With the writer held: the open group, or a new one; this transaction's savepoint."""
        group = self._group
        if group is None:
            group = self._group = _Group()
            self.writer.defer(begin, UNIT)
        else:
            self.writer.defer(UNIT)
        group.size += 1
        return group

    def leave_group(self, group: _Group) -> asyncio.Future[None]:
        """With the writer held, after this transaction's savepoint ended: leave the group
        open for the transactions waiting for the writer, or commit it; release the writer.
        The future is done once the group's COMMIT is (or failed)."""
        try:
            if (self._waiting and group.size < MAX_GROUP and not self.writer.failed
                    and not group.committed.done()):
                if group.closer is None:  # it commits the group if nobody after it does
                    group.closer = asyncio.get_running_loop().create_task(self._close(group))
            else:
                self._commit(group)
        finally:
            self.writer_lock.release()
        return group.committed

    def _commit(self, group: _Group) -> None:
        """With the writer held: queue the group's COMMIT on the writer's thread (ROLLBACK
        there if it fails) and resolve the group once it ran. Nothing awaits it, so no task's
        cancellation can misreport it; and the writer may be released at once, as whatever the
        next holder queues runs after it."""
        self._group = None
        done = asyncio.get_running_loop().run_in_executor(
            self.writer._executor, self.writer._commit_group)
        done.add_done_callback(functools.partial(_resolve, group))

    async def _close(self, group: _Group) -> None:
        try:
            await self.acquire_writer()
        except asyncio.CancelledError:  # the loop is stopping: nobody will commit the group
            _resolve(group, None)
            raise
        try:
            if self._group is group:
                self._commit(group)
        finally:
            self.writer_lock.release()

    async def _run_outside_transaction(self, query: str, args: list[Any]
                                       ) -> list[dict[str, Any]]:
        """PRAGMA and VACUUM, which SQLite ignores or refuses inside a transaction: after the
        open group's COMMIT (queued first on the writer's thread)."""
        await self.acquire_writer()
        try:
            if self._group is not None:
                self._commit(self._group)
            return await self.writer.run(query, args)
        finally:
            self.writer_lock.release()

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
        verb = query.lstrip()[:6].upper()
        if verb == READ_VERB:
            async with self._reader() as conn:
                return await conn.run(query, args or [])
        if verb in ("PRAGMA", "VACUUM"):
            return await self._run_outside_transaction(query, args or [])
        # A write on its own is a transaction of its own: durable when this returns.
        rows: list[dict[str, Any]] = []
        async with PooledTransaction(self, TransactionType.deferred, False):
            rows = await self.writer.run(query, args or [])
        return rows

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
