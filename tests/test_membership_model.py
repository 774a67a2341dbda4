"""A model of membership windows, checked by hypothesis against a real server.

Members of one practice join and leave a thread, send over WebSocket and HTTP, drop their
connection and come back with a `sync` from the last event they saw. The model knows each
member's windows from the events the API calls returned; every member must see exactly the
thread's events inside its windows, in increasing seq, once, across all its connections.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import Server, app_client
from tests.helpers import Person, all_events, invite_staff, new_practice, say
from tests.mailbox import Mailbox
from tests.wsclient import Socket

PROVIDERS = 3
SETTLE_SECONDS = 3.0  # for what should arrive within milliseconds
QUIET_SECONDS = 0.2
COMPARED = ("id", "thread_id", "seq", "kind", "actor_id", "body", "data", "client_id")

T = TypeVar("T")


@dataclass
class World:
    """What lives for the whole test: the loop, the client and the practice's people."""

    loop: asyncio.AbstractEventLoop
    http: httpx.AsyncClient
    server: Server
    people: list[Person]  # the owner first, then the providers


@dataclass
class Member:
    """One person as the model sees them in the example's thread."""

    name: str
    person: Person
    windows: list[list[int | None]] = field(default_factory=list)  # [start, end or None]
    socket: Socket | None = None
    closed: list[Socket] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)

    @property
    def sockets(self) -> list[Socket]:
        return self.closed + ([self.socket] if self.socket else [])

    @property
    def inside(self) -> bool:
        return bool(self.windows) and self.windows[-1][1] is None

    def expected(self, last_seq: int) -> list[int]:
        return [s for s in range(1, last_seq + 1)
                if any(a is not None and a <= s and (b is None or s <= b)
                       for a, b in self.windows)]

    def seen(self, tid: str) -> list[int]:
        return [seq for sock in self.sockets for seq in sock.seqs(tid)]


def compared(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event.get(k) for k in COMPARED}


