"""An event that reaches a socket past a gap waits a moment for the missing one, which another
process usually published a little later; storage is asked only when the gap stays open.

End to end, test_bus_faults shows every seq still arrives once and in order when the bus drops
and reorders; these pin what that cannot see from outside: a reordered pair costs no query.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

from server import bus, uow
from server.events import EventRecord
from server.identity import Identity
from server.threads import service as threads
from server.ws import connection as ws_connection
from server.ws.connection import Connection

THREAD = uuid.uuid4()
NOW = datetime.now(UTC)


class _Socket:
    scope: dict[str, Any] = {}

    def __init__(self) -> None:
        self.seqs: list[int] = []

    async def send_text(self, text: str) -> None:
        self.seqs.append(json.loads(text)["event"]["seq"])


class _Storage:
    """`events_after`, answered from a list of stored seqs, counting the questions."""

    def __init__(self, stored: list[int]) -> None:
        self.stored = stored  # the seqs this user sees
        self.head: int | None = None  # the thread's last seq, when it is one the user does not see
        self.asked: list[dict[uuid.UUID, int]] = []

    async def events_after(self, user_id: uuid.UUID, cursors: dict[uuid.UUID, int],
                           staff: bool = True) -> threads.Missed:
        self.asked.append(dict(cursors))
        after = cursors[THREAD]
        head = max(self.stored, default=after) if self.head is None else self.head
        return threads.Missed([_event(seq) for seq in self.stored if seq > after],
                              {THREAD: after}, set(), {THREAD: head})


def _event(seq: int) -> EventRecord:
    return EventRecord(id=uuid.uuid4(), thread_id=THREAD, seq=seq, kind="message",
                       actor_id=None, created_at=NOW, body=f"message {seq}")


def _connection(cursor: int) -> tuple[Connection, _Socket, bus.ConnectionSubscriber]:
    socket = _Socket()
    identity = Identity(token_id=uuid.uuid4(), kind="session", user_id=uuid.uuid4(),
                        organization_id=uuid.uuid4(), account_id=None, role="client",
                        name="Client", expires_at=NOW + timedelta(days=1))
    runtime: Any = SimpleNamespace(settings=SimpleNamespace(ws_burst=10))
    conn = Connection(socket, identity, runtime)  # type: ignore[arg-type]
    plugin = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    subscriber = bus.ConnectionSubscriber(plugin)
    subscriber.on_item = conn._wake
    conn._subscriber = subscriber
    conn._delivering = conn._started = True
    conn.cursors = {THREAD: cursor}
    return conn, socket, subscriber


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> _Storage:
    store = _Storage([])
    monkeypatch.setattr(threads, "events_after", store.events_after)
    monkeypatch.setattr(ws_connection, "GAP_GRACE_SECONDS", 0.05)
    return store


async def _settle(seconds: float = 0.0) -> None:
    await asyncio.sleep(seconds)
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_reordered_pair_goes_out_in_order_without_asking_storage(
        storage: _Storage) -> None:
    conn, socket, subscriber = _connection(cursor=1)
    subscriber.put_nowait(bus.encode_event(_event(3)))
    await _settle()
    assert socket.seqs == []  # held: 2 is missing
    subscriber.put_nowait(bus.encode_event(_event(2)))
    await _settle()
    assert socket.seqs == [2, 3]
    await _settle(0.1)  # past the grace: nothing more happens
    assert socket.seqs == [2, 3] and storage.asked == [] and conn._held is None


async def test_a_gap_still_open_when_the_grace_ends_is_filled_from_storage_once(
        storage: _Storage) -> None:
    storage.stored = [2, 3, 4]
    conn, socket, subscriber = _connection(cursor=1)
    subscriber.put_nowait(bus.encode_event(_event(4)))
    subscriber.put_nowait(bus.encode_event(_event(2)))  # 3 was lost on the bus
    await _settle()
    assert socket.seqs == [2]
    await _settle(0.1)
    assert socket.seqs == [2, 3, 4]
    assert storage.asked == [{THREAD: 2}]
    subscriber.put_nowait(bus.encode_event(_event(3)))  # arrives late after all: dropped
    await _settle()
    assert socket.seqs == [2, 3, 4] and conn._held is None


async def test_a_sync_that_passes_the_held_events_leaves_nothing_held(
        storage: _Storage) -> None:
    storage.stored = [2, 3]
    conn, socket, subscriber = _connection(cursor=1)
    subscriber.put_nowait(bus.encode_event(_event(3)))
    await _settle()
    missed = await threads.events_after(conn.user_id, {THREAD: 1})
    async with conn.lock:
        await conn._deliver_stored(missed)
    assert socket.seqs == [2, 3] and conn._held is None
    await _settle(0.1)
    assert socket.seqs == [2, 3] and len(storage.asked) == 1


async def test_held_events_are_forgotten_when_the_connection_ends(storage: _Storage) -> None:
    conn, socket, subscriber = _connection(cursor=1)
    subscriber.put_nowait(bus.encode_event(_event(3)))
    await _settle()
    assert conn._held is not None
    held = conn._held[THREAD]
    await conn._stop_delivery()
    assert conn._held is None and held.timer.cancelled()
    await _settle(0.1)
    assert socket.seqs == [] and storage.asked == []


async def test_a_staff_only_events_seq_alone_moves_a_client_past_it_without_a_gap(
        storage: _Storage) -> None:
    note = EventRecord(id=uuid.uuid4(), thread_id=THREAD, seq=2, kind="message", actor_id=None,
                       created_at=NOW, body="staff note", audience="staff")
    conn, socket, subscriber = _connection(cursor=1)
    subscriber.put_nowait(bus.encode_skip(note))
    subscriber.put_nowait(bus.encode_event(_event(3)))
    await _settle()
    assert socket.seqs == [3] and conn.cursors[THREAD] == 3
    assert conn._held is None and storage.asked == []


async def test_after_storage_a_client_moves_past_the_staff_only_events_at_the_threads_end(
        storage: _Storage) -> None:
    storage.stored, storage.head = [2], 4  # 3 and 4 are staff notes this client never gets
    conn, socket, subscriber = _connection(cursor=1)
    subscriber.put_nowait(bus.encode_event(_event(3)))  # past a gap: held, then filled
    await _settle(0.1)
    assert socket.seqs == [2] and conn.cursors[THREAD] == 4
    subscriber.put_nowait(bus.encode_event(_event(5)))  # the next one goes out at once
    await _settle()
    assert socket.seqs == [2, 5] and conn._held is None and len(storage.asked) == 1


async def test_the_end_of_an_earlier_holds_grace_does_not_end_a_newer_ones(
        storage: _Storage) -> None:
    conn, socket, subscriber = _connection(cursor=1)
    subscriber.put_nowait(bus.encode_event(_event(3)))
    await _settle()
    assert conn._held is not None
    first = conn._held[THREAD].number
    subscriber.put_nowait(bus.encode_event(_event(2)))  # closes the first gap
    subscriber.put_nowait(bus.encode_event(_event(5)))  # opens another
    await _settle()
    assert socket.seqs == [2, 3] and conn._held is not None
    subscriber.put_nowait(bus.encode_gap(THREAD, first))  # the first timer's, late
    await _settle()
    assert storage.asked == [] and conn._held is not None
    subscriber.put_nowait(bus.encode_event(_event(4)))
    await _settle()
    assert socket.seqs == [2, 3, 4, 5] and conn._held is None and storage.asked == []


async def test_a_staff_only_event_goes_to_staff_and_its_seq_alone_to_everyone_else(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "event_observers", [])
    provider, client, admin = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    note = EventRecord(id=uuid.uuid4(), thread_id=THREAD, seq=7, kind="message", actor_id=None,
                       created_at=NOW, body="staff note", audience="staff")
    work = uow.UnitOfWork()
    work.events.append(note)
    work.thread_members[THREAD] = {provider: "provider", client: "client", admin: "admin"}
    await threads._publish_on_commit(work)
    assert work._payloads == [(bus.encode_event(note), [provider, admin]),
                              (bus.encode_skip(note), [client])]
    decoded = bus.decode(bus.encode_skip(note))
    assert isinstance(decoded, bus.BusEvent) and decoded.seq == 7 and decoded.frame == b""
