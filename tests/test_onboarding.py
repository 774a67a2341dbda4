"""A provider adds a client; the client's story is told in their care thread."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.helpers import (
    PASSWORD,
    accept,
    add_client,
    all_events,
    enable_welcome,
    invite_staff,
    login,
    new_practice,
    unique_email,
)
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event


async def test_invite_set_password_first_login_welcome_and_chat(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http, "Bright Path Nutrition")
    provider = await invite_staff(http, mailbox, owner, name="Dana Provider")
    await enable_welcome(http, owner, "Hi {client_first_name}! Welcome to {practice_name}. "
                                      "You can message me securely here.")
    email = unique_email("client")
    client = await add_client(http, provider, name="Robin Hart", email=email,
                              phone="+1 415 555 0132", date_of_birth="1990-04-01",
                              timezone="America/Chicago")
    assert client["primary_provider"]["id"] == provider.id  # defaults to the adder
    assert client["invitation"] == "sent" and client["status"] == "invited"
    tid = client["care_thread_id"]
    provider_socket = await Socket.ready(server.ws_url, provider.token)

    mail = await mailbox.wait_for(email)
    assert "Bright Path Nutrition" in mail.subject
    assert mail.links[0].startswith("http://carethread.test/accept-invite?token=")
    robin = await accept(http, mail.token)
    assert robin.user["role"] == "client"
    # The provider sees the acceptance live in the care thread.
    accepted = await provider_socket.until(is_event("invite.accepted", tid))
    assert accepted["event"]["actor_id"] == robin.id

    first = await login(http, email)
    assert first.status_code == 201
    robin_token = first.json()["token"]
    threads = (await http.get("/threads", headers={"Authorization": f"Bearer {robin_token}"}
                              )).json()["threads"]
    assert [t["id"] for t in threads] == [tid]
    assert threads[0]["unread"] == 1  # the welcome message
    seen = await all_events(http, robin, tid)
    welcome = next(e for e in seen if e["kind"] == "message")
    assert welcome["body"] == ("Hi Robin! Welcome to Bright Path Nutrition. "
                               "You can message me securely here.")
    assert welcome["actor_id"] == provider.id and welcome["data"] == {"automated": True}
    # The client never sees staff-only events (the invitation was one).
    assert all(e.get("audience", "all") == "all" for e in seen)
    assert "invite.sent" not in [e["kind"] for e in seen]
    staff_view = [e["kind"] for e in await all_events(http, provider, tid)]
    assert staff_view[:4] == ["thread.created", "message", "invite.sent", "invite.accepted"]

    robin_socket = await Socket.ready(server.ws_url, robin_token)
    await robin_socket.send({"type": "send", "thread_id": tid, "client_id": "q1",
                             "body": "Thanks! When is my first session?"})
    question = await provider_socket.until(is_event("message", tid))
    assert question["event"]["actor_id"] == robin.id
    await provider_socket.send({"type": "send", "thread_id": tid, "client_id": "a1",
                                "body": "Tuesday at 10."})
    answer = await robin_socket.until(lambda f: f["type"] == "event"
                                      and f["event"].get("client_id") == "a1")
    assert answer["event"]["body"] == "Tuesday at 10."
    for sock in (provider_socket, robin_socket):
        await sock.close()


async def test_old_links_die_after_a_resend_and_after_an_email_change(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    email = unique_email("client")
    client = await add_client(http, owner, name="Sam Lee", email=email)
    first = await mailbox.wait_for(email)
    resp = await http.post(f"/clients/{client['id']}/invitations", headers=owner.headers)
    assert resp.status_code == 201
    second = await mailbox.wait_for(email, count=2)
    old = await http.post("/invitations/accept", json={"token": first.token, "password": PASSWORD})
    assert old.status_code == 410 and old.json()["code"] == "invitation_superseded"
    assert "newer" in old.json()["detail"]
    # Now the email changes: the second link dies too, the new address gets a fresh one.
    new_email = unique_email("client-new")
    resp = await http.patch(f"/clients/{client['id']}", json={"email": new_email},
                            headers=owner.headers)
    assert resp.status_code == 200 and resp.json()["client"]["email"] == new_email
    third = await mailbox.wait_for(new_email)
    dead = await http.post("/invitations/accept",
                           json={"token": second.token, "password": PASSWORD})
    assert dead.status_code == 410
    sam = await accept(http, third.token)
    assert sam.id == client["id"]
    kinds = [e["kind"] for e in await all_events(http, owner, client["care_thread_id"])]
    assert kinds.count("invite.sent") == 3 and "client.email_changed" in kinds
    # The client sees none of that bookkeeping.
    client_kinds = [e["kind"] for e in await all_events(http, sam, client["care_thread_id"])]
    assert "client.email_changed" not in client_kinds and "invite.sent" not in client_kinds
    # Resending to someone who already set a password is refused with a clear code.
    again = await http.post(f"/clients/{client['id']}/invitations", headers=owner.headers)
    assert again.status_code == 409 and again.json()["code"] == "invitation_accepted"