class MembershipMachine(RuleBasedStateMachine):
    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        self.tid = ""
        self.log: dict[int, dict[str, Any]] = {}
        self.members = [Member("owner" if i == 0 else f"provider{i}", p)
                        for i, p in enumerate(self.world.people)]
        self.owner = self.members[0]
        self.broken = False

    # --- plumbing ----------------------------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            return self.world.loop.run_until_complete(coro)
        except BaseException:
            self.broken = True
            raise

    @property
    def http(self) -> httpx.AsyncClient:
        return self.world.http

    @property
    def last_seq(self) -> int:
        return max(self.log, default=0)

    def record(self, event: dict[str, Any], kind: str) -> int:
        assert event["thread_id"] == self.tid and event["kind"] == kind, event
        assert event["seq"] == self.last_seq + 1, (event, self.last_seq)
        self.log[event["seq"]] = event
        return int(event["seq"])

    def draw(self, data: st.DataObject, among: list[Member], label: str) -> Member:
        """One of `among`, drawn by name so that failing examples read well."""
        name = data.draw(st.sampled_from([m.name for m in among]), label=label)
        return next(m for m in among if m.name == name)

    def providers(self, inside: bool) -> list[Member]:
        return [m for m in self.members[1:] if m.inside == inside]

    def connected(self) -> list[Member]:
        return [m for m in self.members if m.socket]

    def disconnected(self) -> list[Member]:
        return [m for m in self.members if not m.socket]

    async def connect(self, m: Member) -> None:
        m.socket = await Socket.ready(self.world.server.ws_url, m.person.token)

    async def settle(self) -> None:
        """Every connected member has received its last event in the thread."""
        await asyncio.gather(*(self.catch_up(m) for m in self.connected()))

    async def catch_up(self, m: Member) -> None:
        want = m.expected(self.last_seq)
        if not want or want[-1] in m.seen(self.tid):
            return
        assert m.socket is not None
        target, tid = want[-1], self.tid
        try:
            await m.socket.until(lambda f: f["type"] == "event" and f["event"]["thread_id"]
                                 == tid and f["event"]["seq"] >= target, wait=SETTLE_SECONDS)
        except TimeoutError:
            raise AssertionError(
                f"{m.name} never received seq {target}: saw {m.seen(tid)}, windows "
                f"{m.windows}, log {self.describe()}") from None

    def describe(self) -> str:
        return " ".join(f"{s}:{e['kind']}" for s, e in sorted(self.log.items()))

    def check(self, m: Member, complete: bool) -> None:
        """What m saw: in order per connection, in its windows, the stored events, no repeats."""
        want = m.expected(self.last_seq)
        context = f"{m.name}: windows {m.windows}, log {self.describe()}"
        for sock in m.sockets:
            seqs = sock.seqs(self.tid)
            assert seqs == sorted(set(seqs)), f"one connection got {seqs}; {context}"
            for event in sock.events(self.tid):
                assert event["seq"] in self.log, f"unknown event {event}; {context}"
                assert compared(event) == compared(self.log[event["seq"]]), context
        seen = m.seen(self.tid)
        if complete:
            assert seen == want, f"saw {seen}, expected {want}; {context}"
        else:
            assert seen == want[:len(seen)], f"saw {seen}, expected a prefix of {want}; {context}"

    # --- the example's thread ----------------------------------------------------------

    @initialize(
        initial=st.lists(st.booleans(), min_size=PROVIDERS, max_size=PROVIDERS),
        online=st.lists(st.booleans(), min_size=PROVIDERS + 1, max_size=PROVIDERS + 1),
    )
    def create_thread(self, initial: list[bool], online: list[bool]) -> None:
        self.run(self._create_thread(initial, online))

    async def _create_thread(self, initial: list[bool], online: list[bool]) -> None:
        for m, up in zip(self.members, online, strict=True):
            if up:
                await self.connect(m)
        invited = [m for m, yes in zip(self.members[1:], initial, strict=True) if yes]
        resp = await self.http.post(
            "/threads", json={"member_ids": [m.person.id for m in invited], "title": "model"},
            headers=self.owner.person.headers)
        assert resp.status_code == 201, resp.text
        self.tid = str(resp.json()["thread"]["id"])
        [created] = await all_events(self.http, self.owner.person, self.tid)
        self.record(created, "thread.created")
        for m in [self.owner, *invited]:
            m.windows.append([1, None])
        await self.settle()

    # --- membership ----------------------------------------------------------------------

    @precondition(lambda self: self.providers(inside=False))
    @rule(data=st.data())
    def add(self, data: st.DataObject) -> None:
        m = self.draw(data, self.providers(inside=False), "added")
        self.run(self._add(m))

    async def _add(self, m: Member) -> None:
        resp = await self.http.post(f"/threads/{self.tid}/members", json={"user_id": m.person.id},
                                    headers=self.owner.person.headers)
        assert resp.status_code == 201, resp.text
        event = resp.json()["event"]
        seq = self.record(event, "member.added")
        assert event["data"]["user_id"] == m.person.id, event
        m.windows.append([seq, None])
        await self.settle()

    @precondition(lambda self: self.providers(inside=True))
    @rule(data=st.data(), leaves=st.booleans())
    def remove(self, data: st.DataObject, leaves: bool) -> None:
        m = self.draw(data, self.providers(inside=True), "removed")
        self.run(self._remove(m, leaves))

    async def _remove(self, m: Member, leaves: bool) -> None:
        by = m if leaves else self.owner
        resp = await self.http.delete(f"/threads/{self.tid}/members/{m.person.id}",
                                      headers=by.person.headers)
        assert resp.status_code == 200, resp.text
        event = resp.json()["event"]
        seq = self.record(event, "member.removed")
        assert event["data"]["user_id"] == m.person.id, event
        m.windows[-1][1] = seq
        await self.settle()

    # --- messages ------------------------------------------------------------------------

    @precondition(lambda self: any(m.inside for m in self.connected()))
    @rule(data=st.data())
    def send_over_socket(self, data: st.DataObject) -> None:
        m = self.draw(data, [m for m in self.connected() if m.inside], "sender")
        self.run(self._send_over_socket(m))

    async def _send_over_socket(self, m: Member) -> None:
        assert m.socket is not None
        cid = uuid.uuid4().hex
        await m.socket.send({"type": "send", "thread_id": self.tid, "client_id": cid,
                             "body": f"{m.name} over ws"})
        reply = await m.socket.until(
            lambda f: f["type"] in ("ack", "error") and f.get("client_id") == cid,
            wait=SETTLE_SECONDS)
        assert reply["type"] == "ack", reply
        self.record(reply["event"], "message")
        assert reply["event"]["actor_id"] == m.person.id, reply
        m.client_ids.append(cid)
        await self.settle()

    @precondition(lambda self: any(m.inside for m in self.members))
    @rule(data=st.data())
    def send_over_http(self, data: st.DataObject) -> None:
        m = self.draw(data, [m for m in self.members if m.inside], "sender")
        self.run(self._send_over_http(m))

    async def _send_over_http(self, m: Member) -> None:
        cid = uuid.uuid4().hex
        event = await say(self.http, m.person, self.tid, f"{m.name} over http", client_id=cid)
        self.record(event, "message")
        m.client_ids.append(cid)
        await self.settle()

    @precondition(lambda self: any(m.inside and m.client_ids for m in self.members))
    @rule(data=st.data(), over_socket=st.booleans())
    def retry_a_send(self, data: st.DataObject, over_socket: bool) -> None:
        m = self.draw(data, [m for m in self.members if m.inside and m.client_ids], "retrier")
        cid = data.draw(st.sampled_from(m.client_ids), label="client_id")
        self.run(self._retry(m, cid, over_socket and m.socket is not None))

    async def _retry(self, m: Member, cid: str, over_socket: bool) -> None:
        original = next(e for e in self.log.values() if e.get("client_id") == cid)
        if over_socket:
            assert m.socket is not None
            await m.socket.send({"type": "send", "thread_id": self.tid, "client_id": cid,
                                 "body": "again"})
            reply = await m.socket.until(
                lambda f: f["type"] in ("ack", "error") and f.get("client_id") == cid,
                wait=SETTLE_SECONDS)
            assert reply["type"] == "ack", reply
            event = reply["event"]
        else:
            resp = await self.http.post(f"/threads/{self.tid}/messages",
                                        json={"body": "again", "client_id": cid},
                                        headers=m.person.headers)
            assert resp.status_code in (200, 201), resp.text
            event = resp.json()["event"]
        assert compared(event) == compared(original), (event, original)
        await self.settle()

    @precondition(lambda self: self.providers(inside=False))
    @rule(data=st.data(), over_socket=st.booleans())
    def outsider_sends(self, data: st.DataObject, over_socket: bool) -> None:
        m = self.draw(data, self.providers(inside=False), "outsider")
        self.run(self._outsider_sends(m, over_socket and m.socket is not None))

    async def _outsider_sends(self, m: Member, over_socket: bool) -> None:
        cid = uuid.uuid4().hex
        if over_socket:
            assert m.socket is not None
            await m.socket.send({"type": "send", "thread_id": self.tid, "client_id": cid,
                                 "body": "let me in"})
            reply = await m.socket.until(
                lambda f: f["type"] in ("ack", "error") and f.get("client_id") == cid,
                wait=SETTLE_SECONDS)
            assert reply["type"] == "error" and reply["code"] == "not_found", reply
        else:
            resp = await self.http.post(f"/threads/{self.tid}/messages",
                                        json={"body": "let me in", "client_id": cid},
                                        headers=m.person.headers)
            assert resp.status_code == 404, resp.text
        await self.settle()

    # --- connections ---------------------------------------------------------------------

    @precondition(lambda self: self.connected())
    @rule(data=st.data())
    def disconnect(self, data: st.DataObject) -> None:
        m = self.draw(data, self.connected(), "leaving")
        self.run(self._disconnect(m))

    async def _disconnect(self, m: Member) -> None:
        assert m.socket is not None
        await m.socket.close()
        m.closed.append(m.socket)
        m.socket = None

    @precondition(lambda self: self.disconnected())
    @rule(data=st.data())
    def reconnect(self, data: st.DataObject) -> None:
        m = self.draw(data, self.disconnected(), "returning")
        self.run(self._reconnect(m))

    async def _reconnect(self, m: Member) -> None:
        seen = m.seen(self.tid)
        await self.connect(m)
        assert m.socket is not None
        await m.socket.send({"type": "sync", "cursors": {self.tid: seen[-1] if seen else 0}})
        await m.socket.until(lambda f: f["type"] == "synced", wait=SETTLE_SECONDS)
        # Guarantee 4: the replay is complete when `synced` arrives, before any settling.
        self.check(m, complete=True)
        await self.settle()

    # --- checks --------------------------------------------------------------------------

    @invariant()
    def everyone_saw_their_windows(self) -> None:
        if not self.tid:
            return
        try:
            for m in self.members:
                self.check(m, complete=m.socket is not None)
        except BaseException:
            self.broken = True
            raise

    def teardown(self) -> None:
        try:
            if self.tid and not self.broken:
                self.run(self._final_check())
        finally:
            self.world.loop.run_until_complete(self._close_all())

    async def _final_check(self) -> None:
        for m in self.disconnected():
            await self._reconnect(m)
        # Whatever was not meant for someone would have arrived by now.
        await asyncio.gather(*(m.socket.drain(QUIET_SECONDS)
                               for m in self.members if m.socket))
        for m in self.members:
            self.check(m, complete=True)
        stored = await all_events(self.http, self.owner.person, self.tid)
        assert [compared(e) for e in stored] == [compared(self.log[s]) for s in sorted(self.log)]
        for m in self.members:
            if m.inside:
                history = await all_events(self.http, m.person, self.tid)
                assert [e["seq"] for e in history] == m.expected(self.last_seq), m.name

    async def _close_all(self) -> None:
        for m in self.members:
            if m.socket:
                await m.socket.close()
                m.closed.append(m.socket)
                m.socket = None


SETTINGS = settings(
    max_examples=15, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_members_see_exactly_their_windows_across_reconnects(
    server: Server, mailbox: Mailbox
) -> None:
    loop = asyncio.new_event_loop()
    http = app_client(server.url)

    async def practice() -> list[Person]:
        owner = await new_practice(http, "Model Practice")
        providers = [await invite_staff(http, mailbox, owner, name=f"Provider {i}")
                     for i in range(PROVIDERS)]
        return [owner, *providers]

    try:
        people = loop.run_until_complete(practice())
        MembershipMachine.world = World(loop, http, server, people)
        run_state_machine_as_test(MembershipMachine, settings=SETTINGS)
    finally:
        loop.run_until_complete(http.aclose())
        loop.close()
