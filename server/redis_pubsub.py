"""The bus's two Redis connections: one subscribed, read a chunk at a time, and one that
publishes a batch in one write.

redis-py's `PubSub.get_message` reads one reply per call, through its retry, timeout and
metrics layers, and builds a dict for each: 16 % of a worker's samples at 500 msg/s; its
pipeline of PUBLISH commands cost another 10 % (bench/RESULTS.md). Here whatever the socket
holds is fed to hiredis at once. redis-py still opens the connections (address, TLS, AUTH,
database, protocol), so every `REDIS_URL` it takes works the same; after that, only the
streams it opened are used, so it never reconnects one behind our back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from typing import Any

import hiredis
from redis.asyncio import Redis

READ_BYTES = 1 << 16
# A connection that has said nothing this long gets a PING; one that answers nothing to it for
# as long again is taken for dead (a peer gone without a FIN would otherwise hang the bus).
QUIET_SECONDS = 10.0
# How long opening a connection, writing a batch or reading its replies may take.
REPLY_SECONDS = 10.0
# A publishing connection unused this long may have been closed by Redis (its `timeout`, a
# restart, a proxy): a batch that fails on it is sent again once, on a fresh connection.
IDLE_SECONDS = 1.0


class _Link:
    """One connection's streams, as redis-py left them after its handshake."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.reader: asyncio.StreamReader = conn._reader
        self.writer: asyncio.StreamWriter = conn._writer
        self.parser = hiredis.Reader()
        self.used = time.monotonic()

    @classmethod
    async def open(cls, redis: Redis) -> _Link:
        conn = redis.connection_pool.make_connection()
        try:
            async with asyncio.timeout(REPLY_SECONDS):
                await conn.connect_check_health(retry_socket_connect=False)
        except BaseException:
            await conn.disconnect()
            raise
        return cls(conn)

    async def send(self, *commands: tuple[str | bytes, ...]) -> None:
        # hiredis's stub types a command as a 1-tuple
        self.writer.write(b"".join(hiredis.pack_command(c)  # type: ignore[arg-type]
                                   for c in commands))
        async with asyncio.timeout(REPLY_SECONDS):
            await self.writer.drain()

    async def read(self) -> None:
        """Feed the parser what the socket holds next; ConnectionError at its end."""
        data = await self.reader.read(READ_BYTES)
        if not data:
            raise ConnectionError("Redis closed the connection")
        self.parser.feed(data)

    async def close(self) -> None:
        await self.conn.disconnect()


def _replies(parser: Any) -> Iterator[Any]:
    while (reply := parser.gets()) is not False:
        if isinstance(reply, hiredis.ReplyError):
            raise ConnectionError(f"Redis refused a command: {reply}")
        yield reply


class PubSubConnection:
    """The channels this process listens to, over one connection of its own."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._link: _Link | None = None
        self.channels: set[str] = set()  # what is wanted; messages for others are dropped

    async def connect(self) -> None:
        """A fresh connection, subscribed to every wanted channel (raises if Redis is down)."""
        await self.close()
        link = await _Link.open(self._redis)
        self._link = link
        if self.channels:
            await link.send(("SUBSCRIBE", *self.channels))

    async def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            await link.close()

    async def subscribe(self, channels: Iterable[str]) -> None:
        fresh = [c for c in channels if c not in self.channels]
        self.channels.update(fresh)
        if fresh and self._link is not None:
            await self._link.send(("SUBSCRIBE", *fresh))

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        gone = [c for c in channels if c in self.channels]
        self.channels.difference_update(gone)
        if gone and self._link is not None:
            await self._link.send(("UNSUBSCRIBE", *gone))

    async def messages(self) -> list[tuple[str, bytes]]:
        """The messages of the next chunk read from the connection (possibly none: a chunk
        may hold only the rest of a reply, or confirmations); raises ConnectionError when the
        connection is lost."""
        link = self._link
        if link is None:
            raise ConnectionError("not connected")
        try:
            async with asyncio.timeout(QUIET_SECONDS):
                await link.read()
        except TimeoutError:
            await link.send(("PING",))
            try:
                async with asyncio.timeout(QUIET_SECONDS):
                    await link.read()
            except TimeoutError:
                raise ConnectionError("Redis did not answer a PING") from None
        return list(_messages(link.parser, self.channels))


def _messages(parser: Any, wanted: set[str]) -> Iterator[tuple[str, bytes]]:
    for reply in _replies(parser):
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
        self._link: _Link | None = None

    async def publish(self, messages: list[tuple[bytes, bytes]]) -> None:
        """Each (channel, payload) in order; raises ConnectionError (and drops the connection,
        so the next batch opens a fresh one) if Redis does not take them all."""
        link = self._link
        if link is not None and time.monotonic() - link.used > IDLE_SECONDS:
            try:  # it may have been closed while unused: one more try, on a fresh one
                await self._publish(link, messages)
                return
            except (ConnectionError, OSError, TimeoutError):
                link = None  # a repeat is harmless: sockets drop an event's second copy by seq
        await self._publish(link, messages)

    async def _publish(self, link: _Link | None, messages: list[tuple[bytes, bytes]]) -> None:
        try:
            if link is None:
                link = self._link = await _Link.open(self._redis)
            await link.send(*(("PUBLISH", channel, payload) for channel, payload in messages))
            replies = 0
            async with asyncio.timeout(REPLY_SECONDS):
                while replies < len(messages):
                    await link.read()
                    replies += sum(1 for reply in _replies(link.parser)
                                   if not isinstance(reply, hiredis.PushNotification))
            link.used = time.monotonic()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            await link.close()
