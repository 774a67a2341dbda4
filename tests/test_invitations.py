"""Owners invite providers; the emailed link works once, for the newest invitation only."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import app_client
from tests.helpers import PASSWORD, invite_staff, login, new_bot, new_practice, unique_email
from tests.mailbox import Mailbox


async def test_owner_invites_a_provider_who_sets_a_password_and_logs_in(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http, "Maple Clinic")
    email = unique_email("provider")
    resp = await http.post("/providers", json={"name": "Dr. Lee", "email": email},
                           headers=owner.headers)
    assert resp.status_code == 201
    user = resp.json()["user"]
    assert user["role"] == "provider" and user["status"] == "invited"
    mail = await mailbox.wait_for(email)
    assert "Maple Clinic" in mail.subject
    assert mail.links[0].startswith("http://carethread.test/")
    # Not yet a login: no password was ever set.
    assert (await login(http, email)).status_code == 401
    resp = await http.post("/invitations/accept", json={"token": mail.token, "password": PASSWORD})
    assert resp.status_code == 201
    assert resp.json()["user"]["id"] == user["id"]
    me = await http.get("/me", headers={"Authorization": f"Bearer {resp.json()['token']}"})
    assert me.json()["role"] == "provider"
    assert (await login(http, email)).status_code == 201
    # The link is spent.
    again = await http.post("/invitations/accept", json={"token": mail.token, "password": "x" * 9})
    assert again.status_code == 410
    assert again.json()["code"] == "invitation_used"


async def test_a_new_invitation_kills_the_earlier_link(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    email = unique_email("provider")
    await http.post("/providers", json={"name": "Sam", "email": email}, headers=owner.headers)
    first = await mailbox.wait_for(email)
    # Inviting the same email again in the same practice is refused...
    resp = await http.post("/providers", json={"name": "Sam", "email": email},
                           headers=owner.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "email_taken"
    # ...and an invitation to the same person in another practice is a second profile, whose
    # link does not disturb the first one.
    other = await new_practice(http)
    await http.post("/providers", json={"name": "Sam", "email": email}, headers=other.headers)
    second = await mailbox.wait_for(email, count=2)
    assert first.token != second.token
    ok = await http.post("/invitations/accept", json={"token": first.token, "password": PASSWORD})
    assert ok.status_code == 201


async def test_two_concurrent_redemptions_give_exactly_one_session(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    email = unique_email("provider")
    await http.post("/providers", json={"name": "Kim", "email": email}, headers=owner.headers)
    token = (await mailbox.wait_for(email)).token
    results = await asyncio.gather(*[
        http.post("/invitations/accept", json={"token": token, "password": PASSWORD})
        for _ in range(5)
    ])
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 410, 410, 410, 410], [r.text for r in results]
    resp = await login(http, email)
    assert resp.status_code == 201
    assert len(resp.json()["profiles"]) == 1


async def test_a_provider_of_two_practices_keeps_one_password_and_sees_both_profiles(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    first = await new_practice(http, "First Practice")
    second = await new_practice(http, "Second Practice")
    email = unique_email("provider")
    pro = await invite_staff(http, mailbox, first, email=email)
    await http.post("/providers", json={"name": "Pat", "email": email}, headers=second.headers)
    mail = await mailbox.wait_for(email, count=2)
    # The existing login must prove its password; a new one is not set.
    wrong = await http.post("/invitations/accept", json={"token": mail.token,
                                                         "password": "a different one"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    ok = await http.post("/invitations/accept", json={"token": mail.token, "password": PASSWORD})
    assert ok.status_code == 201
    assert ok.json()["user"]["organization_id"] == second.org_id
    resp = await login(http, email)
    names = sorted(p["organization_name"] for p in resp.json()["profiles"])
    assert names == ["First Practice", "Second Practice"]
    # Choosing a profile at login.
    chosen = await http.post("/sessions", json={"email": email, "password": PASSWORD,
                                                "profile_id": ok.json()["user"]["id"]})
    me = await http.get("/me", headers={"Authorization": f"Bearer {chosen.json()['token']}"})
    assert me.json()["organization"]["id"] == second.org_id
    assert pro.org_id == first.org_id


async def test_an_expired_invitation_fails_with_a_clear_code(
    start_server: object, mailbox: Mailbox
) -> None:
    srv = start_server(INVITATION_LIFETIME_SECONDS="1")  # type: ignore[operator]
    async with app_client(srv.url) as http:
        owner = await new_practice(http)
        email = unique_email("provider")
        await http.post("/providers", json={"name": "Al", "email": email}, headers=owner.headers)
        token = (await mailbox.wait_for(email)).token
        await asyncio.sleep(1.2)
        resp = await http.post("/invitations/accept", json={"token": token, "password": PASSWORD})
        assert resp.status_code == 410
        assert resp.json()["code"] == "invitation_expired"


async def test_unknown_invitation_token(http: httpx.AsyncClient) -> None:
    resp = await http.post("/invitations/accept", json={"token": "nope", "password": PASSWORD})
    assert resp.status_code == 404
    assert resp.json()["code"] == "invitation_invalid"


async def test_only_owners_and_admins_add_team_members_and_bots(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    admin = await invite_staff(http, mailbox, owner, role="admin")
    provider = await invite_staff(http, mailbox, owner, role="provider")
    staff = await invite_staff(http, mailbox, admin, role="staff")
    bot = await new_bot(http, admin)
    for person in (provider, staff, bot):
        resp = await http.post("/providers", json={"name": "X", "email": unique_email()},
                               headers=person.headers)
        assert resp.status_code == 403 and resp.json()["code"] == "forbidden"
        resp = await http.post("/bots", json={"name": "X"}, headers=person.headers)
        assert resp.status_code == 403 and resp.json()["code"] == "forbidden"
    for body in ({"name": "X", "email": unique_email()}, {"name": "X"}):
        path = "/providers" if "email" in body else "/bots"
        assert (await http.post(path, json=body)).status_code == 401


async def test_a_bot_acts_with_its_token(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    bot = await new_bot(http, owner, "Welcome Bot")
    me = await http.get("/me", headers=bot.headers)
    assert me.status_code == 200
    assert me.json()["role"] == "bot" and me.json()["user"]["name"] == "Welcome Bot"
    assert me.json()["organization"]["id"] == owner.org_id
    assert (await http.delete("/sessions/current", headers=bot.headers)).status_code == 204
    assert (await http.get("/me", headers=bot.headers)).status_code == 401


async def test_an_invitation_link_can_be_previewed_until_it_is_spent(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http, "Preview Practice")
    email = unique_email("provider")
    await http.post("/providers", json={"name": "Pia", "email": email}, headers=owner.headers)
    token = (await mailbox.wait_for(email)).token
    preview = (await http.get(f"/invitations/{token}")).json()["invitation"]
    assert preview == {"organization_name": "Preview Practice", "name": "Pia", "email": email,
                       "role": "provider", "existing_login": False}
    await http.post("/invitations/accept", json={"token": token, "password": PASSWORD})
    spent = await http.get(f"/invitations/{token}")
    assert spent.status_code == 410 and spent.json()["code"] == "invitation_used"
    assert (await http.get("/invitations/nope")).status_code == 404
