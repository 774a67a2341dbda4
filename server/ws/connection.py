"""One WebSocket connection: frames in, events out, in seq order, once, without gaps.

The connection keeps a cursor per thread: the last seq it delivered. An event from the bus is
sent only if it is the next one; a duplicate is dropped. An event past a gap is held for a
moment, as the missing one is usually just behind it (another process published it a little
later); if the gap is still open when `GAP_GRACE_SECONDS` end, it is filled from storage.
Cursor work and socket writes happen under one lock, so a `sync` replay and live events never
interleave out of order.

An idle socket is cheap (bench/RESULTS.md, "Memory per idle socket"): the connection reads in
the ASGI task that runs it, and a delivery task exists only while bus payloads wait (the bus
calls `_wake`); what most sockets never use (the lock's waiters, the typing throttle, the
"started" waiter) is created on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from typing import Any

import msgspec
from litestar import WebSocket

from server import bus as bus_module
from server.errors import AppError
from server.events import ack_frame, event_frame
from server.identity import Identity
from server.runtime import Runtime
from server.threads import service as threads
from server.ws import frames
from server.ws.protocol import DIRECT_TEXT, DirectText

log = logging.getLogger("carethread.ws")

TYPING_EVERY_SECONDS = 1.0
# How long an event past a gap waits for the missing one before storage is asked. Two workers'
# events of one thread can reach the bus out of order; filling each such gap at once cost a
# query per member (11 % of a worker's samples at 500 msg/s, bench/RESULTS.md).
# A gap is then either a loss on the bus (rare: publishing failed) or an overloaded process;
# a staff-only event is no gap for others, as they get its seq alone (`bus.encode_skip`).
GAP_GRACE_SECONDS = 0.5
ABUSE_FACTOR = 3  # rejected frames beyond this many bursts close the connection


class Connection:
    __slots__ = (
        "_cancelled_reader",
        "_delivering",
        "_direct",
        "_drainer",
        "_grace_ends",
        "_held",
        "_reader",
        "_start_waiter",
        "_started",
        "_stopping",
        "_subscriber",
        "close_code",
        "close_reason",
        "cursors",
        "first_sent",
        "identity",
        "last_sent",
        "lock",
        "refilled",
        "rejected",
        "runtime",
        "settings",
        "socket",
        "staff",
        "tokens",
        "typing_sent",
        "user_id",
    )

    def __init__(self, socket: WebSocket[Any, Any, Any], identity: Identity, runtime: Runtime
                 ) -> None:
        self.socket = socket
        # Our uvicorn protocol, when it serves the socket: frames are written to it directly.
        extensions: dict[str, Any] = socket.scope.get("extensions") or {}
        self._direct: DirectText | None = extensions.get(DIRECT_TEXT)
        self.identity = identity
        self.runtime = runtime
        self.settings = runtime.settings
        self.user_id = identity.user_id
        self.staff = threads.sees_staff_events(identity)
        self.cursors: dict[uuid.UUID, int] = {}
        self.lock = asyncio.Lock()  # its waiters' deque is made on first contention
        self.close_code: int | None = None
        self.close_reason = ""
        self.tokens = float(self.settings.ws_burst)
        self.refilled = time.monotonic()
        self.rejected = 0
        self.typing_sent: dict[uuid.UUID, float] | None = None
        # What this connection actually sent per thread (kept after it forgets a thread).
        self.first_sent: dict[uuid.UUID, int] = {}
        self.last_sent: dict[uuid.UUID, int] = {}
        self._subscriber: bus_module.ConnectionSubscriber | None = None
        self._reader: asyncio.Task[Any] | None = None  # the task reading frames, while it does
        self._stopping = False  # close_soon stopped the reading
        self._cancelled_reader = False  # ... by cancelling its task
        self._drainer: asyncio.Task[None] | None = None  # delivers waiting payloads, then ends
        self._delivering = False  # after `ready`: payloads may go out
        # Live delivery waits for the client's first frame (or a short grace), so that a
        # reconnecting client's `sync` comes before any live event: otherwise its replay could
        # only arrive after later events, out of order.
        self._started = False
        self._start_waiter: asyncio.Future[None] | None = None
        self._grace_ends = 0.0
        # Events past a gap, per thread, while the gap is open (None on most sockets).
        self._held: dict[uuid.UUID, _Held] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def run(self) -> None:
        bus = bus_module.current()
        async with bus.subscription(self.user_id, self._on_overflow, on_pressure=self._start,
                                    on_item=self._wake) as subscriber:
            self._subscriber = subscriber
            self.cursors = await threads.open_cursors(self.user_id)
            await self.write({"type": "ready", "user_id": str(self.user_id)})
            self._grace_ends = time.monotonic() + self.settings.ws_sync_grace_seconds
            if self.close_code is None:
                self._delivering = True
                self._wake()  # what arrived before `ready` waited
            # Expiry and revocations no bus message announced: the process's batch watch.
            unwatch = self.runtime.sessions.watch(self.identity, self._session_ended)
            try:
                if self.close_code is None:
                    await self._read_until_stopped()
            finally:
                unwatch()
                self._delivering = False
                await self._stop_delivery()
        if self.close_code is not None:
            with contextlib.suppress(Exception):
                await self.socket.close(code=self.close_code, reason=self.close_reason)

    async def _read_until_stopped(self) -> None:
        """Read frames in this task until the client leaves or `close_soon` cancels it."""
        task = asyncio.current_task()
        assert task is not None
        self._reader = task
        try:
            while True:
                message = await self.socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                raw: Any = message.get("text") or message.get("bytes") or b""
                await self._handle(raw)
                if self._stopping:  # the frame itself ended the connection
                    return
                self._start()
        except asyncio.CancelledError:
            # Ours (close_soon) ends the reading; anyone else's (shutdown) goes on up.
            if not self._cancelled_reader or task.uncancel() > 0:
                raise
        except Exception as exc:
            if not _is_disconnect(exc):
                log.error("connection task failed", exc_info=exc)
        finally:
            self._reader = None

    async def _stop_delivery(self) -> None:
        while self._held is not None:
            self._forget_held(next(iter(self._held)))
        drainer = self._drainer
        if drainer is None:
            return
        drainer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drainer

    def close_soon(self, code: int, reason: str) -> None:
        """End the connection from anywhere: reading and delivery stop, then the socket
        closes."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self._stop()

    def _stop(self) -> None:
        """Stop reading (the connection then ends) and delivering."""
        self._delivering = False
        reader = self._reader
        if reader is not None and not self._stopping:
            self._stopping = True
            if reader is not asyncio.current_task():
                self._cancelled_reader = True
                reader.cancel()  # it waits somewhere: the cancellation lands there
            # else a frame being handled ended the connection: the loop stops after it (a
            # task cancelling itself could see the cancellation land past its reading)
        drainer = self._drainer
        if drainer is not None and drainer is not asyncio.current_task():
            drainer.cancel()

    def _on_overflow(self) -> None:
        log.info("closing slow connection of %s", self.user_id)
        self.close_soon(frames.CLOSE_TOO_SLOW, "too far behind; reconnect and sync")

    def _session_ended(self) -> None:
        self.close_soon(frames.CLOSE_UNAUTHENTICATED, "session ended")

    def _start(self) -> None:
        """The client spoke (or the queue fills up): live delivery need not wait any more."""
        if not self._started:
            self._started = True
            waiter = self._start_waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    # --- writing --------------------------------------------------------------------------

    async def write(self, frame: dict[str, Any]) -> None:
        await self.write_raw(frames.encode(frame))

    async def write_raw(self, data: bytes) -> None:
        """A text frame of encoded JSON. Straight to the socket when it can go at once (the
        ASGI send's layers and the bytes -> str -> bytes copy were a quarter of delivering);
        through the ASGI send otherwise, which waits for a slow reader or raises if gone."""
        direct = self._direct
        if direct is None or not direct.send_text_now(data):
            await self.socket.send_text(data.decode())

    async def error(self, code: str, detail: str, **extra: Any) -> None:
        frame = {"type": "error", "code": code, "detail": detail}
        frame.update({k: v for k, v in extra.items() if v is not None})
        async with self.lock:
            await self.write(frame)

    # --- reading --------------------------------------------------------------------------

    def _take_token(self) -> bool:
        now = time.monotonic()
        rate, burst = self.settings.ws_messages_per_second, self.settings.ws_burst
        self.tokens = min(burst, self.tokens + (now - self.refilled) * rate)
        self.refilled = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.rejected = 0
            return True
        self.rejected += 1
        if self.rejected > ABUSE_FACTOR * burst:
            self.close_soon(frames.CLOSE_ABUSE, "far over the frame rate")
        return False

    async def _handle(self, raw: str | bytes) -> None:
        try:
            frame = frames.decode_frame(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            await self.error("invalid_frame", f"Bad frame: {exc}",
                             client_id=frames.client_id_of(raw))
            return
        if not isinstance(frame, frames.Ping) and not self._take_token():
            await self.error("rate_limited", "Too many frames; slow down.",
                             client_id=getattr(frame, "client_id", None))
            return
        try:
            if isinstance(frame, frames.Send):
                await self._send(frame)
            elif isinstance(frame, frames.Sync):
                await self._sync(frame)
            elif isinstance(frame, frames.Typing):
                await self._typing(frame)
            elif isinstance(frame, frames.Read):
                await self._read(frame)
            else:
                async with self.lock:
                    await self.write({"type": "pong"})
        except AppError as exc:
            await self.error(exc.code, exc.detail, **self._about(frame))
        except Exception:
            # A fault of ours must not end the connection: the client may retry the frame.
            log.exception("frame %s failed for %s", type(frame).__name__, self.user_id)
            await self.error("internal_error", "That did not work; try again.",
                             **self._about(frame))

    @staticmethod
    def _about(frame: Any) -> dict[str, Any]:
        extra: dict[str, Any] = {"client_id": getattr(frame, "client_id", None)}
        if hasattr(frame, "thread_id"):
            extra["thread_id"] = str(frame.thread_id)
        return extra

    async def _send(self, frame: frames.Send) -> None:
        event, _ = await threads.post_message(
            self.identity, frame.thread_id, body=frame.body, client_id=frame.client_id,
            max_length=self.settings.max_message_length, reply_to=frame.reply_to,
            attachments=frame.attachments,
        )
        async with self.lock:
            await self.write_raw(ack_frame(frame.client_id, event))

    async def _sync(self, frame: frames.Sync) -> None:
        async with self.lock:
            behind = [t for t, seq in frame.cursors.items()
                      if t in self.first_sent and seq < self.first_sent[t] - 1]
            if behind:
                # Replaying below what this connection already sent would break seq order.
                self.close_soon(frames.CLOSE_SYNC_LATE, "sync came after live events; "
                                "reconnect and send sync first")
                return
            missed = await threads.events_after(self.user_id, frame.cursors, self.staff)
            for tid in frame.cursors:
                if tid not in missed.starts:
                    await self.write({"type": "error", "code": "not_found",
                                      "detail": "No such thread.", "thread_id": str(tid)})
            self.cursors.update(missed.starts)
            await self._deliver_stored(missed)
            await self.write({"type": "synced"})

    async def _typing(self, frame: frames.Typing) -> None:
        now = time.monotonic()
        if self.typing_sent is None:
            self.typing_sent = {}
        if now - self.typing_sent.get(frame.thread_id, 0.0) < TYPING_EVERY_SECONDS:
            return
        self.typing_sent[frame.thread_id] = now
        others = await threads.other_members(self.identity, frame.thread_id)
        threads.publish_signal(
            {"type": "typing", "thread_id": str(frame.thread_id), "user_id": str(self.user_id)},
            others,
        )

    async def _read(self, frame: frames.Read) -> None:
        position, others = await threads.mark_read(self.identity, frame.thread_id, frame.seq)
        threads.publish_signal(
            {"type": "read", "thread_id": str(frame.thread_id), "user_id": str(self.user_id),
             "seq": position},
            [*others, self.user_id],
        )

    # --- delivering -----------------------------------------------------------------------

    def _wake(self) -> None:
        """A bus payload is waiting: deliver it (and what follows) in a task of its own."""
        if self._delivering and self._drainer is None and self._subscriber is not None \
                and self._subscriber.qsize:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        """Deliver waiting payloads in order, then end (the next payload starts another)."""
        subscriber = self._subscriber
        assert subscriber is not None
        try:
            while (payload := subscriber.pop()) is not None:
                if not await self._deliver(payload):
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # as before the rework: a failed delivery ends the connection
            if not _is_disconnect(exc):
                log.error("connection task failed", exc_info=exc)
            self._stop()
        finally:
            self._drainer = None

    async def _deliver(self, payload: bytes) -> bool:
        """One bus payload; False when the connection must end."""
        message = bus_module.decode(payload)
        if isinstance(message, bus_module.BusEvent):
            if not self._started:
                await self._wait_started()
            async with self.lock:
                await self._deliver_live(message)
        elif isinstance(message, bus_module.BusSignal):
            async with self.lock:
                await self.write_raw(message.frame)
        elif isinstance(message, bus_module.BusClose):
            if message.token_id in ("*", str(self.identity.token_id)):
                self.close_soon(frames.CLOSE_UNAUTHENTICATED, "session ended")
                return False
        elif isinstance(message, bus_module.BusGap):
            async with self.lock:
                await self._gap_grace_ended(message.thread_id, message.hold)
        else:
            async with self.lock:
                await self._resync()
        return True

    async def _wait_started(self) -> None:
        """Until the client's first frame, or the grace after `ready` ends."""
        remaining = self._grace_ends - time.monotonic()
        if remaining <= 0:
            return
        self._start_waiter = waiter = asyncio.get_running_loop().create_future()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, remaining)
        finally:
            self._start_waiter = None

    async def _deliver_live(self, message: bus_module.BusEvent) -> None:
        thread_id, seq = message.thread_id, message.seq
        cursor = self.cursors.get(thread_id)
        if cursor is None:
            cursor = await threads.join_cursor(self.user_id, thread_id)
            if cursor is None:
                return  # not (or no longer) a member
            self.cursors[thread_id] = cursor
        if seq <= cursor:
            return  # already delivered
        if seq > cursor + 1:
            self._hold(message)
            return
        await self._send_live(message)
        if self._held is not None and thread_id in self._held:
            await self._release_held(thread_id)

    async def _send_live(self, message: bus_module.BusEvent) -> None:
        """The next event of its thread; the connection forgets a thread it was removed from."""
        await self._send_event(message.thread_id, message.seq, message.frame)
        if message.removed_user_id == self.user_id:
            self.cursors.pop(message.thread_id, None)

    def _hold(self, message: bus_module.BusEvent) -> None:
        """Keep an event past a gap; when the grace ends, a gap payload queued behind the
        others makes the delivery task fill what is still missing."""
        if self._held is None:
            self._held = {}
        held = self._held.get(message.thread_id)
        if held is None:
            subscriber = self._subscriber
            assert subscriber is not None
            number = next(_hold_numbers)
            timer = asyncio.get_running_loop().call_later(
                GAP_GRACE_SECONDS, subscriber.put_nowait,
                bus_module.encode_gap(message.thread_id, number))
            held = self._held[message.thread_id] = _Held(timer, number)
        held.events.setdefault(message.seq, message)

    async def _release_held(self, thread_id: uuid.UUID) -> bool:
        """Send the held events that now follow the cursor; True if a gap is still open."""
        assert self._held is not None
        held = self._held[thread_id]
        while (cursor := self.cursors.get(thread_id)) is not None:
            event = held.events.pop(cursor + 1, None)
            if event is None:
                break
            await self._send_live(event)
        cursor = self.cursors.get(thread_id)
        if cursor is not None and any(seq > cursor for seq in held.events):
            return True
        self._forget_held(thread_id)
        return False

    def _forget_held(self, thread_id: uuid.UUID) -> None:
        assert self._held is not None
        self._held.pop(thread_id).timer.cancel()
        if not self._held:
            self._held = None

    async def _gap_grace_ended(self, thread_id: uuid.UUID, number: int) -> None:
        held = self._held.get(thread_id) if self._held is not None else None
        if held is None or held.number != number:
            return  # closed meanwhile, or the end of an earlier hold's grace: this one's comes
        if await self._release_held(thread_id):
            self._forget_held(thread_id)
            await self._fill(thread_id)  # storage has the held events too

    async def _fill(self, thread_id: uuid.UUID) -> None:
        """The bus skipped something: send what storage has after the cursor."""
        missed = await threads.events_after(
            self.user_id, {thread_id: self.cursors[thread_id]}, self.staff
        )
        if thread_id not in missed.starts:
            self.cursors.pop(thread_id, None)
            return
        await self._deliver_stored(missed)

    async def _resync(self) -> None:
        """After a bus outage: every open thread, including ones joined meanwhile."""
        for thread_id in await threads.open_cursors(self.user_id):
            self.cursors.setdefault(thread_id, 0)
        missed = await threads.events_after(self.user_id, dict(self.cursors), self.staff)
        for thread_id in list(self.cursors):
            if thread_id not in missed.starts:
                del self.cursors[thread_id]
        await self._deliver_stored(missed)

    async def _deliver_stored(self, missed: threads.Missed) -> None:
        for event in missed.events:
            thread_id, seq = event.thread_id, event.seq
            if seq <= max(self.cursors.get(thread_id, 0), self.last_sent.get(thread_id, 0)):
                continue
            await self._send_event(thread_id, seq, event_frame(event))
        for thread_id, head in missed.heads.items():  # past what this user does not see
            if self.cursors.get(thread_id, head) < head:
                self.cursors[thread_id] = head
        for thread_id in missed.closed:
            self.cursors.pop(thread_id, None)
        if self._held is not None:  # what storage sent may close held gaps, or pass them
            for thread_id in list(self._held):
                await self._release_held(thread_id)

    async def _send_event(self, thread_id: uuid.UUID, seq: int, frame: bytes) -> None:
        if not frame:  # a seq this user does not see: only move past it
            self.cursors[thread_id] = seq
            return
        await self.write_raw(frame)
        self.cursors[thread_id] = seq
        self.first_sent.setdefault(thread_id, seq)
        self.last_sent[thread_id] = seq


_hold_numbers = itertools.count()


class _Held:
    """Events of one thread that arrived past a gap, by seq, and the end of their grace."""

    __slots__ = ("events", "number", "timer")

    def __init__(self, timer: asyncio.TimerHandle, number: int) -> None:
        self.timer = timer
        self.number = number
        self.events: dict[int, bus_module.BusEvent] = {}


def _is_disconnect(exc: BaseException) -> bool:
    name = type(exc).__name__
    return name in {"WebSocketDisconnect", "ConnectionClosed", "ConnectionClosedOK",
                    "ConnectionClosedError", "ClientDisconnected"} or isinstance(exc, OSError)
