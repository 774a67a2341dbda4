"""Staff-only events reach the team and never a client: not live, not on sync, not in history."""

from __future__ import annotations

import json

import httpx

from tests.conftest import Server
from tests.helpers import (
    accept,
    add_client,
    all_events,
    bearer,
    invite_staff,
    new_practice,
    say,
    unique_email,
)
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event


async def test_staff_only_events_never_reach_the_client(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    tag = (await http.post("/tags", json={"name": "Needs follow-up"},
                           headers=owner.headers)).json()["tag"]
    group = (await http.post("/groups", json={"name": "Group A"}, headers=owner.headers)
             ).json()["group"]
    email = unique_email("client")
    client = await add_client(http, provider, name="Pat Private", email=email)
    tid = client["care_thread_id"]
    pat = await accept(http, (await mailbox.wait_for(email)).token)
    pat_socket = await Socket.ready(server.ws_url, pat.token)
    staff_socket = await Socket.ready(server.ws_url, provider.token)

    await http.patch(f"/clients/{client['id']}", json={"tag_ids": [tag["id"]],
                                                       "group_id": group["id"]},
                     headers=provider.headers)
    await say(http, provider, tid, "visible to Pat")
    await staff_socket.until(is_event("tags.changed", tid))
    await staff_socket.until(is_event("group.changed", tid))
    last = (await staff_socket.until(is_event("message", tid)))["event"]["seq"]
    # Pat receives the message, but not the staff-only events before it.
    seen = await pat_socket.until(is_event("message", tid))
    assert seen["event"]["seq"] == last
    await pat_socket.drain()
    assert all(e.get("audience", "all") == "all" for e in pat_socket.events())
    assert "Needs follow-up" not in json.dumps(pat_socket.frames)
    # Nor on a sync from the beginning (a new socket's first frame), nor in history, nor in
    # unread counts.
    await pat_socket.close()
    pat_socket = await Socket.ready(server.ws_url, pat.token)
    await pat_socket.send({"type": "sync", "cursors": {tid: 0}})
    await pat_socket.until(lambda f: f["type"] == "synced")
    kinds = {e["kind"] for e in pat_socket.events(tid)}
    assert not kinds & {"tags.changed", "group.changed", "invite.sent"}
    history = await all_events(http, pat, tid)
    assert not {e["kind"] for e in history} & {"tags.changed", "group.changed", "invite.sent"}
    assert {e["kind"] for e in await all_events(http, provider, tid)} >= {
        "tags.changed", "group.changed", "invite.sent"}
    threads = (await http.get("/threads", headers=bearer(pat.token))).json()["threads"]
    assert threads[0]["unread"] == 2  # the welcome message and the message, no staff-only event
    # A client reaches no staff data through the client API either.
    assert (await http.get(f"/clients/{client['id']}", headers=pat.headers)).status_code == 404
    assert (await http.get("/clients", headers=pat.headers)).status_code == 403
    assert (await http.get("/tags", headers=pat.headers)).status_code == 403
    assert (await http.get("/groups", headers=pat.headers)).status_code == 403
    await pat_socket.close()
    await staff_socket.close()
