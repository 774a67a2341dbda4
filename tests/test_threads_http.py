"""Threads over HTTP: members talk, history pages, read positions, and nobody else sees a thing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.helpers import all_events, new_practice, new_thread, say, team
from tests.mailbox import Mailbox

# A well-formed id that names nothing (fixed, so test ids are the same in every run).
UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def test_members_talk_and_read_the_history_in_order(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, provider, bot = await team(http, mailbox)
    tid = await new_thread(http, owner, provider, title="Intake questions")
    await say(http, owner, tid, "Welcome!")
    await say(http, provider, tid, "Hello, I am your provider.")
    events = await all_events(http, provider, tid)
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert [e["kind"] for e in events] == ["thread.created", "message", "message"]
    assert events[1]["actor_id"] == owner.id and events[2]["body"] == "Hello, I am your provider."
    listed = (await http.get("/threads", headers=provider.headers)).json()["threads"]
    mine = next(t for t in listed if t["id"] == tid)
    assert mine["title"] == "Intake questions" and mine["last_seq"] == 3
    assert mine["unread"] == 1  # the owner's message; its own does not count
    assert sorted(m["id"] for m in mine["members"]) == sorted([owner.id, provider.id])
    assert mine["last_message"]["body"] == "Hello, I am your provider."
    # Reading moves the position forward only.
    resp = await http.post(f"/threads/{tid}/read", json={"seq": 3}, headers=provider.headers)
    assert resp.json()["last_read_seq"] == 3
    await http.post(f"/threads/{tid}/read", json={"seq": 1}, headers=provider.headers)
    listed = (await http.get("/threads", headers=provider.headers)).json()["threads"]
    assert next(t for t in listed if t["id"] == tid)["unread"] == 0
    # The bot is not a member: it does not see the thread.
    assert (await http.get(f"/threads/{tid}", headers=bot.headers)).status_code == 404


async def test_history_pages_forward_and_back(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    for i in range(12):
        await say(http, owner, tid, f"note {i}")
    page = (await http.get(f"/threads/{tid}/events", params={"after": 0, "limit": 5},
                           headers=owner.headers)).json()
    assert [e["seq"] for e in page["events"]] == [1, 2, 3, 4, 5] and page["more"]
    newest = (await http.get(f"/threads/{tid}/events", params={"limit": 5},
                             headers=owner.headers)).json()
    assert [e["seq"] for e in newest["events"]] == [9, 10, 11, 12, 13] and newest["more"]
    older = (await http.get(f"/threads/{tid}/events", params={"before": 9, "limit": 5},
                            headers=owner.headers)).json()
    assert [e["seq"] for e in older["events"]] == [4, 5, 6, 7, 8]
    last = (await http.get(f"/threads/{tid}/events", params={"after": 10, "limit": 5},
                           headers=owner.headers)).json()
    assert [e["seq"] for e in last["events"]] == [11, 12, 13] and not last["more"]


async def test_a_retried_client_id_yields_one_event_even_ten_at_once(
    http: httpx.AsyncClient,
) -> None:
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    results = await asyncio.gather(*[
        http.post(f"/threads/{tid}/messages", json={"body": "once", "client_id": "abc-1"},
                  headers=owner.headers)
        for _ in range(10)
    ])
    assert all(r.status_code == 201 for r in results), [r.text for r in results]
    assert len({r.json()["event"]["id"] for r in results}) == 1
    events = await all_events(http, owner, tid)
    assert [e["kind"] for e in events] == ["thread.created", "message"]
    assert [e["seq"] for e in events] == [1, 2]


async def test_members_join_and_leave_and_see_only_their_window(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, provider, _bot = await team(http, mailbox)
    tid = await new_thread(http, owner)
    await say(http, owner, tid, "before the provider joined")
    resp = await http.post(f"/threads/{tid}/members", json={"user_id": provider.id},
                           headers=owner.headers)
    assert resp.status_code == 201 and resp.json()["event"]["kind"] == "member.added"
    again = await http.post(f"/threads/{tid}/members", json={"user_id": provider.id},
                            headers=owner.headers)
    assert again.status_code == 400 and again.json()["code"] == "already_member"
    await say(http, provider, tid, "joined")
    seen = [e["seq"] for e in await all_events(http, provider, tid)]
    assert seen == [3, 4]  # from the member.added on
    resp = await http.delete(f"/threads/{tid}/members/{provider.id}", headers=owner.headers)
    assert resp.status_code == 200 and resp.json()["event"]["kind"] == "member.removed"
    await say(http, owner, tid, "after the provider left")
    for path in (f"/threads/{tid}", f"/threads/{tid}/events"):
        resp = await http.get(path, headers=provider.headers)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    resp = await http.post(f"/threads/{tid}/messages", json={"body": "x", "client_id": "1"},
                           headers=provider.headers)
    assert resp.status_code == 404
    assert tid not in [t["id"] for t in
                       (await http.get("/threads", headers=provider.headers)).json()["threads"]]


async def test_a_bot_member_posts_as_itself(http: httpx.AsyncClient, mailbox: Mailbox) -> None:
    _owner, provider, bot = await team(http, mailbox)
    tid = await new_thread(http, provider, bot)
    event = await say(http, bot, tid, "Reminder: your appointment is tomorrow.")
    assert event["actor_id"] == bot.id
    assert (await all_events(http, provider, tid))[-1]["actor_id"] == bot.id


async def test_strangers_and_other_practices_see_nothing(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, provider, _bot = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)
    other = await new_practice(http, "Another Practice")
    for person in (other,):
        for method, path, body in [
            ("GET", f"/threads/{tid}", None),
            ("GET", f"/threads/{tid}/events", None),
            ("POST", f"/threads/{tid}/messages", {"body": "hi", "client_id": "x"}),
            ("POST", f"/threads/{tid}/members", {"user_id": other.id}),
            ("DELETE", f"/threads/{tid}/members/{provider.id}", None),
            ("POST", f"/threads/{tid}/read", {"seq": 1}),
        ]:
            resp = await http.request(method, path, json=body, headers=person.headers)
            assert resp.status_code == 404, (method, path, resp.text)
            assert resp.json()["code"] == "not_found"
    # Another practice's users cannot be put into a thread, in either direction.
    resp = await http.post("/threads", json={"member_ids": [other.id]}, headers=owner.headers)
    assert resp.status_code == 404
    resp = await http.post(f"/threads/{tid}/members", json={"user_id": other.id},
                           headers=owner.headers)
    assert resp.status_code == 404
    # Without a token: 401.
    assert (await http.get(f"/threads/{tid}")).status_code == 401
    assert (await http.get("/threads")).status_code == 401


@pytest.mark.parametrize(("path", "body", "code"), [
    ("/threads", {"member_ids": "nope"}, "validation_error"),
    ("/threads", {"member_ids": ["not-a-uuid"]}, "validation_error"),
    ("/threads", {"title": "no members"}, "validation_error"),
    ("/threads", {"member_ids": [], "title": "t" * 201}, "validation_error"),
    ("/threads", {"member_ids": [UNKNOWN]}, "not_found"),
    ("/threads/{tid}/messages", {"body": "x"}, "validation_error"),
    ("/threads/{tid}/messages", {"body": 5, "client_id": "a"}, "validation_error"),
    ("/threads/{tid}/messages", {"body": "x", "client_id": ""}, "validation_error"),
    ("/threads/{tid}/messages", {"body": "x", "client_id": "c" * 65}, "validation_error"),
    ("/threads/{tid}/messages", {"body": "   ", "client_id": "a"}, "validation_error"),
    ("/threads/{tid}/messages", {"body": "x" * 16_001, "client_id": "a"}, "message_too_long"),
    ("/threads/{tid}/members", {"user_id": "zzz"}, "validation_error"),
    ("/threads/{tid}/members", {"user_id": UNKNOWN}, "not_found"),
    ("/threads/{tid}/read", {"seq": -1}, "validation_error"),
    ("/threads/{tid}/read", {"seq": "one"}, "validation_error"),
    ("/threads/not-a-uuid/messages", {"body": "x", "client_id": "a"}, "not_found"),
    (f"/threads/{UNKNOWN}/messages", {"body": "x", "client_id": "a"}, "not_found"),
])
async def test_malformed_thread_requests_change_nothing(
    http: httpx.AsyncClient, path: str, body: dict[str, object], code: str
) -> None:
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    resp = await http.post(path.format(tid=tid), json=body, headers=owner.headers)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["code"] == code, resp.text
    assert [e["seq"] for e in await all_events(http, owner, tid)] == [1]
    assert len((await http.get("/threads", headers=owner.headers)).json()["threads"]) == 1


async def test_bad_history_queries(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    for params in ({"after": -1}, {"limit": 0}, {"limit": 1000}, {"after": "x"}):
        resp = await http.get(f"/threads/{tid}/events", params=params, headers=owner.headers)
        assert resp.status_code == 400, params
        assert resp.json()["code"] == "validation_error"


async def test_a_member_who_rejoins_pages_through_both_windows_only(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, provider, _ = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)                 # 1
    await say(http, owner, tid, "first window")                   # 2
    await http.delete(f"/threads/{tid}/members/{provider.id}", headers=owner.headers)  # 3
    await say(http, owner, tid, "while away")                     # 4
    await say(http, owner, tid, "still away")                     # 5
    await http.post(f"/threads/{tid}/members", json={"user_id": provider.id},
                    headers=owner.headers)                        # 6
    await say(http, owner, tid, "second window")                  # 7
    seqs, after = [], 0
    while True:
        page = (await http.get(f"/threads/{tid}/events", params={"after": after, "limit": 1},
                               headers=provider.headers)).json()
        assert page["events"] or not page["more"], page
        seqs += [e["seq"] for e in page["events"]]
        if not page["more"]:
            break
        after = page["events"][-1]["seq"]
    assert seqs == [1, 2, 3, 6, 7]
    newest = (await http.get(f"/threads/{tid}/events", params={"limit": 10},
                             headers=provider.headers)).json()
    assert [e["seq"] for e in newest["events"]] == [1, 2, 3, 6, 7] and not newest["more"]
