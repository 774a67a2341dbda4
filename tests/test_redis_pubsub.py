"""The bus's listening connection to Redis (`server/redis_pubsub.py`), against a real Redis:
it hands on the messages of the channels it wants, in order, and notices a Redis that has
gone quiet. Outages end to end: test_fanout restarts Redis under two servers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from server import redis_pubsub
from server.bus import ResilientRedisBackend
from server.redis_pubsub import Publisher, PubSubConnection
from tests.conftest import REDIS_URL, RedisProcess, need


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        need("Redis", f"{REDIS_URL}: {exc}")
    yield client
    await client.aclose()


async def _read_until(listener: PubSubConnection, count: int) -> list[tuple[str, bytes]]:
    got: list[tuple[str, bytes]] = []
    async with asyncio.timeout(5):
        while len(got) < count:
            got.extend(await listener.messages())
    return got


async def test_the_wanted_channels_messages_arrive_in_order_and_others_do_not(
        redis: Redis) -> None:
    mine, other = f"u.{uuid.uuid4()}", f"u.{uuid.uuid4()}"
    listener = PubSubConnection(redis)
    await listener.subscribe([mine])
    await listener.connect()
    try:
        await listener.messages()  # the subscription's confirmation
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(300):
                pipe.publish(mine if i % 3 else other, f"m{i}".encode())
            await pipe.execute()
        got = await _read_until(listener, 200)
        assert got == [(mine, f"m{i}".encode()) for i in range(300) if i % 3]

        await listener.subscribe([other])
        await listener.unsubscribe([mine])
        await redis.publish(mine, b"after")
        await redis.publish(other, b"welcome")
        assert await _read_until(listener, 1) == [(other, b"welcome")]
    finally:
        await listener.close()


async def test_a_batch_published_in_one_write_arrives_whole_and_in_order(redis: Redis) -> None:
    channels = [f"u.{uuid.uuid4()}" for _ in range(3)]
    listener = PubSubConnection(redis)
    await listener.subscribe(channels)
    await listener.connect()
    publisher = Publisher(redis)
    try:
        await listener.messages()
        batch = [(channels[i % 3].encode(), b"x" * (i * 97 % 5000)) for i in range(2000)]
        await publisher.publish(batch)  # some 5 MB: many reads, replies split across them
        await publisher.publish(batch[:1])  # the same connection, its replies all taken
        got = await _read_until(listener, 2001)
        assert got == [(c.decode(), p) for c, p in batch + batch[:1]]
    finally:
        await listener.close()
        await publisher.close()


@contextlib.asynccontextmanager
async def _one_sent(redis: Redis) -> AsyncIterator[tuple[str, PubSubConnection, Publisher]]:
    """A channel listened to, and a publisher that has sent "one" on it."""
    channel = f"u.{uuid.uuid4()}"
    listener = PubSubConnection(redis)
    await listener.subscribe([channel])
    await listener.connect()
    publisher = Publisher(redis)
    try:
        await listener.messages()
        await publisher.publish([(channel.encode(), b"one")])
        yield channel, listener, publisher
    finally:
        await listener.close()
        await publisher.close()


async def test_a_publisher_whose_connection_broke_opens_a_fresh_one(redis: Redis) -> None:
    async with _one_sent(redis) as (channel, listener, publisher):
        link = publisher._link
        assert link is not None
        link.writer.transport.abort()  # breaks while in use: the batch fails, as it should
        with pytest.raises(ConnectionError):
            await publisher.publish([(channel.encode(), b"lost")])
        await publisher.publish([(channel.encode(), b"two")])
        assert await _read_until(listener, 2) == [(channel, b"one"), (channel, b"two")]


async def test_a_publishing_connection_redis_closed_while_idle_is_replaced_without_a_loss(
        redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_pubsub, "IDLE_SECONDS", 0.0)
    async with _one_sent(redis) as (channel, listener, publisher):
        link = publisher._link
        assert link is not None
        host, port = link.writer.get_extra_info("sockname")[:2]
        await redis.execute_command("CLIENT", "KILL", "ADDR", f"{host}:{port}")  # Redis hangs up
        await publisher.publish([(channel.encode(), b"two")])  # no error: sent again, fresh
        assert publisher._link is not link
        assert await _read_until(listener, 2) == [(channel, b"one"), (channel, b"two")]


async def test_a_quiet_connection_is_pinged_and_kept(
        redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_pubsub, "QUIET_SECONDS", 0.1)
    channel = f"u.{uuid.uuid4()}"
    listener = PubSubConnection(redis)
    await listener.subscribe([channel])
    await listener.connect()
    try:
        for _ in range(5):  # each quiet spell: a PING, answered
            assert await listener.messages() == []
        await redis.publish(channel, b"still here")
        assert await _read_until(listener, 1) == [(channel, b"still here")]
    finally:
        await listener.close()


async def test_a_redis_that_stops_answering_is_taken_for_dead(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A peer gone without closing the connection: the bus must reconnect, not hang."""
    monkeypatch.setattr(redis_pubsub, "QUIET_SECONDS", 0.1)

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answers the handshake, then goes silent once subscribed."""
        while b"SUBSCRIBE" not in (chunk := await reader.read(65536)) and chunk:
            writer.write(b"+OK\r\n" * chunk.count(b"*"))
        await asyncio.sleep(30)

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0")
    listener = PubSubConnection(client)
    await listener.subscribe(["u.someone"])
    try:
        await listener.connect()
        with pytest.raises(ConnectionError):
            async with asyncio.timeout(5):
                while True:
                    await listener.messages()
    finally:
        await listener.close()
        server.close()
        await client.aclose()


async def _until(check: Callable[[], bool], seconds: float = 10) -> None:
    """Poll a condition of another task's making (it has no event to wait on)."""
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_the_bus_listens_again_after_redis_was_away_and_has_sockets_check_storage(
        own_redis: RedisProcess) -> None:
    """Away at startup, then restarted: each time Redis is back, the bus listens on every
    channel wanted meanwhile, and tells the process's sockets to check storage once."""
    own_redis.stop()
    client = Redis.from_url(own_redis.url, socket_connect_timeout=0.5)
    resyncs: list[int] = []
    backend = ResilientRedisBackend(redis=client, namespace="t",
                                    on_reconnect=lambda: resyncs.append(1))
    received: list[tuple[str, bytes]] = []

    async def listen() -> None:
        async for item in backend.stream_events():
            received.append(item)

    async def publish(payload: bytes) -> None:
        async with asyncio.timeout(10):
            while True:  # a batch on a connection Redis just dropped fails: the bus drops it
                try:
                    await backend.publish_many([(payload, ["u.a"])])
                    return
                except (ConnectionError, RedisConnectionError):
                    await asyncio.sleep(0.1)

    async def channels() -> list[bytes]:
        fresh = Redis.from_url(own_redis.url)
        try:
            return sorted(c if isinstance(c, bytes) else c.encode()
                          for c in await fresh.pubsub_channels())
        finally:
            await fresh.aclose()

    await backend.subscribe(["u.a"])  # a socket opens while Redis is away
    task = asyncio.create_task(listen())
    try:
        await asyncio.sleep(0.3)
        assert resyncs == []
        await asyncio.to_thread(own_redis.start)
        await _until(lambda: resyncs == [1])
        await publish(b"first")
        await _until(lambda: received == [("u.a", b"first")])
        assert await channels() == [b"t:u.a"]  # the namespace, in Redis

        own_redis.stop()
        await backend.subscribe(["u.b"])  # another opens meanwhile
        await asyncio.sleep(0.3)
        await asyncio.to_thread(own_redis.start)
        await _until(lambda: resyncs == [1, 1])
        await publish(b"second")
        await _until(lambda: received[-1:] == [("u.a", b"second")])
        assert await channels() == [b"t:u.a", b"t:u.b"]
        assert resyncs == [1, 1]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await backend.on_shutdown()
        await backend.close_publisher()
        await client.aclose()
