"""One person, a client of two practices: one login, two profiles, nothing shared between them."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.helpers import (
    PASSWORD,
    accept,
    add_client,
    all_events,
    bearer,
    new_practice,
    say,
    unique_email,
)
from tests.mailbox import Mailbox
from tests.wsclient import Socket


async def test_a_client_of_two_practices_switches_between_them(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    first = await new_practice(http, "First Clinic")
    second = await new_practice(http, "Second Studio")
    email = unique_email("both")
    in_first = await add_client(http, first, name="Morgan Both", email=email)
    await accept(http, (await mailbox.wait_for(email)).token)
    in_second = await add_client(http, second, name="Morgan Both", email=email)
    mail = await mailbox.wait_for(email, count=2)
    # The existing login proves its password; it is not replaced.
    wrong = await http.post("/invitations/accept", json={"token": mail.token,
                                                         "password": "not my password"})
    assert wrong.status_code == 401
    in_second_user = await accept(http, mail.token, PASSWORD)
    assert in_second_user.id == in_second["id"]

    resp = await http.post("/sessions", json={"email": email, "password": PASSWORD})
    profiles = resp.json()["profiles"]
    assert {p["organization_name"] for p in profiles} == {"First Clinic", "Second Studio"}
    token = resp.json()["token"]
    me = (await http.get("/me", headers=bearer(token))).json()
    assert len(me["profiles"]) == 2
    current = me["organization"]["id"]
    other = next(p for p in profiles if p["organization_id"] != current)

    await say(http, first, in_first["care_thread_id"], "First practice only")
    sock = await Socket.ready(server.ws_url, token)
    switched = await http.post("/sessions/switch", json={"profile_id": other["id"]},
                               headers=bearer(token))
    assert switched.status_code == 201
    new_token = switched.json()["token"]
    assert await sock.closed_with(wait=2) == 4401  # the old session's socket ends
    assert (await http.get("/me", headers=bearer(token))).status_code == 401
    me = (await http.get("/me", headers=bearer(new_token))).json()
    assert me["organization"]["id"] == other["organization_id"]

    # Nothing of one practice is visible from the other.
    threads = (await http.get("/threads", headers=bearer(new_token))).json()["threads"]
    first_thread = in_first["care_thread_id"]
    second_thread = in_second["care_thread_id"]
    mine = second_thread if other["organization_id"] == second.org_id else first_thread
    theirs = first_thread if mine == second_thread else second_thread
    assert [t["id"] for t in threads] == [mine]
    assert (await http.get(f"/threads/{theirs}/events",
                           headers=bearer(new_token))).status_code == 404
    # And the practices never see each other's client.
    assert (await http.get(f"/clients/{in_first['id']}",
                           headers=second.headers)).status_code == 404
    listed = (await http.get("/clients", headers=second.headers)).json()["clients"]
    assert [c["id"] for c in listed] == [in_second["id"]]
    # A profile that is not this login's cannot be switched to.
    resp = await http.post("/sessions/switch", json={"profile_id": first.id},
                           headers=bearer(new_token))
    assert resp.status_code == 404
    events = await all_events(http, second, second_thread)
    assert "First practice only" not in str(events)
