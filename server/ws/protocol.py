"""uvicorn's websockets-sansio protocol, lighter per idle socket (bench/RESULTS.md, "Memory per
idle socket").

What each open socket kept for its whole life in the stock protocol, and what is kept here:

- the handshake's request and response headers (websockets `Headers`, ~4 kB with their
  strings): the ASGI scope has its own copy, and nothing reads these after the handshake, so
  they are emptied once it is done (the request object itself stays referenced by websockets'
  parser, which is why it is emptied rather than dropped);
- an `asyncio.Queue` for ASGI receive events (three deques and an Event, ~2.3 kB): an `_Inbox`
  whose deque exists only while events wait (the one waiting reader sits in a small list);
- an `asyncio.Event` for write flow control (a deque, ~0.8 kB): a `_Flag` that makes its
  future only when a writer has to wait.

And one change of flow control: uvicorn stops reading a socket after every received message
until the app takes it (two epoll_ctl calls and selector bookkeeping per message, 7 % of the
loop at 800 msg/s); here reading stops only once `INBOX_HIGH_WATER` messages wait, so memory
per socket stays bounded and a busy socket still pushes back on its sender.

And one shortcut: the app may write a text frame of bytes it already encoded straight to the
socket (`send_text_now`, offered in the scope's extensions) instead of through the ASGI send,
whose layers and bytes -> str -> bytes copy were a quarter of delivering an event; when the frame
cannot go at once (a slow reader, a close under way) it is refused, and the app uses the ASGI
send, which waits or raises as uvicorn's does.

Otherwise behaviour is uvicorn's: same frames, same close handshake. The stock
protocol stays selectable (`uvicorn --ws websockets-sansio`, `python -m bench.sockmem --ws`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Protocol

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.http11 import Request


class _Inbox:
    """The part of `asyncio.Queue` uvicorn uses (put_nowait, get, empty), unbounded, FIFO for
    items and for waiting readers, with no container allocated while idle but for one
    waiting reader's future (in a one-item list)."""

    __slots__ = ("_getters", "_items")

    def __init__(self) -> None:
        self._items: deque[Any] | None = None
        # A list, not a deque: one reader waits all the time (a deque allocates 760 bytes).
        self._getters: list[asyncio.Future[None]] | None = None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        self._wake_one()

    def _wake_one(self) -> None:
        getters = self._getters
        while getters:
            getter = getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                break
        if getters is not None and not getters:
            self._getters = None

    async def get(self) -> Any:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = []
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                if self._getters is not None:
                    try:
                        self._getters.remove(getter)
                    except ValueError:
                        pass
                    if not self._getters:
                        self._getters = None
                if self._items and not getter.cancelled():
                    self._wake_one()  # it was woken for an item it will not take
                raise
        items = self._items
        assert items is not None
        item = items.popleft()
        if not items:
            self._items = None
        return item


class _Flag:
    """The part of `asyncio.Event` uvicorn uses (set, clear, is_set, wait)."""

    __slots__ = ("_set", "_waiter")

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        while not self._set:
            if self._waiter is None or self._waiter.done():
                self._waiter = asyncio.get_running_loop().create_future()
            # Shielded: one writer's cancellation must not wake, or fail, the others.
            await asyncio.shield(self._waiter)
        return True


# Received messages a socket may hold before it stops reading (uvicorn: 1).
INBOX_HIGH_WATER = 8
# The scope extension under which the protocol offers `send_text_now` to the app.
DIRECT_TEXT = "carethread.direct_text"


class DirectText(Protocol):
    """What `server/ws/connection.py` asks of the socket's protocol."""

    def send_text_now(self, data: bytes) -> bool: ...


class LeanWebSocketsProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Flag()  # type: ignore[assignment]
        self.writable.set()

    def send_receive_event_to_app(self) -> None:
        if self.read_paused or self.queue.qsize() + 1 >= INBOX_HIGH_WATER:
            super().send_receive_event_to_app()  # queues, and stops reading
            return
        self.read_paused = True  # queues without stopping: uvicorn pauses unless paused
        try:
            super().send_receive_event_to_app()
        finally:
            self.read_paused = False

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The scope holds its own (bytes) copy of the headers now.
        event.headers.clear()
        extensions = getattr(self, "scope", {}).get("extensions")
        if extensions is not None:
            extensions[DIRECT_TEXT] = self

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        # The scope outlives the socket in the app's frames: no cycle back to the protocol.
        extensions = getattr(self, "scope", {}).get("extensions")
        if extensions is not None:
            extensions.pop(DIRECT_TEXT, None)

    def send_text_now(self, data: bytes) -> bool:
        """Write a text frame of UTF-8 `data` now, as uvicorn's `websocket.send` does, without
        an ASGI message and the str round trip. False when it cannot go at once (the peer reads
        slowly, the handshake or the close is under way, the socket is gone): the caller then
        uses the ASGI send, which waits or raises as it should."""
        if (not self.writable.is_set() or self.disconnected or not self.handshake_complete
                or self.close_sent or self.initial_response is not None
                or self.transport.is_closing()):
            return False
        try:
            self.conn.send_text(data)
        except InvalidState:
            return False
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True

    async def send(self, message: Any) -> None:
        accepting = not self.handshake_complete and message["type"] == "websocket.accept"
        await super().send(message)
        if accepting and self.handshake_complete:
            self.response.headers.clear()  # serialized and sent
