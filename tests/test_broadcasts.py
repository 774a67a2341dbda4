"""Broadcasts: one message from the sender in each client's care thread, placeholders filled
per client, now or later; recipients fixed when it is made; progress; other practices' groups
and clients are 404 and nothing goes out."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Server, app_client
from tests.helpers import (
    Person,
    add_client,
    invite_staff,
    new_practice,
)
from tests.mailbox import Mailbox
from tests.reach_helpers import Clock, eventually, messages

HOUR = 3600


async def _group(http: httpx.AsyncClient, admin: Person, name: str) -> str:
    resp = await http.post("/groups", json={"name": name}, headers=admin.headers)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["group"]["id"])


async def _progress(http: httpx.AsyncClient, person: Person, bid: str) -> dict[str, Any]:
    resp = await http.get(f"/broadcasts/{bid}", headers=person.headers)
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["broadcast"])


async def test_a_group_gets_one_personal_message_each_from_the_sender(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http, "Harbor Health")
    provider = await invite_staff(http, mailbox, owner, name="Dana Doctor")
    group = await _group(http, owner, "Spring cohort")
    names = ["Ana Lima", "Ben Okafor", "Chen Wu"]
    clients = [await add_client(http, provider, name=n, group_id=group, send_invite=False)
               for n in names]
    outsider = await add_client(http, provider, name="Out Sider", send_invite=False)

    resp = await http.post("/broadcasts", json={
        "body": "Hi {client_first_name}, {provider_name} from {practice_name} here: "
                "class moves to 6pm.",
        "group_id": group}, headers=provider.headers)
    assert resp.status_code == 201, resp.text
    made = resp.json()["broadcast"]
    assert made["recipients"] == 3

    done = await eventually(lambda: _progress(http, provider, made["id"]),
                            lambda b: b["status"] == "done")
    assert (done["sent"], done["failed"], done["pending"]) == (3, 0, 0)
    for name, client in zip(names, clients, strict=True):
        sent = await messages(http, provider, client["care_thread_id"])
        assert [(m["body"], m["actor_id"]) for m in sent] == [
            (f"Hi {name.split()[0]}, Dana Doctor from Harbor Health here: class moves to 6pm.",
             provider.id)]
    assert await messages(http, provider, outsider["care_thread_id"]) == []
    listed = (await http.get("/broadcasts", headers=provider.headers)).json()["broadcasts"]
    assert [b["id"] for b in listed] == [made["id"]]
    people = (await http.get(f"/broadcasts/{made['id']}/recipients",
                             headers=provider.headers)).json()["recipients"]
    assert sorted(p["name"] for p in people) == names
    assert {p["status"] for p in people} == {"sent"}

    # A list of clients works as well; one client twice is one message.
    resp = await http.post("/broadcasts", json={
        "body": "Quick check-in", "client_ids": [outsider["id"], outsider["id"]]},
        headers=provider.headers)
    assert resp.status_code == 201 and resp.json()["broadcast"]["recipients"] == 1
    sent = await eventually(lambda: messages(http, provider, outsider["care_thread_id"]),
                            lambda m: len(m) == 1)
    assert [m["body"] for m in sent] == ["Quick check-in"]


async def test_other_practices_groups_and_clients_are_404_and_nothing_is_sent(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    group = await _group(http, owner, "Ours")
    ours = await add_client(http, owner, name="Our Client", group_id=group, send_invite=False)
    other = await new_practice(http, "Rival Clinic")
    their_group = await _group(http, other, "Theirs")
    theirs = await add_client(http, other, name="Their Client", group_id=their_group,
                              send_invite=False)

    for body in ({"body": "Hello", "group_id": their_group},
                 {"body": "Hello", "client_ids": [theirs["id"]]},
                 {"body": "Hello", "client_ids": [ours["id"], theirs["id"]]},
                 {"body": "Hello", "group_id": "00000000-0000-4000-8000-000000000000"}):
        resp = await http.post("/broadcasts", json=body, headers=owner.headers)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found", resp.text
    for bad, code in (({"body": "Hello"}, "no_recipients"),
                      ({"body": "  ", "group_id": group}, "validation_error"),
                      ({"body": "Hi", "group_id": group, "send_at": "2001-01-01T00:00:00Z"},
                       "send_at_in_past"),
                      ({"body": 5, "group_id": group}, "validation_error")):
        resp = await http.post("/broadcasts", json=bad, headers=owner.headers)
        assert resp.status_code == 400 and resp.json()["code"] == code, resp.text
    assert (await http.post("/broadcasts", json={"body": "x", "group_id": group})
            ).status_code == 401
    # The other practice cannot read ours either.
    assert (await http.get("/broadcasts", headers=other.headers)).json()["broadcasts"] == []
    await asyncio.sleep(1.0)
    assert await messages(http, owner, ours["care_thread_id"]) == []
    assert await messages(http, other, theirs["care_thread_id"]) == []


async def test_a_scheduled_broadcast_keeps_its_recipients_and_can_be_cancelled(
    server: Server, mailbox: Mailbox, start_server: Any, tmp_path: Path
) -> None:
    clock = Clock(tmp_path / "clock")
    worker = start_server(CLOCK_OFFSET_FILE=str(clock.path), SCHEDULED_POLL_SECONDS="0.1")
    async with app_client(worker.url) as http:
        owner = await new_practice(http)
        group = await _group(http, owner, "Evening group")
        first = await add_client(http, owner, name="Fay First", group_id=group,
                                 send_invite=False)
        resp = await http.post("/broadcasts", json={
            "body": "See you tomorrow, {client_first_name}", "group_id": group,
            "send_at": clock.later(12 * HOUR)}, headers=owner.headers)
        assert resp.status_code == 202, resp.text
        later = resp.json()["broadcast"]
        stopped = (await http.post("/broadcasts", json={
            "body": "Cancelled news", "group_id": group, "send_at": clock.later(12 * HOUR)},
            headers=owner.headers)).json()["broadcast"]
        # Someone joining the group afterwards is not among the recipients.
        late = await add_client(http, owner, name="Lou Late", group_id=group, send_invite=False)
        assert (await _progress(http, owner, later["id"]))["status"] == "scheduled"
        resp = await http.delete(f"/broadcasts/{stopped['id']}", headers=owner.headers)
        assert resp.status_code == 200 and resp.json()["broadcast"]["status"] == "cancelled"

        clock.advance(12 * HOUR + 5)
        done = await eventually(lambda: _progress(http, owner, later["id"]),
                                lambda b: b["status"] == "done")
        assert (done["recipients"], done["sent"]) == (1, 1)
        await asyncio.sleep(0.5)
        assert [m["body"] for m in await messages(http, owner, first["care_thread_id"])] == [
            "See you tomorrow, Fay"]
        assert await messages(http, owner, late["care_thread_id"]) == []
        assert (await _progress(http, owner, stopped["id"]))["sent"] == 0
