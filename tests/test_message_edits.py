"""Fixing a typo and taking a message back: edits by the author, deletions by the author or an
owner/admin, live to every member; history and sync show only the current text."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import Server
from tests.files_helpers import pdf_bytes, uploaded
from tests.helpers import (
    accept,
    add_client,
    all_events,
    invite_staff,
    new_practice,
    new_thread,
    say,
)
from tests.mailbox import Mailbox
from tests.wsclient import Socket

UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def test_the_author_fixes_a_typo_and_everyone_sees_only_the_new_text(
    http: httpx.AsyncClient, server: Server, mailbox: Mailbox,
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    tid = await new_thread(http, owner, provider)
    message = await say(http, provider, tid, "Take 500 mg of magnesum nightly")
    listener = await Socket.ready(server.ws_url, owner.token)
    try:
        first = await http.patch(f"/threads/{tid}/messages/{message['id']}",
                                 json={"body": "Take 300 mg of magnesum nightly"},
                                 headers=provider.headers)
        assert first.status_code == 200, first.text
        resp = await http.patch(f"/threads/{tid}/messages/{message['id']}",
                                json={"body": "Take 300 mg of magnesium nightly"},
                                headers=provider.headers)
        assert resp.status_code == 200, resp.text
        edit = resp.json()["event"]
        assert edit["kind"] == "message.edited"
        assert edit["data"] == {"event_id": message["id"],
                                "body": "Take 300 mg of magnesium nightly"}
        heard = await listener.until(lambda f: f["type"] == "event"
                                     and f["event"]["id"] == edit["id"])
        assert heard["event"]["data"]["body"] == "Take 300 mg of magnesium nightly"
    finally:
        await listener.conn.close()
    events = await all_events(http, owner, tid)
    shown = next(e for e in events if e["id"] == message["id"])
    assert shown["body"] == "Take 300 mg of magnesium nightly" and shown["edited_at"]
    # The earlier texts are in no answer: not the message, not the earlier edit event.
    text = httpx.Response(200, json=events).text
    assert "500 mg" not in text and "magnesum" not in text
    # A socket's sync replays the same.
    sock = await Socket.ready(server.ws_url, owner.token)
    try:
        await sock.send({"type": "sync", "cursors": {tid: 0}})
        await sock.until(lambda f: f["type"] == "synced")
        replayed = [f["event"] for f in sock.frames if f["type"] == "event"]
        again = next(e for e in replayed if e["id"] == message["id"])
        assert again["body"] == "Take 300 mg of magnesium nightly" and again["edited_at"]
        assert "magnesum" not in str(replayed)
    finally:
        await sock.conn.close()
    # An edit does not count as unread.
    listed = (await http.get("/threads", headers=owner.headers)).json()["threads"]
    assert next(t for t in listed if t["id"] == tid)["unread"] == 1


async def test_only_the_author_edits(http: httpx.AsyncClient, mailbox: Mailbox) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    outsider = await invite_staff(http, mailbox, owner, name="Not A Member")
    stranger = await new_practice(http, "Elsewhere")
    tid = await new_thread(http, owner, provider)
    message = await say(http, provider, tid, "Original words")
    path = f"/threads/{tid}/messages/{message['id']}"
    # A member who is not the author (the owner included): 403 not_author.
    resp = await http.patch(path, json={"body": "Changed"}, headers=owner.headers)
    assert resp.status_code == 403 and resp.json()["code"] == "not_author"
    # Who cannot see the message at all: 404.
    for person in (outsider, stranger):
        resp = await http.patch(path, json={"body": "Changed"}, headers=person.headers)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    for bad_path in (f"/threads/{tid}/messages/{UNKNOWN}", f"/threads/{tid}/messages/nope",
                     f"/threads/{UNKNOWN}/messages/{message['id']}"):
        resp = await http.patch(bad_path, json={"body": "x"}, headers=provider.headers)
        assert resp.status_code == 404
    # Not a message (the thread's first event): 404.
    created = (await all_events(http, provider, tid))[0]
    resp = await http.patch(f"/threads/{tid}/messages/{created['id']}", json={"body": "x"},
                            headers=provider.headers)
    assert resp.status_code == 404
    for body in ({}, {"body": 5}, {"body": "   "}):
        resp = await http.patch(path, json=body, headers=provider.headers)
        assert resp.status_code == 400 and resp.json()["code"] == "validation_error", body
    resp = await http.patch(path, json={"body": "x" * 16_001}, headers=provider.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "message_too_long"
    events = await all_events(http, owner, tid)
    assert next(e for e in events if e["id"] == message["id"])["body"] == "Original words"
    assert not any(e["kind"] == "message.edited" for e in events)


async def test_deleting_a_message_takes_its_text_and_files_from_everyone(
    http: httpx.AsyncClient, server: Server, mailbox: Mailbox,
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    tid = await new_thread(http, owner, provider)
    file = await uploaded(http, provider, "wrong-client.pdf", pdf_bytes("someone else's labs"))
    resp = await http.post(f"/threads/{tid}/messages", json={
        "body": "Labs for the wrong person", "client_id": uuid.uuid4().hex,
        "attachments": [file["id"]]}, headers=provider.headers)
    message = resp.json()["event"]
    await http.patch(f"/threads/{tid}/messages/{message['id']}",
                     json={"body": "Labs for the wrong person!"}, headers=provider.headers)
    listener = await Socket.ready(server.ws_url, owner.token)
    try:
        resp = await http.delete(f"/threads/{tid}/messages/{message['id']}",
                                 headers=provider.headers)
        assert resp.status_code == 200, resp.text
        gone = resp.json()["event"]
        assert gone["kind"] == "message.deleted" and gone["data"] == {"event_id": message["id"]}
        await listener.until(lambda f: f["type"] == "event" and f["event"]["id"] == gone["id"])
    finally:
        await listener.conn.close()
    events = await all_events(http, owner, tid)
    shown = next(e for e in events if e["id"] == message["id"])
    assert "body" in shown and shown["body"] is None and shown["deleted_at"]
    assert "attachments" not in (shown.get("data") or {})
    assert "wrong person" not in httpx.Response(200, json=events).text
    # The file is unreadable to everyone, its uploader too.
    for person in (provider, owner):
        assert (await http.get(f"/files/{file['id']}", headers=person.headers)
                ).status_code == 404
    # A deleted message cannot be edited or deleted again.
    path = f"/threads/{tid}/messages/{message['id']}"
    assert (await http.patch(path, json={"body": "back"}, headers=provider.headers)
            ).status_code == 404
    assert (await http.delete(path, headers=provider.headers)).status_code == 404


async def test_owners_and_admins_may_delete_what_others_wrote(
    http: httpx.AsyncClient, mailbox: Mailbox,
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    colleague = await invite_staff(http, mailbox, owner, name="Col League")
    email = f"client-{uuid.uuid4().hex[:8]}@example.org"
    client = await add_client(http, provider, name="Robin", email=email)
    robin = await accept(http, (await mailbox.wait_for(email)).token)
    tid = client["care_thread_id"]
    oops = await say(http, robin, tid, "my card number is 4111")
    mine = await say(http, provider, tid, "noted")
    # Neither the client nor a provider may delete another's message.
    for person, msg in ((robin, mine), (provider, oops)):
        resp = await http.delete(f"/threads/{tid}/messages/{msg['id']}", headers=person.headers)
        assert resp.status_code == 403 and resp.json()["code"] == "not_author"
    resp = await http.delete(f"/threads/{tid}/messages/{oops['id']}", headers=colleague.headers)
    assert resp.status_code == 404  # not on the care team: cannot see it
    # The owner reads every care thread, and may delete in it.
    resp = await http.delete(f"/threads/{tid}/messages/{oops['id']}", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    shown = next(e for e in await all_events(http, robin, tid) if e["id"] == oops["id"])
    assert shown["body"] is None and shown["deleted_at"]
