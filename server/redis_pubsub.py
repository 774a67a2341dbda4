"""The bus's two Redis connections: one subscribed, read a chunk at a time, and one that
publishes a batch in one write.

redis-py's `PubSub.get_message` reads one reply per call, through its retry, timeout and
metrics layers, and builds a dict for each: 16 % of a worker's samples at 500 msg/s; its
pipeline of PUBLISH commands cost another 10 % (bench/RESULTS.md). Here whatever the socket
holds is fed to hiredis at once. redis-py still opens the connections (address, TLS, AUTH,
database, protocol), so every `REDIS_URL` it takes works the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

READ_BYTES = 1 << 16
# A connection that has said nothing this long gets a PING; one that answers nothing to it for
# as long again is taken for dead (a peer gone without a FIN would otherwise hang the bus).
QUIET_SECONDS = 10.0
# How long a batch's replies may take before the publishing connection is taken for dead.
REPLY_SECONDS = 10.0


class PubSubConnection:
    """The channels this process listens to, over one connection of its own."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._conn: AbstractConnection | None = None
        self._parser: Any = None
        self.channels: set[str] = set()  # what is wanted; messages for others are dropped

    async def connect(self) -> None:
        """A fresh connection, subscribed to every wanted channel (raises if Redis is down)."""
        await self.close()
        conn = self._redis.connection_pool.make_connection()
        await conn.connect()
        self._conn, self._parser = conn, hiredis.Reader()
        if self.channels:
            await self._command("SUBSCRIBE", *self.channels)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.disconnect()

    async def subscribe(self, channels: Iterable[str]) -> None:
        fresh = [c for c in channels if c not in self.channels]
        self.channels.update(fresh)
        if fresh and self._conn is not None:
            await self._command("SUBSCRIBE", *fresh)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        gone = [c for c in channels if c in self.channels]
        self.channels.difference_update(gone)
        if gone and self._conn is not None:
            await self._command("UNSUBSCRIBE", *gone)

    async def _command(self, *args: str) -> None:
        conn = self._conn
        assert conn is not None
        # No health check: its PING would read a reply itself, from under `messages`.
        await conn.send_command(*args, check_health=False)

    async def messages(self) -> list[tuple[str, bytes]]:
        """The messages of the next chunk read from the connection (possibly none: a chunk
        may hold only the rest of a reply, or confirmations); raises ConnectionError when the
        connection is lost."""
        conn, parser = self._conn, self._parser
        if conn is None:
            raise ConnectionError("not connected")
        reader = conn._reader
        assert reader is not None
        try:
            async with asyncio.timeout(QUIET_SECONDS):
                data = await reader.read(READ_BYTES)
        except TimeoutError:
            await self._command("PING")
            try:
                async with asyncio.timeout(QUIET_SECONDS):
                    data = await reader.read(READ_BYTES)
            except TimeoutError:
                raise ConnectionError("Redis did not answer a PING") from None
        if not data:
            raise ConnectionError("Redis closed the connection")
        parser.feed(data)
        return list(_messages(parser, self.channels))


def _messages(parser: Any, wanted: set[str]) -> Iterator[tuple[str, bytes]]:
    while (reply := parser.gets()) is not False:
        if isinstance(reply, hiredis.ReplyError):
            raise ConnectionError(f"Redis refused a subscription command: {reply}")
        if isinstance(reply, list) and len(reply) == 3 and reply[0] == b"message":
            channel = reply[1].decode()
            # A message may still arrive for a channel just unsubscribed: drop it.
            if channel in wanted:
                yield channel, reply[2]
        # else: a (un)subscribe confirmation, or the answer to our PING


class Publisher:
    """PUBLISH commands over one connection of its own: a batch is one write, then its replies
    (how many received each message, which the bus does not need) are read and counted. One
    caller at a time (the bus has one publishing task)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._conn: AbstractConnection | None = None
        self._parser: Any = None

    async def publish(self, messages: list[tuple[bytes, bytes]]) -> None:
        """Each (channel, payload) in order; raises ConnectionError (and drops the connection,
        so the next batch opens a fresh one) if Redis does not take them all."""
        if self._conn is None:
            conn = self._redis.connection_pool.make_connection()
            await conn.connect()
            self._conn, self._parser = conn, hiredis.Reader()
        conn, parser = self._conn, self._parser
        try:
            reader, writer = conn._reader, conn._writer
            assert reader is not None and writer is not None
            writer.write(b"".join(
                b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n"
                % (len(channel), channel, len(payload), payload)
                for channel, payload in messages))
            await writer.drain()
            replies = 0
            async with asyncio.timeout(REPLY_SECONDS):
                while replies < len(messages):
                    data = await reader.read(READ_BYTES)
                    if not data:
                        raise ConnectionError("Redis closed the connection")
                    parser.feed(data)
                    while (reply := parser.gets()) is not False:
                        if isinstance(reply, hiredis.ReplyError):
                            raise ConnectionError(f"Redis refused a PUBLISH: {reply}")
                        replies += 1
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.disconnect()
