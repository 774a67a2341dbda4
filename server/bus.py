"""The fan-out path: Litestar channels, one channel per user, in memory or through Redis.

The bus is never the record. Storage is; a connection that misses something on the bus fills
the gap from storage. What goes over it is bytes, built and read only by the codec below:

    E<thread id, 16 bytes><seq, 8 bytes><0, or 1 and a removed user id of 16 bytes><frame json>
                                               a stored thread event, encoded once; with no
                                               frame, a seq its recipients do not see
    S<frame json>                              a signal (typing, read), passed through as is
    X<token id or *>                           end the sockets of one token, or all of a user's
    R                                          (local only) the bus came back: check storage
    G<thread id, 16 bytes><hold, 8 bytes>      (local only) a gap's grace ended: fill it from
                                               storage
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin, Subscriber
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.subscriber import BacklogStrategy, EventCallback

from server import busfaults
from server.background import BackgroundTask
from server.events import EventRecord, event_frame
from server.redis_pubsub import Publisher, PubSubConnection
from server.settings import Settings

log = logging.getLogger("carethread.bus")

PUBLISH_QUEUE_LIMIT = 10_000
# Publishes queued while one batch is on the wire go out together, in order, in one round trip.
PUBLISH_BATCH_LIMIT = 256
RETRY_PAUSE_SECONDS = 0.5
# A Redis connection that lasted this long was healthy: the next reconnect starts quickly.
STABLE_SECONDS = 5.0

Publication = tuple[bytes, list[str]]


def user_channel(user_id: uuid.UUID | str) -> str:
    return f"u.{user_id}"


# --- the codec ------------------------------------------------------------------------------


class BusEvent(msgspec.Struct, frozen=True):
    """A stored event on its way to sockets: enough to order it without decoding the frame."""

    thread_id: uuid.UUID
    seq: int
    frame: bytes
    removed_user_id: uuid.UUID | None = None  # set on member.removed


class BusSignal(msgspec.Struct, frozen=True):
    frame: bytes


class BusClose(msgspec.Struct, frozen=True):
    token_id: str  # "*" for every token of the user


class BusResync(msgspec.Struct, frozen=True):
    pass


class BusGap(msgspec.Struct, frozen=True):
    thread_id: uuid.UUID
    hold: int  # which hold of the thread's events it ends (an earlier one's may still be queued)


BusMessage = BusEvent | BusSignal | BusClose | BusResync | BusGap


def encode_event(event: EventRecord) -> bytes:
    removed = b"0"
    if event.kind == "member.removed" and event.data and not event.staff_only:
        removed = b"1" + uuid.UUID(event.data["user_id"]).bytes
    return _event_head(event) + removed + event_frame(event)


def encode_skip(event: EventRecord) -> bytes:
    """For the members who may not see a staff-only event: its seq alone, so their sockets
    move past it instead of taking it for a gap (a wait, then a query each)."""
    return _event_head(event) + b"0"


def _event_head(event: EventRecord) -> bytes:
    return b"E" + event.thread_id.bytes + event.seq.to_bytes(8, "big")


def encode_signal(frame: bytes) -> bytes:
    return b"S" + frame


def encode_close(token_id: uuid.UUID | None) -> bytes:
    return b"X" + (b"*" if token_id is None else str(token_id).encode())


RESYNC = b"R"


def encode_gap(thread_id: uuid.UUID, hold: int) -> bytes:
    return b"G" + thread_id.bytes + hold.to_bytes(8, "big")


def decode(payload: bytes) -> BusMessage:
    kind = payload[:1]
    if kind == b"E":
        thread_id = uuid.UUID(bytes=payload[1:17])
        seq = int.from_bytes(payload[17:25], "big")
        if payload[25:26] == b"0":
            return BusEvent(thread_id, seq, payload[26:])
        return BusEvent(thread_id, seq, payload[42:], uuid.UUID(bytes=payload[25:41]))
    if kind == b"S":
        return BusSignal(payload[1:])
    if kind == b"X":
        return BusClose(payload[1:].decode())
    if kind == RESYNC:
        return BusResync()
    if kind == b"G":
        return BusGap(uuid.UUID(bytes=payload[1:17]), int.from_bytes(payload[17:25], "big"))
    raise ValueError(f"unknown bus payload {payload[:8]!r}")


class ConnectionSubscriber(Subscriber):
    """A bounded subscriber for one socket that reports overflow instead of dropping silently.

    Litestar's Subscriber holds an asyncio.Queue (four deques and an Event, ~3 kB) for life;
    an idle socket's subscriber holds nothing here: a deque exists only while payloads wait,
    and a consumer is told of them by `on_item` (the connection starts its delivery then) or
    waits in `iter_events` on a single future.
    """

    def __init__(self, plugin: ChannelsPlugin, max_backlog: int | None = None,
                 backlog_strategy: BacklogStrategy = "backoff") -> None:
        # Not Subscriber.__init__: it would build the queue this class replaces.
        self._task: asyncio.Task[None] | None = None
        self._plugin = plugin
        self._backend = plugin._backend
        self._limit = max_backlog or 0  # 0: unbounded
        self._items: deque[bytes] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._stopped = False
        self.on_item: Callable[[], None] | None = None  # a payload arrived
        self.on_overflow: Callable[[], None] | None = None
        # Called when the queue is half full: a consumer holding back must start reading.
        self.on_pressure: Callable[[], None] | None = None
        self.pressure_at = 0

    @property
    def qsize(self) -> int:
        return len(self._items) if self._items is not None else 0

    def put_nowait(self, item: bytes | None) -> bool:
        if item is None:  # unsubscribed: drop what nobody will read, end `iter_events`
            self._stopped = True
            self._items = None
        elif self._stopped:
            return False
        elif self._limit and self.qsize >= self._limit:
            if self.on_overflow is not None:
                self.on_overflow()
            return False
        else:
            if self._items is None:
                self._items = deque()
            self._items.append(item)
            if self.on_pressure is not None and len(self._items) >= self.pressure_at:
                self.on_pressure()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if item is not None and self.on_item is not None:
            self.on_item()
        return True

    async def put(self, item: bytes | None) -> None:
        self.put_nowait(item)  # never waits: a full queue is an overflow, reported above

    def pop(self) -> bytes | None:
        """The oldest waiting payload, or None."""
        items = self._items
        if not items:
            return None
        item = items.popleft()
        if not items:
            self._items = None  # an idle socket keeps no deque
        return item

    async def iter_events(self) -> AsyncGenerator[bytes, None]:
        while True:
            item = self.pop()
            if item is not None:
                yield item
                continue
            if self._stopped:
                return
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    @contextlib.asynccontextmanager
    async def run_in_background(self, on_event: EventCallback, join: bool = True
                                ) -> AsyncGenerator[None, None]:
        raise NotImplementedError("consume with on_item and pop, or iter_events")
        yield  # pragma: no cover


class BusPlugin(ChannelsPlugin):
    """Litestar's plugin, with an unsubscribe that costs the same at any size.

    Litestar's scans every channel ever subscribed to see whether the subscriber is still in one
    (and never forgets an emptied channel): O(users ever connected) per closing socket, which made
    a reconnect storm quadratic (8 % of the server's time at 5,000 sockets, py-spy). A
    connection's subscriber listens to one channel, so here it is simply taken out of it."""

    async def unsubscribe(self, subscriber: Subscriber,
                          channels: str | Iterable[str] | None = None) -> None:
        if channels is None or not isinstance(subscriber, ConnectionSubscriber):
            await super().unsubscribe(subscriber, channels)
            return
        emptied = set()
        for channel in [channels] if isinstance(channels, str) else channels:
            listeners = self._channels.get(channel)
            if listeners is None or subscriber not in listeners:
                continue
            listeners.discard(subscriber)
            if not listeners:
                del self._channels[channel]
                emptied.add(channel)
        await subscriber.put(None)
        if subscriber.is_running:
            await subscriber.stop()
        if emptied:
            await self._backend.unsubscribe(emptied)


class ResilientRedisBackend(ChannelsBackend):
    """Redis pub/sub that survives an outage: it reconnects, resubscribes, and says so.

    Litestar's backend lets a connection error end its stream, after which the process never
    hears the bus again. Here the stream reconnects with backoff, and `on_reconnect` lets every
    local connection check storage for what was published while Redis was away. Listening
    and publishing each go through a connection of their own (`server/redis_pubsub.py`).
    """

    def __init__(self, *, redis: Any, namespace: str, on_reconnect: Callable[[], None]
                 ) -> None:
        self._redis = redis
        # Channels in Redis carry the namespace, so deployments can share one Redis.
        self._prefix = f"{namespace}:"
        self._listener = PubSubConnection(redis)
        self._publisher = Publisher(redis)
        self._on_reconnect = on_reconnect

    async def on_startup(self) -> None:
        pass  # the stream connects when it starts

    async def on_shutdown(self) -> None:
        await self._listener.close()  # the publisher closes when the bus stops publishing

    async def close_publisher(self) -> None:
        await self._publisher.close()

    async def subscribe(self, channels: Iterable[str]) -> None:
        try:
            await self._listener.subscribe(self._prefix + c for c in channels)
        except Exception as exc:  # the reconnect resubscribes from `channels`
            log.warning("bus subscribe failed (%s); will resubscribe on reconnect", exc)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        try:
            await self._listener.unsubscribe(self._prefix + c for c in channels)
        except Exception as exc:
            log.warning("bus unsubscribe failed: %s", exc)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        await self.publish_many([(data, list(channels))])

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        raise NotImplementedError("the bus keeps no history: storage does")

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        """Messages as (channel, payload), for as long as the process runs. After any failed
        attempt, every local connection checks storage once listening works again: sockets
        may have opened while Redis was away (at startup too), and what others published then
        never reached them. The wait between attempts grows until a connection has lasted."""
        delay, failed, prefix = 0.05, False, len(self._prefix)
        while True:
            try:
                await self._listener.connect()
            except Exception as exc:
                if not failed:
                    log.warning("bus cannot reach Redis (%s); retrying", exc)
                failed = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            if failed:
                log.info("bus reconnected; %d channels resubscribed",
                         len(self._listener.channels))
                self._on_reconnect()
                failed = False
            connected_at = time.monotonic()
            try:
                while True:
                    for channel, payload in await self._listener.messages():
                        yield channel[prefix:], payload
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("bus connection lost: %s", exc)
                failed = True
                if time.monotonic() - connected_at > STABLE_SECONDS:
                    delay = 0.05
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def publish_many(self, batch: list[Publication]) -> None:
        """Every publication of the batch, in order, in one round trip.

        One Lua call per event (Litestar's `publish`) costs a round trip and a loop turn each; a
        single publishing task then caps the rate at one event per turn (bench/RESULTS.md)."""
        await self._publisher.publish([
            ((self._prefix + channel).encode(), payload)
            for payload, channels in batch for channel in dict.fromkeys(channels)])


class Bus:
    """Per-user channels over a ChannelsPlugin, with publishing that never fails a request."""

    def __init__(self, settings: Settings) -> None:
        self._queue_limit = settings.ws_queue_limit
        self._subscribers: set[ConnectionSubscriber] = set()
        self._lock = asyncio.Lock()
        self._outbox: asyncio.Queue[Publication] = asyncio.Queue(PUBLISH_QUEUE_LIMIT)
        self._publisher = BackgroundTask("bus-publisher", self._publish_loop)
        faults = busfaults.from_env()
        self._send: busfaults.Publish = (
            self._publish_batch if faults is None
            else busfaults.FaultyPublisher(faults, self._publish_batch))
        backend: Any
        if settings.redis_url:
            from redis.asyncio import Redis

            redis = Redis.from_url(settings.redis_url, socket_connect_timeout=2,
                                   health_check_interval=10)
            backend = ResilientRedisBackend(redis=redis, namespace=settings.redis_namespace,
                                            on_reconnect=self.resync_all)
        else:
            backend = MemoryChannelsBackend()
        self._backend = backend
        self.plugin = BusPlugin(
            backend=backend,
            arbitrary_channels_allowed=True,
            subscriber_max_backlog=settings.ws_queue_limit,
            subscriber_backlog_strategy="backoff",
            subscriber_class=ConnectionSubscriber,
        )

    # --- publishing ---------------------------------------------------------------------

    def publish(self, payload: bytes, user_ids: Iterable[uuid.UUID | str]) -> None:
        """Queue for fan-out after commit; never blocks or fails the caller."""
        channels = [user_channel(u) for u in user_ids]
        if not channels:
            return
        try:
            self._outbox.put_nowait((payload, channels))
        except asyncio.QueueFull:
            log.warning("bus publish queue full; receivers will heal from storage")

    async def _publish_loop(self) -> None:
        """One task publishes in order, what has queued meanwhile in one batch; a failure is
        logged and storage heals receivers."""
        dropped = False
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < PUBLISH_BATCH_LIMIT and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                await self._send(batch)
            except Exception as exc:
                log.warning("bus publish failed (%s); dropping queued publishes", exc)
                while not self._outbox.empty():
                    self._outbox.get_nowait()
                dropped = True
                await asyncio.sleep(RETRY_PAUSE_SECONDS)
                continue
            if dropped:  # local connections heal now; remote ones on their reconnect or gap
                dropped = False
                self.resync_all()

    async def _publish_batch(self, batch: list[Publication]) -> None:
        if isinstance(self._backend, ResilientRedisBackend):
            await self._backend.publish_many(batch)
            return
        for payload, channels in batch:
            await self.plugin.wait_published(payload, channels)

    def start(self) -> None:
        self._publisher.start()

    async def stop(self) -> None:
        await self._publisher.stop()
        if isinstance(self._backend, ResilientRedisBackend):
            await self._backend.close_publisher()

    # --- subscribing --------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def subscription(
        self, user_id: uuid.UUID, on_overflow: Callable[[], None],
        on_pressure: Callable[[], None] | None = None,
        on_item: Callable[[], None] | None = None,
    ) -> AsyncIterator[ConnectionSubscriber]:
        """A bounded subscription to one user's channel for one connection; `on_item` is
        called (synchronously) whenever a payload is queued.

        Subscribe and unsubscribe are serialized: a subscribe racing an unsubscribe of the same
        channel could otherwise drop the backend subscription (litestar issue 4894).
        """
        channel = user_channel(user_id)
        async with self._lock:
            subscriber = await self.plugin.subscribe(channel)
        assert isinstance(subscriber, ConnectionSubscriber)
        subscriber.on_overflow = on_overflow
        subscriber.on_pressure = on_pressure
        subscriber.on_item = on_item
        subscriber.pressure_at = max(1, self._queue_limit // 2)
        self._subscribers.add(subscriber)
        try:
            yield subscriber
        finally:
            self._subscribers.discard(subscriber)
            async with self._lock:
                await self.plugin.unsubscribe(subscriber, channel)

    def resync_all(self) -> None:
        """Tell every local connection to check storage for what the bus may have lost."""
        for subscriber in list(self._subscribers):
            subscriber.put_nowait(RESYNC)


_current: Bus | None = None


def install(bus: Bus) -> None:
    global _current
    _current = bus


def current() -> Bus:
    assert _current is not None, "the bus starts with the app"
    return _current
