"""The provider's newsfeed: the newest activity of their own clients, paged, filtered, with
unread marks; owners see the whole practice; clients and strangers see none of it."""

from __future__ import annotations

import uuid

import httpx

from tests.care_helpers import feed, log_metric, signed_up_client, write_journal
from tests.forms_helpers import GOOD_INTAKE, new_form, request_form
from tests.helpers import invite_staff, new_practice
from tests.mailbox import Mailbox


async def test_a_provider_sees_their_clients_activity_newest_first(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    ada = await invite_staff(http, mailbox, owner, name="Ada Provider")
    ben = await invite_staff(http, mailbox, owner, name="Ben Provider")
    robin_client, robin = await signed_up_client(http, mailbox, ada, name="Robin Hart")
    sam_client, sam = await signed_up_client(http, mailbox, ada, name="Sam Stone")
    casey_client, casey = await signed_up_client(http, mailbox, ben, name="Casey Cole")
    group = (await http.post("/groups", json={"name": "Weight loss"}, headers=owner.headers)
             ).json()["group"]
    resp = await http.patch(f"/clients/{sam_client['id']}", json={"group_id": group["id"]},
                            headers=ada.headers)
    assert resp.status_code == 200, resp.text

    await log_metric(http, robin, robin_client["id"], "body_weight", 70, "kg")
    await write_journal(http, robin, robin_client["id"], "food", "Oatmeal and berries")
    await log_metric(http, sam, sam_client["id"], "mood", 4, "{score}")
    await log_metric(http, casey, casey_client["id"], "steps", 12000, "{steps}")
    form = await new_form(http, owner)
    [request] = await request_form(http, ada, form["id"], robin_client["id"])
    resp = await http.post(f"/form-requests/{request['id']}/submit",
                           json={"answers": GOOD_INTAKE}, headers=robin.headers)
    assert resp.status_code == 200, resp.text

    page = await feed(http, ada)
    items = page["items"]
    assert [(i["client_name"], i["category"], i["event"]["kind"]) for i in items] == [
        ("Robin Hart", "form", "form.completed"),
        ("Sam Stone", "metric", "metric.logged"),
        ("Robin Hart", "journal", "journal.entry"),
        ("Robin Hart", "metric", "metric.logged"),
    ]
    assert items[1]["client_id"] == sam_client["id"]
    assert items[1]["event"]["data"]["type"] == "mood"
    assert items[2]["event"]["data"]["text"] == "Oatmeal and berries"
    assert page["next_cursor"] is None and page["unread"] == 4
    assert all(i["unread"] for i in items)

    # Ben sees only Casey; the owner sees the whole practice.
    assert [i["client_name"] for i in (await feed(http, ben))["items"]] == ["Casey Cole"]
    assert len((await feed(http, owner))["items"]) == 5

    # Filters: a kind, a client, a group.
    assert [i["category"] for i in (await feed(http, ada, kind="journal"))["items"]] == [
        "journal"]
    assert {i["client_name"] for i in (await feed(http, ada, client_id=robin_client["id"])
                                       )["items"]} == {"Robin Hart"}
    assert [i["client_name"] for i in (await feed(http, ada, group_id=group["id"]))["items"]
            ] == ["Sam Stone"]
    assert (await feed(http, ben, group_id=group["id"]))["items"] == []
    # Another provider's client, by id: not found, as if it did not exist.
    resp = await http.get("/feed", params={"client_id": casey_client["id"]},
                          headers=ada.headers)
    assert resp.status_code == 404


async def test_pages_follow_each_other_without_gaps_or_repeats(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    client, robin = await signed_up_client(http, mailbox, owner)
    for mood in [1, 2, 3, 4, 5, 4, 3]:
        await log_metric(http, robin, client["id"], "mood", mood, "{score}")
    whole = [i["id"] for i in (await feed(http, owner, limit=100))["items"]]
    assert len(whole) == 7
    walked: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = await feed(http, owner, **params)
        walked += [i["id"] for i in page["items"]]
        pages += 1
        assert ("unread" in page) == (cursor is None)  # counted on the first page only
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == whole and pages == 3
    # New activity while paging does not shift the later pages.
    first = await feed(http, owner, limit=3)
    await log_metric(http, robin, client["id"], "mood", 2, "{score}")
    second = await feed(http, owner, limit=3, cursor=first["next_cursor"])
    assert [i["id"] for i in second["items"]] == whole[3:6]


async def test_unread_marks_follow_what_the_provider_has_read(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    client, robin = await signed_up_client(http, mailbox, provider)
    await log_metric(http, robin, client["id"], "mood", 3, "{score}")
    await log_metric(http, robin, client["id"], "mood", 4, "{score}")
    await log_metric(http, provider, client["id"], "body_weight", 70, "kg")  # their own
    page = await feed(http, provider)
    assert [i["unread"] for i in page["items"]] == [False, True, True]
    assert page["unread"] == 2
    # Read up to the older mood: the newer one stays unread.
    oldest = page["items"][-1]["id"]
    resp = await http.post("/feed/read", json={"item_id": oldest}, headers=provider.headers)
    assert resp.status_code == 200 and resp.json() == {"unread": 1}
    resp = await http.post("/feed/read", json={}, headers=provider.headers)
    assert resp.json() == {"unread": 0}
    assert (await feed(http, provider))["unread"] == 0
    # Marks never move back; the owner's marks are their own.
    await http.post("/feed/read", json={"item_id": oldest}, headers=provider.headers)
    assert (await feed(http, provider))["unread"] == 0
    assert (await feed(http, owner))["unread"] == 3
    await write_journal(http, robin, client["id"], "mood", "Better today")
    page = await feed(http, provider)
    assert page["unread"] == 1 and page["items"][0]["unread"]
    resp = await http.post("/feed/read", json={"item_id": str(uuid.uuid4())},
                           headers=provider.headers)
    assert resp.status_code == 404


async def test_clients_strangers_and_bad_queries_get_no_feed(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    client, robin = await signed_up_client(http, mailbox, owner)
    await log_metric(http, robin, client["id"], "mood", 3, "{score}")
    assert (await http.get("/feed", headers=robin.headers)).status_code == 404
    assert (await http.post("/feed/read", json={}, headers=robin.headers)).status_code == 404
    assert (await http.get("/feed")).status_code == 401
    elsewhere = await new_practice(http, "Elsewhere Clinic")
    assert (await feed(http, elsewhere))["items"] == []
    resp = await http.get("/feed", params={"client_id": client["id"]},
                          headers=elsewhere.headers)
    assert resp.status_code == 404
    for params, code in [({"cursor": "bm90LWEtY3Vyc29y"}, "invalid_cursor"),
                         ({"cursor": "%%%"}, "invalid_cursor"),
                         ({"kind": "gossip"}, "validation_error"),
                         ({"client_id": "nope"}, "validation_error"),
                         ({"limit": 0}, "validation_error")]:
        resp = await http.get("/feed", params=params, headers=owner.headers)
        assert resp.status_code == 400, (params, resp.text)
        assert resp.json()["code"] == code
    resp = await http.post("/feed/read", json={"item_id": 5}, headers=owner.headers)
    assert resp.status_code == 400
