"""Groups, tags and the group sign-up link; a "Prospective clients" group as a small CRM."""

from __future__ import annotations

import uuid

import httpx

from tests.helpers import (
    PASSWORD,
    add_client,
    all_events,
    bearer,
    invite_staff,
    new_practice,
    unique_email,
)
from tests.mailbox import Mailbox


async def _join(http: httpx.AsyncClient, link: str, name: str, email: str) -> httpx.Response:
    code = link.rsplit("/", 1)[1]
    return await http.post(f"/join/{code}", json={"name": name, "email": email,
                                                  "password": PASSWORD})


async def test_sign_up_through_a_group_link_with_round_robin_assignment(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http, "Round Robin Health")
    first = await invite_staff(http, mailbox, owner, name="First Provider")
    second = await invite_staff(http, mailbox, owner, name="Second Provider")
    await http.patch("/practice/settings", json={
        "welcome_enabled": True, "welcome_text": "Welcome, {client_first_name}, I'm "
        "{provider_first_name} from {practice_name}."}, headers=owner.headers)
    resp = await http.post("/groups", json={"name": "Weight care"}, headers=owner.headers)
    assert resp.status_code == 201
    group = resp.json()["group"]
    assert group["invite_link"].startswith("http://carethread.test/join/")
    info = await http.get(f"/join/{group['invite_link'].rsplit('/', 1)[1]}")
    assert info.json() == {"organization": {"name": "Round Robin Health"},
                           "group": {"name": "Weight care"}}

    assigned = []
    for i in range(4):
        resp = await _join(http, group["invite_link"], f"Joiner {i}", unique_email("joiner"))
        assert resp.status_code == 201, resp.text
        joiner = resp.json()
        assert joiner["user"]["role"] == "client"
        me = await http.get("/me", headers=bearer(joiner["token"]))
        assert me.status_code == 200
        client = (await http.get(f"/clients/{joiner['user']['id']}",
                                 headers=owner.headers)).json()["client"]
        assert client["group"]["id"] == group["id"]
        assert client["invitation"] == "accepted"
        assigned.append(client["primary_provider"]["id"])
        threads = (await http.get("/threads", headers=bearer(joiner["token"]))
                   ).json()["threads"]
        welcome = threads[0]["last_message"]
        provider_name = client["primary_provider"]["name"].split()[0]
        assert welcome["body"] == (f"Welcome, Joiner, I'm {provider_name} from "
                                   "Round Robin Health.")
    # Round-robin among the providers (the owner is not a provider).
    assert assigned == [first.id, second.id, first.id, second.id]

    # A named default instead.
    await http.patch("/practice/settings", json={"assignment_mode": "named",
                                                 "default_provider_id": second.id},
                     headers=owner.headers)
    resp = await _join(http, group["invite_link"], "Named Joiner", unique_email("named"))
    client = (await http.get(f"/clients/{resp.json()['user']['id']}",
                             headers=owner.headers)).json()["client"]
    assert client["primary_provider"]["id"] == second.id


async def test_email_in_use_and_rotated_links_give_clear_errors(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    group = (await http.post("/groups", json={"name": "Intake"}, headers=owner.headers)
             ).json()["group"]
    resp = await _join(http, group["invite_link"], "Owner Again", owner.email)
    assert resp.status_code == 409 and resp.json()["code"] == "email_taken"
    assert "already in use" in resp.json()["detail"]
    rotated = (await http.post(f"/groups/{group['id']}/invite-link", headers=owner.headers)
               ).json()["group"]
    assert rotated["invite_link"] != group["invite_link"]
    resp = await _join(http, group["invite_link"], "Late", unique_email())
    assert resp.status_code == 404 and resp.json()["code"] == "invite_link_invalid"
    resp = await _join(http, rotated["invite_link"], "On time", unique_email())
    assert resp.status_code == 201


async def test_groups_and_tags_filter_the_client_list_and_prospects_move_on(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    prospects = (await http.post("/groups", json={"name": "Prospective clients",
                                                  "kind": "prospective"},
                                 headers=owner.headers)).json()["group"]
    active = (await http.post("/groups", json={"name": "Active care"},
                              headers=owner.headers)).json()["group"]
    vip = (await http.post("/tags", json={"name": "VIP"}, headers=provider.headers)
           ).json()["tag"]
    sports = (await http.post("/tags", json={"name": "Sports"}, headers=provider.headers)
              ).json()["tag"]
    lead = await add_client(http, provider, name="Lena Lead", group_id=prospects["id"],
                            tag_ids=[vip["id"]])
    other = await add_client(http, owner, name="Omar Other", tag_ids=[sports["id"]],
                             primary_provider_id=provider.id)
    mine = await add_client(http, owner, name="Ola Owner's")

    async def names(**params: str) -> list[str]:
        resp = await http.get("/clients", params=params, headers=provider.headers)
        assert resp.status_code == 200, resp.text
        return sorted(c["name"] for c in resp.json()["clients"])

    assert await names(group_id=prospects["id"]) == ["Lena Lead"]
    assert await names(tag_id=vip["id"]) == ["Lena Lead"]
    assert await names(primary_provider_id=provider.id) == ["Lena Lead", "Omar Other"]
    assert await names(search="ola") == ["Ola Owner's"]
    assert await names(invitation="none") == ["Lena Lead", "Ola Owner's", "Omar Other"]
    assert await names(tag_id=str(uuid.uuid4())) == []

    # The prospect becomes a client in active care: group.changed, staff-only.
    resp = await http.patch(f"/clients/{lead['id']}", json={"group_id": active["id"],
                                                            "tag_ids": [sports["id"]]},
                            headers=provider.headers)
    assert resp.json()["client"]["group"]["id"] == active["id"]
    assert [t["name"] for t in resp.json()["client"]["tags"]] == ["Sports"]
    events = await all_events(http, provider, lead["care_thread_id"])
    changed = [e for e in events if e["kind"] == "group.changed"]
    assert changed[-1]["data"]["to"] == active["id"] and changed[-1]["audience"] == "staff"
    assert "tags.changed" in [e["kind"] for e in events]
    groups = (await http.get("/groups", headers=provider.headers)).json()["groups"]
    counts = {g["name"]: g["client_count"] for g in groups}
    assert counts == {"Active care": 1, "Prospective clients": 0}
    assert await names(group_id=prospects["id"]) == []
    # Deleting a group leaves its clients without one; deleting a tag unlabels them.
    assert (await http.delete(f"/groups/{active['id']}", headers=owner.headers)
            ).status_code == 200
    assert (await http.delete(f"/tags/{sports['id']}", headers=owner.headers)
            ).status_code == 200
    client = (await http.get(f"/clients/{lead['id']}", headers=owner.headers)).json()["client"]
    assert client["group"] is None and client["tags"] == []
    assert other["id"] and mine["id"]
    # Names are unique per practice.
    dup = await http.post("/groups", json={"name": "Prospective clients"},
                          headers=owner.headers)
    assert dup.status_code == 409 and dup.json()["code"] == "name_taken"
    assert (await http.post("/tags", json={"name": "VIP"}, headers=owner.headers)
            ).status_code == 409
