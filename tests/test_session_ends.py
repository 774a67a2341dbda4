"""When a session ends, for whatever reason, that user's sockets close within a second."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import sys
import uuid
from datetime import UTC, datetime

import httpx

from tests.conftest import ROOT, Backend, Server, app_client
from tests.helpers import invite_staff, login, new_bot, new_practice, new_thread, say, team
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event


async def test_removal_from_the_practice_ends_sessions_and_sockets_at_once(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner, provider, bot = await team(http, mailbox)
    tid = await new_thread(http, owner, provider, bot)
    provider_socket = await Socket.ready(server.ws_url, provider.token)
    bot_socket = await Socket.ready(server.ws_url, bot.token)
    team_list = (await http.get("/team", headers=provider.headers)).json()["users"]
    assert {u["id"] for u in team_list} >= {owner.id, provider.id, bot.id}
    resp = await http.delete(f"/team/{provider.id}", headers=owner.headers)
    assert resp.status_code == 200 and resp.json()["user"]["status"] == "removed"
    assert await provider_socket.closed_with(wait=1.0) == 4401
    assert (await http.get("/me", headers=provider.headers)).status_code == 401
    login = await http.post("/sessions", json={"email": provider.email,
                                               "password": provider.password})
    assert login.status_code == 401
    # Others are untouched.
    await say(http, owner, tid, "still here")
    await bot_socket.until(is_event("message", tid))
    await bot_socket.close()


async def test_who_may_remove_whom(http: httpx.AsyncClient, mailbox: Mailbox) -> None:
    owner = await new_practice(http)
    admin = await invite_staff(http, mailbox, owner, role="admin")
    provider = await invite_staff(http, mailbox, owner)
    other = await new_practice(http, "Elsewhere")
    cases = [
        (provider, admin.id, 403, "forbidden"),
        (admin, owner.id, 403, "forbidden"),
        (owner, owner.id, 409, "last_owner"),
        (other, provider.id, 404, "not_found"),
        (owner, other.id, 404, "not_found"),
        (owner, str(uuid.uuid4()), 404, "not_found"),
        (owner, "not-an-id", 404, "not_found"),
    ]
    for actor, target, status, code in cases:
        resp = await http.delete(f"/team/{target}", headers=actor.headers)
        assert (resp.status_code, resp.json()["code"]) == (status, code), (target, resp.text)
    assert (await http.delete(f"/team/{provider.id}")).status_code == 401
    bot = await new_bot(http, owner)
    assert (await http.get("/team", headers=other.headers)).status_code == 200
    assert bot.id not in [u["id"] for u in
                          (await http.get("/team", headers=other.headers)).json()["users"]]
    # Nothing above changed anyone.
    assert (await http.get("/me", headers=provider.headers)).status_code == 200


async def test_an_expiring_session_closes_its_socket_on_time(
    http: httpx.AsyncClient, start_server: object
) -> None:
    srv = start_server(SESSION_LIFETIME_SECONDS="2")  # type: ignore[operator]
    async with app_client(srv.url) as short:
        owner = await new_practice(short)
        sock = await Socket.ready(srv.ws_url, owner.token)
        assert await sock.closed_with(wait=3.5) == 4401
        assert (await short.get("/me", headers=owner.headers)).status_code == 401


async def test_a_bot_posts_over_the_socket_as_itself(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    _owner, provider, bot = await team(http, mailbox)
    tid = await new_thread(http, provider, bot)
    bot_socket = await Socket.ready(server.ws_url, bot.token)
    provider_socket = await Socket.ready(server.ws_url, provider.token)
    await bot_socket.send({"type": "send", "thread_id": tid, "client_id": "r-1",
                           "body": "Your intake form is ready."})
    ack = await bot_socket.until(lambda f: f["type"] == "ack")
    assert ack["event"]["actor_id"] == bot.id
    seen = await provider_socket.until(is_event("message", tid))
    assert seen["event"]["actor_id"] == bot.id
    await bot_socket.close()
    await provider_socket.close()


async def test_a_removed_team_member_leaves_every_thread_and_can_be_invited_again(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    tid = await new_thread(http, owner, provider)
    await http.delete(f"/team/{provider.id}", headers=owner.headers)
    thread = (await http.get(f"/threads/{tid}", headers=owner.headers)).json()["thread"]
    assert {m["id"] for m in thread["members"]} == {owner.id}
    events = (await http.get(f"/threads/{tid}/events", headers=owner.headers)).json()["events"]
    assert events[-1]["kind"] == "member.removed"
    assert events[-1]["data"]["user_id"] == provider.id
    # The person's login survives; invited again, they accept with their password.
    again = await invite_staff(http, mailbox, owner, email=provider.email)
    assert again.id != provider.id and again.org_id == owner.org_id


async def _revoke_in_database(backend: Backend, token: str) -> None:
    """A session ended where no bus message announces it (an operator's SQL, another
    deployment): only the periodic check can find it."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    url = backend.env["DATABASE_URL"]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], timeout=30)
        try:
            with conn:
                conn.execute("UPDATE auth_token SET revoked_at = ? WHERE token_hash = ?",
                             (str(datetime.now(UTC)), digest))
        finally:
            conn.close()
        return
    import asyncpg

    pg = await asyncpg.connect(url)
    try:
        await pg.execute("UPDATE auth_token SET revoked_at = now() WHERE token_hash = $1", digest)
    finally:
        await pg.close()


async def test_a_session_revoked_without_a_bus_message_closes_its_sockets_at_the_next_check(
    http: httpx.AsyncClient, backend: Backend, start_server: object
) -> None:
    srv = start_server(WS_LIVENESS_SECONDS="0.5")  # type: ignore[operator]
    async with app_client(srv.url) as client:
        owner = await new_practice(client)
        other = (await login(client, owner.email)).json()["token"]
        doomed = [await Socket.ready(srv.ws_url, owner.token) for _ in range(3)]
        kept = await Socket.ready(srv.ws_url, other)
        await _revoke_in_database(backend, owner.token)
        for sock in doomed:
            assert await sock.closed_with(wait=3) == 4401
        # The same person's other session, checked in the same batch, stays open and usable.
        await kept.send({"type": "ping"})
        assert (await kept.until(lambda f: f["type"] == "pong"))["type"] == "pong"
        await kept.close()


async def test_one_check_covers_every_socket_of_the_process_in_constant_statements(
    http: httpx.AsyncClient, backend: Backend, server: Server
) -> None:
    owner = await new_practice(http)
    runs = {}
    for count in (10, 300):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.session_batch_probe", owner.id, "-", str(count),
            cwd=ROOT, env={**os.environ, **server.env}, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        runs[count] = json.loads(out.decode().strip().splitlines()[-1])
    for run in runs.values():
        # Revoked by someone else, idle past the timeout, expired: found, and their sockets told.
        assert run["ended"] == run["expected_ended"] == run["told"]
        assert run["due_touch_touched"]
        assert run["watched_after_unwatch"] == 0
    # One SELECT and one UPDATE (the touch) whether 10 or 300 sockets; then the SELECT alone.
    assert runs[10]["statements"] == runs[300]["statements"] == 2
    assert runs[10]["statements_again"] == runs[300]["statements_again"] == 1
