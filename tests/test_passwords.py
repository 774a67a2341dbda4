"""Forgot, reset and change password; a provider resets a client's password by email."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.helpers import PASSWORD, accept, add_client, bearer, login, new_practice, unique_email
from tests.mailbox import Mailbox
from tests.wsclient import Socket


async def test_forgot_password_answers_the_same_and_resets_once(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http)
    other_session = (await login(http, owner.email)).json()["token"]
    sock = await Socket.ready(server.ws_url, other_session)
    known = await http.post("/password/forgot", json={"email": owner.email})
    unknown = await http.post("/password/forgot", json={"email": unique_email("nobody")})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    mail = await mailbox.wait_for(owner.email)
    assert "/reset-password?token=" in mail.links[0]
    short = await http.post("/password/reset", json={"token": mail.token, "password": "short"})
    assert short.status_code == 400  # nothing spent
    resp = await http.post("/password/reset", json={"token": mail.token,
                                                    "password": "a brand new password"})
    assert resp.status_code == 204
    # Every session ended, sockets included; the old password is gone.
    assert await sock.closed_with(wait=2) == 4401
    for token in (owner.token, other_session):
        assert (await http.get("/me", headers=bearer(token))).status_code == 401
    assert (await login(http, owner.email)).status_code == 401
    assert (await login(http, owner.email, "a brand new password")).status_code == 201
    again = await http.post("/password/reset", json={"token": mail.token,
                                                     "password": "another password"})
    assert again.status_code == 410 and again.json()["code"] == "reset_used"
    bogus = await http.post("/password/reset", json={"token": "nope", "password": PASSWORD})
    assert bogus.status_code == 404 and bogus.json()["code"] == "reset_invalid"


async def test_a_newer_reset_link_kills_the_older_one(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    await http.post("/password/forgot", json={"email": owner.email})
    first = await mailbox.wait_for(owner.email)
    await http.post("/password/forgot", json={"email": owner.email})
    second = await mailbox.wait_for(owner.email, count=2)
    old = await http.post("/password/reset", json={"token": first.token,
                                                   "password": "whatever it is"})
    assert old.status_code == 410
    ok = await http.post("/password/reset", json={"token": second.token,
                                                  "password": "whatever it is"})
    assert ok.status_code == 204


async def test_changing_the_password_ends_the_other_sessions(
    http: httpx.AsyncClient,
) -> None:
    owner = await new_practice(http)
    other = (await login(http, owner.email)).json()["token"]
    wrong = await http.post("/password/change", json={"current_password": "nope nope",
                                                      "new_password": "fresh password 1"},
                            headers=owner.headers)
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    ok = await http.post("/password/change", json={"current_password": PASSWORD,
                                                   "new_password": "fresh password 1"},
                         headers=owner.headers)
    assert ok.status_code == 204
    assert (await http.get("/me", headers=owner.headers)).status_code == 200
    assert (await http.get("/me", headers=bearer(other))).status_code == 401
    assert (await login(http, owner.email, "fresh password 1")).status_code == 201


async def test_a_provider_sends_a_client_a_reset_email(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    email = unique_email("client")
    client = await add_client(http, owner, name="Rae Reset", email=email)
    early = await http.post(f"/clients/{client['id']}/password-reset", headers=owner.headers)
    assert early.status_code == 409 and early.json()["code"] == "invitation_pending"
    await accept(http, (await mailbox.wait_for(email)).token)
    resp = await http.post(f"/clients/{client['id']}/password-reset", headers=owner.headers)
    assert resp.status_code == 202
    mail = await mailbox.wait_for(email, count=2)
    assert "reset" in mail.subject.lower()
    done = await http.post("/password/reset", json={"token": mail.token,
                                                    "password": "client's new password"})
    assert done.status_code == 204
    assert (await login(http, email, "client's new password")).status_code == 201
