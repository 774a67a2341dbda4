"""A worker's plain messages go to the database one statement at a time, and those that queue
while it is on the wire go together in the next statement: under load, one round trip and one
commit for a group of messages instead of one each. On PostgreSQL a group is one statement
(m0081); a group of 8 costs PostgreSQL about what 2 single statements do (bench/RESULTS.md,
issue 10, fifth session). On SQLite a group is one hop to the writer's thread and one
transaction (`threads.service.append_group_sqlite`), where each message alone took two hops.

A statement that stalls (its thread locked by a long transaction) must not hold up the
worker's other messages: once it has been out `STALL_SECONDS`, the messages waiting go in a
statement of their own, up to `MAX_IN_FLIGHT` at once.

A group is ordered by thread, so two workers' groups lock threads in the same order. If a
group's statement fails as a whole (a deadlock with another transaction, a lost connection),
each of its messages is sent again on its own, so a message fails only for its own reasons.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

from server.events import EventRecord

IN_FLIGHT = 1  # statements on the wire before messages wait to go as a group
MAX_IN_FLIGHT = 4  # ... and at most, while the earlier ones stall
STALL_SECONDS = 0.1  # out this long, a statement is stalled (one takes ~1 ms, 20 ms at load)
MAX_GROUP = 32  # messages in one statement (each is a subtransaction: PostgreSQL caches 64)
NOT_FOUND = "not_found"  # no such thread in the practice, or the author is not a member
DUPLICATE = "duplicate"  # the author sent this client_id to the thread already
TRANSACTION = "transaction"  # something must be written with it: send it in a transaction


class Sent(NamedTuple):
    """What became of one message: stored (seq and the members then), or refused."""

    seq: int | None
    member_ids: list[uuid.UUID]
    member_roles: list[str]
    refused: str | None


class Message(NamedTuple):
    event: EventRecord
    organization_id: uuid.UUID


_GROUP = """
SELECT r.item, r.new_seq, r.member_ids, r.member_roles, r.refused
FROM carethread_append_messages($1, $2, $3, $4, $5, $6, $7, ARRAY(
    SELECT {alone} FROM unnest($1::uuid[]) WITH ORDINALITY AS q(thread_id, n) ORDER BY n
)) AS r
ORDER BY r.item
"""


def group_sql(early_reads: list[str]) -> str:
    """The group's statement; `early_reads` are the scalar subqueries of a thread (`$1`) that
    must all be NULL for a message to go without a transaction."""
    alone = " AND ".join(f"({sql.replace('$1', 'q.thread_id')}) IS NULL"
                         for sql in early_reads) or "true"
    return _GROUP.format(alone=alone)


class SendGroups:
    """One per process and event loop. `send_one` sends a message on its own (the statement of
    m0080); `group_sql()` gives the statement of several."""

    def __init__(self, send_one: Callable[[Message], Any],
                 run_group: Callable[[list[Message]], Any]) -> None:
        self._send_one = send_one
        self._run_group = run_group
        self._out: dict[object, float] = {}  # each statement on the wire: when it went
        self._stall_timer: asyncio.TimerHandle | None = None
        self._waiting: list[tuple[Message, asyncio.Future[Sent]]] = []
        self._sending: set[asyncio.Task[None]] = set()  # held: the loop keeps weak references

    async def send(self, message: Message) -> Sent:
        if self._waiting or not self._may_send():
            future: asyncio.Future[Sent] = asyncio.get_running_loop().create_future()
            self._waiting.append((message, future))
            self._next()  # behind those already waiting, never ahead of them
            return await future
        statement = self._went()
        try:
            sent: Sent = await self._send_one(message)
            return sent
        finally:
            del self._out[statement]
            self._next()

    def _went(self) -> object:
        statement = object()
        self._out[statement] = asyncio.get_running_loop().time()
        return statement

    def _fresh(self) -> list[float]:
        """When each statement out that has not stalled yet went."""
        since = asyncio.get_running_loop().time() - STALL_SECONDS
        return [went for went in self._out.values() if went > since]

    def _may_send(self) -> bool:
        """Fewer than IN_FLIGHT statements out that are not stalled, and room on the wire."""
        return len(self._out) < MAX_IN_FLIGHT and len(self._fresh()) < IN_FLIGHT

    def _watch_for_stall(self) -> None:
        """While messages wait: look again when the oldest statement not yet stalled is.
        (With none, the wire is full of stalled ones: the next to come back sends.)"""
        if not self._waiting or self._stall_timer is not None:
            return
        fresh = self._fresh()
        if fresh:
            # A little late, so that the statement has surely turned stalled by then (timers
            # may fire up to their clock's resolution early).
            self._stall_timer = asyncio.get_running_loop().call_at(
                min(fresh) + STALL_SECONDS + 0.005, self._stalled)

    def _stalled(self) -> None:
        self._stall_timer = None
        self._next()

    def _next(self) -> None:
        """A statement came back (or stalled): the messages waiting go, as one group."""
        self._waiting = [item for item in self._waiting if not item[1].done()]  # gave up
        if self._waiting and self._may_send():
            if self._stall_timer is not None:
                self._stall_timer.cancel()
                self._stall_timer = None
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            task = asyncio.get_running_loop().create_task(self._send_group(group, self._went()))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        self._watch_for_stall()  # what still waits

    async def _send_group(self, group: list[tuple[Message, asyncio.Future[Sent]]],
                          statement: object) -> None:
        try:
            if len(group) == 1:
                await self._send_each(group)
                return
            group.sort(key=lambda item: item[0].event.thread_id.bytes)  # stable: order kept
            try:
                results: list[Sent] = await self._run_group([m for m, _ in group])
            except Exception:
                await self._send_each(group)
                return
            for (_, future), sent in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(sent)
        finally:
            for _, future in group:  # cancelled while sending: the waiters must not hang
                if not future.done():
                    future.cancel()
            del self._out[statement]
            self._next()

    async def _send_each(self, group: list[tuple[Message, asyncio.Future[Sent]]]) -> None:
        for message, future in group:
            try:
                sent = await self._send_one(message)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(sent)
