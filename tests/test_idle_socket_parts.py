"""The small objects an idle socket keeps instead of asyncio's queues and events
(bench/RESULTS.md, "Memory per idle socket"): they must behave like what they replace.

The sockets themselves are covered end to end by test_realtime, test_bus_faults and the others;
these pin the edge cases a socket rarely hits: readers cancelled while waiting, several writers
held back by flow control, a subscriber that fills up or is unsubscribed while read.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

from server.bus import ConnectionSubscriber
from server.ws.protocol import _Flag, _Inbox


async def test_the_inbox_hands_events_to_readers_in_order_and_holds_nothing_when_idle(
) -> None:
    inbox = _Inbox()
    assert inbox.empty() and inbox._items is None and inbox._getters is None
    inbox.put_nowait("connect")
    inbox.put_nowait("receive 1")
    assert [await inbox.get(), await inbox.get()] == ["connect", "receive 1"]
    assert inbox.empty() and inbox._items is None

    first = asyncio.create_task(inbox.get())
    second = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait("a")
    inbox.put_nowait("b")
    assert [await first, await second] == ["a", "b"]
    assert inbox._getters is None and inbox._items is None


async def test_a_reader_cancelled_while_woken_passes_the_event_on() -> None:
    inbox = _Inbox()
    leaving = asyncio.create_task(inbox.get())
    staying = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait("disconnect")  # wakes `leaving`, which is cancelled before it runs
    leaving.cancel()
    assert await staying == "disconnect"
    assert leaving.cancelled()
    assert inbox.empty() and inbox._getters is None


async def test_held_back_writers_all_go_once_the_socket_drains_and_a_cancelled_one_does_not_stop_them(  # noqa: E501
) -> None:
    writable = _Flag()
    writable.set()
    assert await writable.wait() is True  # no wait while writable
    writable.clear()
    done: list[str] = []

    async def writer(name: str) -> None:
        await writable.wait()
        done.append(name)

    tasks = [asyncio.create_task(writer(n)) for n in ("a", "b", "c")]
    await asyncio.sleep(0)
    tasks[1].cancel()
    await asyncio.sleep(0)
    assert done == []
    writable.set()
    await asyncio.gather(tasks[0], tasks[2])
    assert sorted(done) == ["a", "c"] and tasks[1].cancelled()
    assert writable._waiter is None


def _subscriber(limit: int) -> tuple[ConnectionSubscriber, list[str]]:
    plugin = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    subscriber = ConnectionSubscriber(plugin, max_backlog=limit)
    calls: list[str] = []
    subscriber.on_item = lambda: calls.append("item")
    subscriber.on_overflow = lambda: calls.append("overflow")
    subscriber.on_pressure = lambda: calls.append("pressure")
    subscriber.pressure_at = limit // 2
    return subscriber, calls


async def test_a_subscriber_presses_at_half_full_and_reports_overflow_instead_of_dropping(
) -> None:
    subscriber, calls = _subscriber(limit=4)
    assert subscriber._items is None and subscriber.qsize == 0
    accepted = [subscriber.put_nowait(f"e{i}".encode()) for i in range(5)]
    assert accepted == [True, True, True, True, False]
    assert calls == ["item", "pressure", "item", "pressure", "item", "pressure", "item",
                     "overflow"]
    assert [subscriber.pop() for _ in range(5)] == [b"e0", b"e1", b"e2", b"e3", None]
    assert subscriber._items is None  # an idle subscriber keeps no deque


async def test_a_subscriber_read_as_a_stream_ends_when_unsubscribed() -> None:
    subscriber, _ = _subscriber(limit=10)
    got: list[Any] = []

    async def read() -> None:
        async for item in subscriber.iter_events():
            got.append(item)

    reading = asyncio.create_task(read())
    subscriber.put_nowait(b"one")
    await asyncio.sleep(0)
    subscriber.put_nowait(b"two")
    await subscriber.put(None)  # what ChannelsPlugin.unsubscribe sends
    await asyncio.wait_for(reading, 1)
    assert got == [b"one"]  # what was still queued is dropped, as before
    assert subscriber.put_nowait(b"late") is False


class _Transport(asyncio.Transport):
    """Records what the protocol asks of its socket."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses = 0
        self.resumes = 0
        self.written = bytearray()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000),
                "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        self.pauses += 1

    def resume_reading(self) -> None:
        self.resumes += 1

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass


def _lean_socket(app: Any) -> tuple[Any, _Transport, Any]:
    """Our uvicorn protocol on a recording transport, and a websockets client to talk to it."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState
    from websockets.client import ClientProtocol
    from websockets.uri import parse_uri

    from server.ws.protocol import LeanWebSocketsProtocol

    config = Config(app=app, ws="none", lifespan="off", log_level="warning")
    config.load()
    server = LeanWebSocketsProtocol(config=config, server_state=ServerState(), app_state={})
    transport = _Transport()
    server.connection_made(transport)
    client = ClientProtocol(parse_uri("ws://127.0.0.1:8000/ws"))
    client.send_request(client.connect())
    return server, transport, client


async def test_a_socket_keeps_reading_until_eight_messages_wait_then_stops_until_they_are_taken(
) -> None:
    from server.ws.protocol import INBOX_HIGH_WATER

    taking = asyncio.Event()
    taken: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await taking.wait()
        while len(taken) < 20:
            taken.append((await receive())["text"])

    server, transport, client = _lean_socket(app)
    server.data_received(b"".join(client.data_to_send()))
    for _ in range(20):
        await asyncio.sleep(0)
    client.receive_data(bytes(transport.written))
    assert client.state.name == "OPEN"

    for i in range(INBOX_HIGH_WATER - 1):  # the app is busy: messages wait, reading goes on
        client.send_text(f"m{i}".encode())
        server.data_received(b"".join(client.data_to_send()))
    assert (transport.pauses, server.queue.qsize()) == (0, INBOX_HIGH_WATER - 1)
    for i in range(INBOX_HIGH_WATER - 1, 20):  # the eighth stops reading (once)
        client.send_text(f"m{i}".encode())
        server.data_received(b"".join(client.data_to_send()))
    assert transport.pauses == 1 and transport.resumes == 0

    taking.set()
    for _ in range(100):
        await asyncio.sleep(0)
    assert taken == [f"m{i}" for i in range(20)]
    assert transport.resumes == 1 and not server.read_paused
    server.connection_lost(None)


async def test_frames_written_directly_reach_the_client_and_wait_their_turn_when_it_reads_slowly(
) -> None:
    from websockets.frames import Opcode

    from server.ws.protocol import DIRECT_TEXT

    accepted = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        accepted.set()
        await receive()

    server, transport, client = _lean_socket(app)
    assert not server.send_text_now(b"{}")  # no handshake yet
    server.data_received(b"".join(client.data_to_send()))
    await accepted.wait()
    assert server.scope["extensions"][DIRECT_TEXT] is server

    assert server.send_text_now('{"body":"héllo"}'.encode())
    server.pause_writing()  # the client reads slowly: the ASGI send must wait instead
    assert not server.send_text_now(b'{"body":"later"}')
    server.resume_writing()
    client.receive_data(bytes(transport.written))
    frames = [e for e in client.events_received() if getattr(e, "opcode", None) == Opcode.TEXT]
    assert [f.data.decode() for f in frames] == ['{"body":"héllo"}']

    server.connection_lost(None)
    assert not server.send_text_now(b"{}")
    assert DIRECT_TEXT not in server.scope["extensions"]
