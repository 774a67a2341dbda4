"""A new practice's first hour, on the server: the welcome message is on, team invitations can
be resent, unread counts what a person calls new, previews show cards, messages can quote and be
reacted to, and a client's phone and birth date are checked."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import httpx

from tests.conftest import Server
from tests.forms_helpers import new_form, request_form
from tests.helpers import (
    PASSWORD,
    Person,
    accept,
    add_client,
    all_events,
    bearer,
    invite_staff,
    new_practice,
    new_thread,
    say,
    unique_email,
)
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event


async def _client_person(http: httpx.AsyncClient, mailbox: Mailbox, provider: Person,
                         name: str = "Robin Hart") -> tuple[dict, Person]:
    email = unique_email("client")
    client = await add_client(http, provider, name=name, email=email)
    mail = await mailbox.wait_for(email)
    return client, await accept(http, mail.token)


async def _threads(http: httpx.AsyncClient, person: Person) -> dict[str, dict]:
    resp = await http.get("/threads", headers=person.headers)
    assert resp.status_code == 200, resp.text
    return {t["id"]: t for t in resp.json()["threads"]}


# --- defaults --------------------------------------------------------------------------------


async def test_a_new_practice_welcomes_its_first_client_without_being_told_to(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http, "Bright Path Nutrition")
    settings = (await http.get("/practice/settings", headers=owner.headers)).json()["settings"]
    assert settings["welcome_enabled"] is True
    assert "{client_first_name}" in settings["welcome_text"]
    assert "{practice_name}" in settings["welcome_text"]
    client, robin = await _client_person(http, mailbox, owner)
    welcome = [e for e in await all_events(http, robin, client["care_thread_id"])
               if e["kind"] == "message"]
    assert len(welcome) == 1 and welcome[0]["data"] == {"automated": True}
    assert welcome[0]["body"].startswith("Hi Robin, welcome to Bright Path Nutrition! I'm Olivia")
    assert "{" not in welcome[0]["body"]

    # Turned off, it stays off.
    resp = await http.patch("/practice/settings", json={"welcome_enabled": False},
                            headers=owner.headers)
    assert resp.status_code == 200 and resp.json()["settings"]["welcome_enabled"] is False
    quiet = await add_client(http, owner, name="Sam Quiet")
    kinds = [e["kind"] for e in await all_events(http, owner, quiet["care_thread_id"])]
    assert "message" not in kinds


async def test_an_owner_resends_a_team_invitation_and_only_the_new_link_works(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    email = unique_email("provider")
    resp = await http.post("/providers", json={"name": "Pat Provider", "email": email},
                           headers=owner.headers)
    assert resp.status_code == 201
    pat_id = resp.json()["user"]["id"]
    first = await mailbox.wait_for(email)

    resp = await http.post(f"/team/{pat_id}/invitations", headers=owner.headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["user"]["status"] == "invited"
    second = await mailbox.wait_for(email, count=2)
    assert second.token != first.token
    stale = await http.post("/invitations/accept", json={"token": first.token,
                                                         "password": PASSWORD})
    assert stale.status_code in (400, 404, 410), stale.text
    pat = await accept(http, second.token)
    assert pat.id == pat_id

    again = await http.post(f"/team/{pat_id}/invitations", headers=owner.headers)
    assert again.status_code == 409 and again.json()["code"] == "already_joined"
    assert len(mailbox.to(email)) == 2


async def test_resending_a_team_invitation_is_for_the_practice_s_admins_only(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    email = unique_email("staff")
    resp = await http.post("/providers", json={"name": "Sky Staff", "email": email,
                                               "role": "staff"}, headers=owner.headers)
    sky_id = resp.json()["user"]["id"]
    await mailbox.wait_for(email)
    stranger = await new_practice(http, "Elsewhere")
    _, other_client = await _client_person(http, mailbox, stranger)
    _, own_client = await _client_person(http, mailbox, owner)

    for person in (stranger, other_client):
        resp = await http.post(f"/team/{sky_id}/invitations", headers=person.headers)
        assert resp.status_code in (403, 404), resp.text
        assert resp.json()["code"] in ("not_found", "forbidden")
    resp = await http.post(f"/team/{sky_id}/invitations", headers=stranger.headers)
    assert resp.status_code == 404  # an admin elsewhere does not learn Sky exists
    for person in (provider, own_client):
        resp = await http.post(f"/team/{sky_id}/invitations", headers=person.headers)
        assert resp.status_code == 403, resp.text
    for bad in ("not-a-uuid", str(uuid.uuid4()), own_client.id):
        resp = await http.post(f"/team/{bad}/invitations", headers=owner.headers)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    resp = await http.post(f"/team/{sky_id}/invitations", content=b"{nonsense",
                           headers={**owner.headers, "Content-Type": "application/json"})
    assert resp.status_code == 201  # there is no body to read
    await mailbox.wait_for(email, count=2)


# --- unread and previews ---------------------------------------------------------------------


async def test_unread_counts_messages_and_cards_meant_for_the_person_not_bookkeeping(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    await http.patch("/practice/settings", json={"welcome_enabled": False},
                     headers=owner.headers)
    client, robin = await _client_person(http, mailbox, provider)
    tid = client["care_thread_id"]
    # Bookkeeping the provider's list used to count: a tag change, a care-team change.
    tag = (await http.post("/tags", json={"name": "VIP"}, headers=owner.headers)).json()["tag"]
    resp = await http.patch(f"/clients/{client['id']}", json={"tag_ids": [tag["id"]]},
                            headers=owner.headers)
    assert resp.status_code == 200, resp.text
    form = await new_form(http, owner, "Intake")
    [req] = await request_form(http, provider, form["id"], client["id"])
    await say(http, robin, tid, "Hello!")
    await say(http, robin, tid, "Are you there?")

    provider_view = (await _threads(http, provider))[tid]
    assert provider_view["unread"] == 2  # two messages; the tag change and invite lines are not
    robin_view = (await _threads(http, robin))[tid]
    assert robin_view["unread"] == 1  # the form meant for Robin
    assert robin_view["last_event"]["kind"] == "message"

    resp = await http.post(f"/form-requests/{req['id']}/submit",
                           json={"answers": {}}, headers=robin.headers)
    provider_view = (await _threads(http, provider))[tid]
    if resp.status_code == 200:  # the intake's answers may be all optional
        assert provider_view["unread"] == 3
        assert provider_view["last_event"]["kind"] == "form.completed"
        assert provider_view["last_message"]["body"] == "Are you there?"


async def test_the_preview_shows_the_latest_card_and_never_a_team_only_line_to_a_client(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    client, robin = await _client_person(http, mailbox, owner)
    tid = client["care_thread_id"]
    form = await new_form(http, owner, "Sleep diary")
    await request_form(http, owner, form["id"], client["id"])
    for person in (owner, robin):
        last = (await _threads(http, person))[tid]["last_event"]
        assert last["kind"] == "form.requested" and last["data"]["form_title"] == "Sleep diary"
    # A team-only line (a new invitation) is the owner's latest, never Robin's.
    await http.post(f"/clients/{client['id']}/invitations", headers=owner.headers)
    assert (await _threads(http, robin))[tid]["last_event"]["kind"] == "form.requested"


# --- replies and reactions -------------------------------------------------------------------


async def test_a_reply_quotes_a_message_of_the_same_thread_only(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    tid = await new_thread(http, owner, provider)
    other = await new_thread(http, owner, provider, title="Other")
    question = await say(http, owner, tid, "Can you cover Tuesday?")
    elsewhere = await say(http, owner, other, "Elsewhere")

    resp = await http.post(f"/threads/{tid}/messages", headers=provider.headers,
                           json={"body": "Yes", "client_id": "r1", "reply_to": question["id"]})
    assert resp.status_code == 201, resp.text
    assert resp.json()["event"]["data"] == {"reply_to": question["id"]}
    # Over the socket too.
    sock = await Socket.ready(server.ws_url, provider.token)
    await sock.send({"type": "send", "thread_id": tid, "client_id": "r2", "body": "And Wed",
                     "reply_to": question["id"]})
    ack = await sock.until(lambda f: f["type"] == "ack")
    assert ack["event"]["data"] == {"reply_to": question["id"]}
    await sock.close()

    for bad in (elsewhere["id"], str(uuid.uuid4())):
        resp = await http.post(f"/threads/{tid}/messages", headers=provider.headers,
                               json={"body": "x", "client_id": uuid.uuid4().hex,
                                     "reply_to": bad})
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    resp = await http.post(f"/threads/{tid}/messages", headers=provider.headers,
                           json={"body": "x", "client_id": "r3", "reply_to": "nope"})
    assert resp.status_code == 400 and resp.json()["code"] == "validation_error"
    kinds = [e["kind"] for e in await all_events(http, owner, tid)]
    assert kinds.count("message") == 3


async def test_reactions_are_events_their_author_alone_takes_back(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    tid = await new_thread(http, owner, provider)
    msg = await say(http, owner, tid, "Lunch at noon?")
    watcher = await Socket.ready(server.ws_url, owner.token)
    url = f"/threads/{tid}/messages/{msg['id']}/reactions"

    resp = await http.post(url, json={"emoji": "👍"}, headers=provider.headers)
    assert resp.status_code == 201, resp.text
    event = resp.json()["event"]
    assert event["kind"] == "reaction" and event["actor_id"] == provider.id
    assert event["data"] == {"event_id": msg["id"], "emoji": "👍"}
    live = await watcher.until(is_event("reaction", tid))
    assert live["event"]["id"] == event["id"]
    again = await http.post(url, json={"emoji": "👍"}, headers=provider.headers)
    assert again.status_code == 200 and again.json()["event"]["id"] == event["id"]

    # Only its author takes it back.
    thumbs = quote("👍")
    resp = await http.delete(f"{url}/{thumbs}", headers=owner.headers)
    assert resp.status_code == 404 and resp.json()["code"] == "no_reaction"
    resp = await http.delete(f"{url}/{thumbs}", headers=provider.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["event"]["data"] == {"event_id": msg["id"], "emoji": "👍",
                                            "removed": True}
    resp = await http.delete(f"{url}/{thumbs}", headers=provider.headers)
    assert resp.status_code == 404

    # Bad input changes nothing.
    stranger = await new_practice(http, "Elsewhere")
    for headers, path, body, status, code in [
        (stranger.headers, url, {"emoji": "👍"}, 404, "not_found"),
        (provider.headers, url, {"emoji": "🦄"}, 400, "invalid_emoji"),
        (provider.headers, url, {"emoji": 5}, 400, "validation_error"),
        (provider.headers, url, {}, 400, "validation_error"),
        (provider.headers, f"/threads/{tid}/messages/{uuid.uuid4()}/reactions",
         {"emoji": "👍"}, 404, "not_found"),
        (provider.headers, f"/threads/{tid}/messages/nope/reactions", {"emoji": "👍"}, 404,
         "not_found"),
    ]:
        resp = await http.post(path, json=body, headers=headers)
        assert (resp.status_code, resp.json()["code"]) == (status, code), resp.text
    first_event = (await all_events(http, owner, tid))[0]
    resp = await http.post(f"/threads/{tid}/messages/{first_event['id']}/reactions",
                           json={"emoji": "👍"}, headers=provider.headers)
    assert resp.status_code == 404  # only messages take reactions
    kinds = [e["kind"] for e in await all_events(http, owner, tid)]
    assert kinds.count("reaction") == 2
    # Reactions are not news.
    assert (await _threads(http, owner))[tid]["unread"] == 0
    await watcher.close()


async def test_a_client_of_another_practice_cannot_react_or_reply(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    client, robin = await _client_person(http, mailbox, owner)
    msg = await say(http, owner, client["care_thread_id"], "Hello Robin")
    other = await new_practice(http, "Elsewhere")
    _, outsider = await _client_person(http, mailbox, other, name="Out Sider")
    resp = await http.post(f"/threads/{client['care_thread_id']}/messages/{msg['id']}/reactions",
                           json={"emoji": "❤️"}, headers=outsider.headers)
    assert resp.status_code == 404
    resp = await http.post(f"/threads/{client['care_thread_id']}/messages/{msg['id']}/reactions",
                           json={"emoji": "❤️"}, headers=robin.headers)
    assert resp.status_code == 201


# --- validation ------------------------------------------------------------------------------


async def test_phone_numbers_are_checked_and_kept_in_e164(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    client = await add_client(http, owner, name="Pat Phone", phone="(415) 555-0132")
    assert client["phone"] == "+14155550132"
    for bad in ("call me maybe!!", "12", "+1 555 0100"):
        resp = await http.post("/clients", json={"name": "Bad Phone", "phone": bad},
                               headers=owner.headers)
        assert resp.status_code == 400, resp.text
        assert resp.json()["code"] == "invalid_phone" and resp.json()["field"] == "phone"
    resp = await http.patch(f"/clients/{client['id']}", json={"phone": "+44 20 7946 0958"},
                            headers=owner.headers)
    assert resp.status_code == 200 and resp.json()["client"]["phone"] == "+442079460958"
    resp = await http.patch(f"/clients/{client['id']}", json={"phone": "nope"},
                            headers=owner.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_phone"
    shown = (await http.get(f"/clients/{client['id']}", headers=owner.headers)).json()
    assert shown["client"]["phone"] == "+442079460958"


async def test_a_date_of_birth_in_the_future_is_refused(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    resp = await http.post("/clients", json={"name": "Future Kid", "date_of_birth": "2999-01-01"},
                           headers=owner.headers)
    assert resp.status_code == 400 and resp.json()["field"] == "date_of_birth"
    clients = (await http.get("/clients", headers=bearer(owner.token))).json()["clients"]
    assert not [c for c in clients if c["name"] == "Future Kid"]
