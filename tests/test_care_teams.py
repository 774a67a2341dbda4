"""Care teams: who is in the client's thread, who sees it live, and who only sees the client."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.helpers import add_client, all_events, invite_staff, new_practice, say, unique_email
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event


async def test_changing_the_care_team_is_told_in_the_thread_and_moves_membership(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http)
    primary = await invite_staff(http, mailbox, owner, name="Primary P")
    dietitian = await invite_staff(http, mailbox, owner, name="Dietitian D")
    coach = await invite_staff(http, mailbox, owner, role="staff", name="Coach C")
    client = await add_client(http, primary, name="Alex Doe", care_team_ids=[dietitian.id])
    tid = client["care_thread_id"]
    assert {m["id"] for m in client["care_team"]} == {dietitian.id}

    coach_socket = await Socket.ready(server.ws_url, coach.token)
    dietitian_socket = await Socket.ready(server.ws_url, dietitian.token)
    # The coach is not on the team: sees the client, not the thread.
    seen = (await http.get(f"/clients/{client['id']}", headers=coach.headers)).json()["client"]
    assert seen["name"] == "Alex Doe" and seen["care_thread_id"] is None
    assert (await http.get(f"/threads/{tid}/events", headers=coach.headers)).status_code == 404
    # The owner (an admin) may read it without being a member.
    assert (await http.get(f"/threads/{tid}/events", headers=owner.headers)).status_code == 200
    # Not on the team: may not change it either.
    denied = await http.patch(f"/clients/{client['id']}", json={"care_team_ids": [coach.id]},
                              headers=coach.headers)
    assert denied.status_code == 403

    resp = await http.patch(f"/clients/{client['id']}",
                            json={"care_team_ids": [coach.id]}, headers=primary.headers)
    assert resp.status_code == 200
    assert {m["id"] for m in resp.json()["client"]["care_team"]} == {coach.id}
    update = await coach_socket.until(is_event("care_team.updated", tid))
    assert update["event"]["data"]["added"] == [coach.id]
    assert update["event"]["data"]["removed"] == [dietitian.id]
    await dietitian_socket.until(is_event("member.removed", tid))
    kinds = [e["kind"] for e in await all_events(http, primary, tid)]
    assert kinds[-3:] == ["member.removed", "member.added", "care_team.updated"]
    # The new member chats with the client's thread; the old one is out.
    await say(http, coach, tid, "Hi Alex, I'm your coach.")
    assert (await http.get(f"/threads/{tid}", headers=dietitian.headers)).status_code == 404

    # Changing the primary provider swaps them in the thread too.
    resp = await http.patch(f"/clients/{client['id']}",
                            json={"primary_provider_id": dietitian.id}, headers=owner.headers)
    body = resp.json()["client"]
    assert body["primary_provider"]["id"] == dietitian.id
    members = {m["id"] for m in (await http.get(f"/threads/{tid}", headers=owner.headers)
                                 ).json()["thread"]["members"]}
    assert members == {client["id"], dietitian.id, coach.id}
    # A staff member cannot be the primary provider.
    resp = await http.patch(f"/clients/{client['id']}",
                            json={"primary_provider_id": coach.id}, headers=owner.headers)
    assert resp.status_code == 404
    await coach_socket.close()
    await dietitian_socket.close()


async def test_a_client_without_email_has_no_login_until_one_is_added(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    client = await add_client(http, owner, name="Kid Without Email")
    assert client["email"] is None and client["invitation"] == "none"
    resend = await http.post(f"/clients/{client['id']}/invitations", headers=owner.headers)
    assert resend.status_code == 400 and resend.json()["code"] == "no_email"
    email = unique_email("parent")
    resp = await http.patch(f"/clients/{client['id']}", json={"email": email},
                            headers=owner.headers)
    assert resp.json()["client"]["invitation"] == "sent"
    mail = await mailbox.wait_for(email)
    resp = await http.post("/invitations/accept", json={"token": mail.token,
                                                        "password": "a long password"})
    assert resp.status_code == 201 and resp.json()["user"]["id"] == client["id"]


async def test_adding_without_sending_the_invitation(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    email = unique_email("quiet")
    client = await add_client(http, owner, name="Quiet Client", email=email, send_invite=False)
    assert client["invitation"] == "not_sent"
    resp = await http.post(f"/clients/{client['id']}/invitations", headers=owner.headers)
    assert resp.status_code == 201
    assert (await mailbox.wait_for(email)).token
    assert len(mailbox.to(email)) == 1


async def test_an_email_already_in_the_practice_is_taken(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    email = unique_email("dup")
    await add_client(http, owner, name="First", email=email)
    resp = await http.post("/clients", json={"name": "Second", "email": email.upper()},
                           headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "email_taken"
    resp = await http.post("/clients", json={"name": "Owner Twin", "email": owner.email},
                           headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "email_taken"


async def test_someone_who_signs_up_as_a_practice_with_a_client_email_gets_a_clear_error(
    http: httpx.AsyncClient,
) -> None:
    owner = await new_practice(http)
    email = unique_email("client")
    await add_client(http, owner, name="Jo Client", email=email)
    resp = await http.post("/organizations", json={
        "name": "Jo's Practice", "owner": {"name": "Jo", "email": email,
                                           "password": "a long password"}})
    assert resp.status_code == 409
    assert resp.json()["code"] == "email_taken" and "client" in resp.json()["detail"]


async def test_a_care_threads_members_follow_the_care_team_only(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    client = await add_client(http, provider, name="Private Person")
    nosy = await add_client(http, provider, name="Other Client")
    tid = client["care_thread_id"]
    resp = await http.post(f"/threads/{tid}/members", json={"user_id": nosy["id"]},
                           headers=provider.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "managed_by_care_team"
    resp = await http.delete(f"/threads/{tid}/members/{client['id']}", headers=provider.headers)
    assert resp.status_code == 409
    members = {m["id"] for m in (await http.get(f"/threads/{tid}", headers=provider.headers)
                                 ).json()["thread"]["members"]}
    assert members == {client["id"], provider.id}


async def test_a_care_team_member_made_primary_provider_leaves_the_listed_care_team(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    """The primary provider is never listed among the other members of the care team too."""
    owner = await new_practice(http)
    primary = await invite_staff(http, mailbox, owner, name="Primary P")
    dietitian = await invite_staff(http, mailbox, owner, name="Dietitian D")
    client = await add_client(http, primary, name="Jamie Doe",
                              care_team_ids=[dietitian.id])
    assert {m["id"] for m in client["care_team"]} == {dietitian.id}

    resp = await http.patch(f"/clients/{client['id']}",
                            json={"primary_provider_id": dietitian.id}, headers=owner.headers)
    assert resp.status_code == 200, resp.text
    moved = resp.json()["client"]
    assert moved["primary_provider"]["id"] == dietitian.id
    assert moved["care_team"] == []
    # Read back, it stays so.
    again = (await http.get(f"/clients/{client['id']}", headers=owner.headers)).json()["client"]
    assert again["primary_provider"]["id"] == dietitian.id and again["care_team"] == []
