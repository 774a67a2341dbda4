"""Members talk live over WebSocket; order, once-only delivery and resume hold."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid

import httpx

from tests.conftest import Server
from tests.helpers import all_events, invite_staff, new_practice, new_thread, say, team
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event


async def test_two_members_chat_live_and_the_senders_other_socket_sees_it(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner, provider, _ = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)
    phone = await Socket.ready(server.ws_url, owner.token)
    laptop = await Socket.ready(server.ws_url, owner.token)
    other = await Socket.ready(server.ws_url, provider.token)
    await phone.send({"type": "send", "thread_id": tid, "client_id": "m1", "body": "Hi there"})
    ack = await phone.until(lambda f: f["type"] == "ack")
    assert ack["client_id"] == "m1" and ack["event"]["seq"] == 2
    for sock in (phone, laptop, other):
        frame = await sock.until(is_event("message", tid))
        assert frame["event"] == ack["event"]
    await other.send({"type": "send", "thread_id": tid, "client_id": "r1", "body": "Hello!"})
    reply = await phone.until(is_event("message", tid, seq=3))
    assert reply["event"]["actor_id"] == provider.id and reply["event"]["body"] == "Hello!"
    for sock in (phone, laptop, other):
        await sock.close()


async def test_a_retried_send_yields_one_event_even_ten_at_once(
    http: httpx.AsyncClient, server: Server
) -> None:
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    socks = [await Socket.ready(server.ws_url, owner.token) for _ in range(2)]
    frame = {"type": "send", "thread_id": tid, "client_id": "same", "body": "only once"}
    for _ in range(5):
        for sock in socks:
            await sock.send(frame)
    acks = []
    for sock in socks:
        for _ in range(5):
            acks.append(await sock.until(lambda f: f["type"] == "ack"))
    assert len({a["event"]["id"] for a in acks}) == 1
    for sock in socks:
        await sock.drain()
        assert sock.seqs(tid) == [2]  # delivered once per socket
        await sock.close()
    assert [e["seq"] for e in await all_events(http, owner, tid)] == [1, 2]


async def test_three_members_sending_at_once_all_see_one_gap_free_order(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http)
    a = await invite_staff(http, mailbox, owner)
    b = await invite_staff(http, mailbox, owner)
    tid = await new_thread(http, owner, a, b)
    people = [owner, a, b]
    socks = [await Socket.ready(server.ws_url, p.token) for p in people]

    async def chatter(sock: Socket, name: str) -> None:
        for i in range(15):
            await sock.send({"type": "send", "thread_id": tid, "client_id": f"{name}-{i}",
                             "body": f"{name} says {i}"})

    await asyncio.gather(*[chatter(s, str(i)) for i, s in enumerate(socks)])
    for sock in socks:
        await sock.until(is_event(thread_id=tid, seq=46), wait=30)
    orders = [[e["id"] for e in s.events(tid)] for s in socks]
    assert orders[0] == orders[1] == orders[2]
    assert socks[0].seqs(tid) == list(range(2, 47))
    stored = await all_events(http, owner, tid)
    assert [e["id"] for e in stored[1:]] == orders[0]
    for sock in socks:
        await sock.close()


async def test_a_member_who_was_away_syncs_everything_missed_before_synced(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner, provider, _ = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)
    quiet = await new_thread(http, owner, provider, title="quiet")
    sock = await Socket.ready(server.ws_url, provider.token)
    await say(http, owner, tid, "seen live")
    await sock.until(is_event(thread_id=tid, seq=2))
    await sock.close()
    for i in range(20):
        await say(http, owner, tid, f"missed {i}")
    sock = await Socket.ready(server.ws_url, provider.token)
    await sock.send({"type": "sync", "cursors": {tid: 2, quiet: 1}})
    synced = await sock.until(lambda f: f["type"] == "synced")
    assert synced == {"type": "synced"}
    assert sock.seqs(tid) == list(range(3, 23))
    assert sock.seqs(quiet) == []
    # Live delivery carries on from there, without repeats.
    await say(http, owner, tid, "after the sync")
    await sock.until(is_event(thread_id=tid, seq=23))
    await sock.drain()
    assert sock.seqs(tid) == list(range(3, 24))
    await sock.close()


async def test_a_sync_of_many_threads_replays_each_in_order(
    http: httpx.AsyncClient, server: Server
) -> None:
    owner = await new_practice(http)
    tids = [await new_thread(http, owner, title=f"t{i}") for i in range(60)]
    sock = await Socket.ready(server.ws_url, owner.token)
    await sock.send({"type": "sync", "cursors": {t: 0 for t in tids}})
    await sock.until(lambda f: f["type"] == "synced", wait=30)
    for tid in tids:
        assert sock.seqs(tid) == [1]
    await sock.close()


async def test_a_removed_member_gets_the_removal_then_nothing_more(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner, provider, _ = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)
    sock = await Socket.ready(server.ws_url, provider.token)
    resp = await http.delete(f"/threads/{tid}/members/{provider.id}", headers=owner.headers)
    removal = resp.json()["event"]
    await sock.until(is_event("member.removed", tid))
    await say(http, owner, tid, "private now")
    await sock.send({"type": "send", "thread_id": tid, "client_id": "x", "body": "still here?"})
    error = await sock.until(lambda f: f["type"] == "error")
    assert error["code"] == "not_found" and error["client_id"] == "x"
    await sock.send({"type": "sync", "cursors": {tid: removal["seq"] - 1}})
    await sock.until(lambda f: f["type"] == "synced")
    assert sock.seqs(tid) == [removal["seq"]]
    assert "private now" not in json.dumps(sock.frames)
    await sock.close()


async def test_strangers_get_error_frames_and_see_nothing(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner, provider, _ = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)
    stranger = await new_practice(http, "Elsewhere")
    sock = await Socket.ready(server.ws_url, stranger.token)
    for frame in [
        {"type": "send", "thread_id": tid, "client_id": "s1", "body": "let me in"},
        {"type": "typing", "thread_id": tid},
        {"type": "read", "thread_id": tid, "seq": 1},
    ]:
        await sock.send(frame)
        error = await sock.until(lambda f: f["type"] == "error")
        assert error["code"] == "not_found"
    await sock.send({"type": "sync", "cursors": {tid: 0}})
    await sock.until(lambda f: f["type"] == "synced")
    await say(http, owner, tid, "for members only")
    await sock.drain()
    assert sock.events() == []
    await sock.close()


async def test_handshakes_without_a_valid_session_never_get_ready(server: Server) -> None:
    for token in [None, "bogus", "x" * 300]:
        sock = await Socket.open(server.ws_url, token)
        first = await sock.next()
        assert first["type"] == "error" and first["code"] == "unauthenticated"
        assert await sock.closed_with() == 4401
        assert all(f["type"] != "ready" for f in sock.frames)


async def test_a_cookie_session_from_a_foreign_origin_is_refused(
    http: httpx.AsyncClient, server: Server
) -> None:
    owner = await new_practice(http)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1") as browser:
        await browser.post("/sessions", json={"email": owner.email, "password": owner.password})
        cookie = f"carethread_session={browser.cookies['carethread_session']}"
    evil = await Socket.open(server.ws_url, headers={"Cookie": cookie},
                             origin="http://evil.example")
    first = await evil.next()
    assert first["code"] == "origin_not_allowed"
    assert await evil.closed_with() == 4403
    good = await Socket.open(server.ws_url, headers={"Cookie": cookie},
                             origin="http://carethread.test")
    assert (await good.next())["type"] == "ready"
    await good.close()


async def test_malformed_frames_get_error_frames_and_the_socket_keeps_working(
    http: httpx.AsyncClient, server: Server
) -> None:
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    sock = await Socket.ready(server.ws_url, owner.token)
    cases: list[tuple[str | bytes, str]] = [
        ("not json", "invalid_frame"),
        ("[1, 2]", "invalid_frame"),
        ('{"no": "type"}', "invalid_frame"),
        ('{"type": "dance"}', "invalid_frame"),
        (json.dumps({"type": "send", "thread_id": 5, "client_id": "a", "body": "x"}),
         "invalid_frame"),
        (json.dumps({"type": "send", "thread_id": tid, "body": "x"}), "invalid_frame"),
        (json.dumps({"type": "send", "thread_id": "nope", "client_id": "a", "body": "x"}),
         "invalid_frame"),
        (json.dumps({"type": "read", "thread_id": tid, "seq": -4}), "invalid_frame"),
        (json.dumps({"type": "sync", "cursors": {"x": "y"}}), "invalid_frame"),
        (json.dumps({"type": "send", "thread_id": tid, "client_id": "big",
                     "body": "x" * 16_001}), "message_too_long"),
        (json.dumps({"type": "send", "thread_id": tid, "client_id": "blank", "body": " "}),
         "validation_error"),
        (json.dumps({"type": "send", "thread_id": str(uuid.uuid4()), "client_id": "u",
                     "body": "x"}), "not_found"),
        (b"\xff\xfe binary", "invalid_frame"),
    ]
    for raw, code in cases:
        await sock.send(raw)
        error = await sock.until(lambda f: f["type"] in ("error", "ack"))
        assert error["type"] == "error" and error["code"] == code, (raw[:80], error)
        assert error["detail"]
    await sock.send({"type": "ping"})
    assert (await sock.until(lambda f: f["type"] in ("pong", "ack")))["type"] == "pong"
    await sock.send({"type": "send", "thread_id": tid, "client_id": "ok", "body": "fine"})
    assert (await sock.until(lambda f: f["type"] == "ack"))["event"]["seq"] == 2
    await sock.close()
    assert [e["seq"] for e in await all_events(http, owner, tid)] == [1, 2]


async def test_a_two_megabyte_frame_is_refused(http: httpx.AsyncClient, server: Server) -> None:
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    sock = await Socket.ready(server.ws_url, owner.token)
    await sock.send(json.dumps({"type": "send", "thread_id": tid, "client_id": "huge",
                                "body": "x" * 2_000_000}))
    assert await sock.closed_with() == 1009
    assert [e["seq"] for e in await all_events(http, owner, tid)] == [1]


async def test_typing_and_read_signals_reach_the_other_members(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner, provider, _ = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)
    a = await Socket.ready(server.ws_url, owner.token)
    b = await Socket.ready(server.ws_url, provider.token)
    await a.send({"type": "typing", "thread_id": tid})
    typing = await b.until(lambda f: f["type"] == "typing")
    assert typing == {"type": "typing", "thread_id": tid, "user_id": owner.id}
    await say(http, owner, tid, "read me")
    await b.until(is_event("message", tid))
    await b.send({"type": "read", "thread_id": tid, "seq": 2})
    read = await a.until(lambda f: f["type"] == "read")
    assert read == {"type": "read", "thread_id": tid, "user_id": provider.id, "seq": 2}
    threads = (await http.get("/threads", headers=provider.headers)).json()["threads"]
    assert next(t for t in threads if t["id"] == tid)["unread"] == 0
    # Signals are not events: the log holds only the thread and the message.
    assert [e["kind"] for e in await all_events(http, owner, tid)] == ["thread.created",
                                                                        "message"]
    await a.close()
    await b.close()


async def test_logout_closes_that_sessions_sockets_within_a_second(
    http: httpx.AsyncClient, server: Server
) -> None:
    owner = await new_practice(http)
    other_session = (await http.post("/sessions", json={"email": owner.email,
                                                         "password": owner.password})).json()
    sock = await Socket.ready(server.ws_url, owner.token)
    keep = await Socket.ready(server.ws_url, other_session["token"])
    await http.delete("/sessions/current", headers=owner.headers)
    assert await sock.closed_with(wait=1.0) == 4401
    await keep.send({"type": "ping"})
    assert (await keep.until(lambda f: f["type"] == "pong"))["type"] == "pong"
    await keep.close()


async def test_a_client_that_never_reads_is_disconnected_and_others_carry_on(
    http: httpx.AsyncClient, start_server: object
) -> None:
    srv = start_server(WS_QUEUE_LIMIT="20", WS_MESSAGES_PER_SECOND="1000",  # type: ignore[operator]
                       WS_BURST="1000")
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    # A reader that never reads: a tiny receive buffer, and nothing ever calls recv.
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", srv.port))
    raw.setblocking(False)
    stalled = await Socket.ready(srv.ws_url, owner.token, max_queue=1, sock=raw)
    healthy = await Socket.ready(srv.ws_url, owner.token)
    sender = await Socket.ready(srv.ws_url, owner.token)
    big = "y" * 15_000
    total = 400  # about 6 MB: more than the kernel buffers between us and the server
    reading = asyncio.create_task(sender.until(is_event(thread_id=tid, seq=total + 1), wait=60))
    for i in range(total):
        await sender.send({"type": "send", "thread_id": tid, "client_id": f"c{i}", "body": big})
    await healthy.until(is_event(thread_id=tid, seq=total + 1), wait=60)
    await reading
    assert healthy.seqs(tid) == list(range(2, total + 2))
    code = await stalled.closed_with(wait=30)
    assert code == 4008
    await healthy.close()
    await sender.close()


async def test_a_cursor_from_the_future_does_not_swallow_live_events(
    http: httpx.AsyncClient, server: Server
) -> None:
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    sock = await Socket.ready(server.ws_url, owner.token)
    await sock.send({"type": "sync", "cursors": {tid: 1000}})
    await sock.until(lambda f: f["type"] == "synced")
    await say(http, owner, tid, "next")
    assert (await sock.until(is_event("message", tid)))["event"]["seq"] == 2
    await sock.close()


async def test_a_sync_right_after_ready_comes_before_live_events(
    http: httpx.AsyncClient, server: Server
) -> None:
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    await say(http, owner, tid, "seen before")                         # 2
    await say(http, owner, tid, "missed while away")                   # 3
    sock = await Socket.ready(server.ws_url, owner.token)              # cursor opens at 3
    await say(http, owner, tid, "arrives between ready and sync")      # 4
    await sock.send({"type": "sync", "cursors": {tid: 2}})
    await sock.until(lambda f: f["type"] == "synced")
    await sock.until(is_event(thread_id=tid, seq=4))
    await sock.drain()
    assert sock.seqs(tid) == [3, 4]  # in order, once
    await sock.close()


async def test_a_late_sync_below_what_was_sent_asks_for_a_reconnect(
    http: httpx.AsyncClient, server: Server
) -> None:
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    await say(http, owner, tid, "old")                                 # 2
    sock = await Socket.ready(server.ws_url, owner.token)
    await sock.send({"type": "ping"})                                  # live delivery starts
    await sock.until(lambda f: f["type"] == "pong")
    await say(http, owner, tid, "live")                                # 3
    await sock.until(is_event(thread_id=tid, seq=3))
    await sock.send({"type": "sync", "cursors": {tid: 1}})            # would need 2 after 3
    assert await sock.closed_with() == 4009
    assert sock.seqs(tid) == [3]


async def test_a_client_far_over_the_frame_rate_is_told_then_disconnected(
    http: httpx.AsyncClient, start_server: object
) -> None:
    srv = start_server(WS_MESSAGES_PER_SECOND="1", WS_BURST="2")  # type: ignore[operator]
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    sock = await Socket.ready(srv.ws_url, owner.token)
    for _ in range(12):  # 2 allowed, then more than 3 bursts' worth refused
        await sock.send({"type": "typing", "thread_id": tid})
    assert await sock.closed_with() == 4429
    refused = [f for f in sock.frames if f["type"] == "error"]
    assert refused and all(f["code"] == "rate_limited" for f in refused)
