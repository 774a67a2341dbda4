"""Journals: a client writes about a meal; the provider comments, reacts and stars it; each entry
and comment is an event in the care thread; nobody else sees any of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.care_helpers import signed_up_client, write_journal
from tests.conftest import Server
from tests.helpers import invite_staff, new_practice
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event


async def test_a_client_writes_and_the_provider_comments_reacts_and_stars(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    client, robin = await signed_up_client(http, mailbox, provider)
    cid, tid = client["id"], client["care_thread_id"]
    robin_socket = await Socket.ready(server.ws_url, robin.token)
    team_socket = await Socket.ready(server.ws_url, provider.token)

    entry = await write_journal(http, robin, cid, "food", "Lentil soup, felt full early",
                                occurred_at="2026-04-02T12:30:00Z")
    assert entry["kind"] == "food" and entry["client_id"] == cid
    written = await team_socket.until(is_event("journal.entry", tid))
    assert written["event"]["data"]["entry_id"] == entry["id"]
    assert written["event"]["data"]["text"] == "Lentil soup, felt full early"

    resp = await http.post(f"/journal/{entry['id']}/comments",
                           json={"text": "Nice choice - how was your energy after?"},
                           headers=provider.headers)
    assert resp.status_code == 201, resp.text
    comment = resp.json()["comment"]
    heard = await robin_socket.until(is_event("journal.comment", tid))
    assert heard["event"]["data"]["comment_id"] == comment["id"]
    assert heard["event"]["actor_id"] == provider.id
    # Robin answers under the entry.
    resp = await http.post(f"/journal/{entry['id']}/comments", json={"text": "Good!"},
                           headers=robin.headers)
    assert resp.status_code == 201

    for _ in range(2):  # the same reaction twice is one reaction
        resp = await http.post(f"/journal/{entry['id']}/reactions", json={"emoji": "👏"},
                               headers=provider.headers)
        assert resp.status_code == 200, resp.text
    assert resp.json()["entry"]["reactions"] == [{"emoji": "👏", "count": 1, "mine": True}]
    resp = await http.put(f"/journal/{entry['id']}/star", headers=provider.headers)
    assert resp.status_code == 200 and resp.json()["entry"]["starred"] is True

    seen = (await http.get(f"/clients/{cid}/journal", headers=robin.headers)).json()
    [mine] = seen["entries"]
    assert [c["text"] for c in mine["comments"]] == [
        "Nice choice - how was your energy after?", "Good!"]
    assert mine["comments"][0]["author_name"] == "Pat Provider"
    assert mine["reactions"] == [{"emoji": "👏", "count": 1, "mine": False}]
    assert "starred" not in mine  # stars are the team's private marks
    starred = (await http.get("/journal/starred", headers=provider.headers)).json()["entries"]
    assert [e["id"] for e in starred] == [entry["id"]]
    assert (await http.get("/journal/starred", headers=owner.headers)).json()["entries"] == []
    only = (await http.get(f"/clients/{cid}/journal", params={"starred": "true"},
                           headers=provider.headers)).json()["entries"]
    assert [e["id"] for e in only] == [entry["id"]]

    resp = await http.delete(f"/journal/{entry['id']}/star", headers=provider.headers)
    assert resp.json()["entry"]["starred"] is False
    resp = await http.delete(f"/journal/{entry['id']}/reactions/👏", headers=provider.headers)
    assert resp.json()["entry"]["reactions"] == []
    assert (await http.get(f"/journal/{entry['id']}", headers=owner.headers)).status_code == 200
    for sock in (robin_socket, team_socket):
        await sock.close()


async def test_journal_pages_and_kinds(http: httpx.AsyncClient, mailbox: Mailbox) -> None:
    owner = await new_practice(http)
    client, robin = await signed_up_client(http, mailbox, owner)
    start = datetime(2026, 4, 1, 8, tzinfo=UTC)
    for day, kind in enumerate(["food", "mood", "activity", "note", "food"]):
        await write_journal(http, robin, client["id"], kind, f"day {day}",
                            occurred_at=(start + timedelta(days=day)).isoformat())
    first = (await http.get(f"/clients/{client['id']}/journal", params={"limit": 3},
                            headers=owner.headers)).json()
    assert [e["text"] for e in first["entries"]] == ["day 4", "day 3", "day 2"]
    assert first["more"] is True
    rest = (await http.get(f"/clients/{client['id']}/journal", params={
        "limit": 3, "before": first["entries"][-1]["occurred_at"]}, headers=owner.headers)
            ).json()
    assert [e["text"] for e in rest["entries"]] == ["day 1", "day 0"] and not rest["more"]
    food = (await http.get(f"/clients/{client['id']}/journal", params={"kind": "food"},
                           headers=robin.headers)).json()["entries"]
    assert [e["text"] for e in food] == ["day 4", "day 0"]


async def test_bad_entries_are_refused_and_others_see_nothing(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    outsider = await invite_staff(http, mailbox, owner, name="Not On The Team")
    client, robin = await signed_up_client(http, mailbox, provider)
    _, casey = await signed_up_client(http, mailbox, provider, name="Casey Other")
    elsewhere = await new_practice(http, "Elsewhere Clinic")
    path = f"/clients/{client['id']}/journal"
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for body, code in [({"kind": "dream", "text": "x"}, "validation_error"),
                       ({"kind": "note", "text": "   "}, "validation_error"),
                       ({"kind": "note", "text": "x", "occurred_at": future},
                        "time_in_future"),
                       ({"text": "no kind"}, "validation_error")]:
        resp = await http.post(path, json=body, headers=robin.headers)
        assert resp.status_code == 400, (body, resp.text)
        assert resp.json()["code"] == code
    # The team reads and comments, but a journal is the client's to write.
    resp = await http.post(path, json={"kind": "note", "text": "x"}, headers=provider.headers)
    assert resp.status_code == 403 and resp.json()["code"] == "client_only"
    entry = await write_journal(http, robin, client["id"], "mood", "Anxious before lunch")
    for who in (outsider, casey, elsewhere):
        assert (await http.get(path, headers=who.headers)).status_code == 404
        assert (await http.post(path, json={"kind": "note", "text": "x"},
                                headers=who.headers)).status_code == 404
        assert (await http.get(f"/journal/{entry['id']}", headers=who.headers)
                ).status_code == 404
        assert (await http.post(f"/journal/{entry['id']}/comments", json={"text": "hi"},
                                headers=who.headers)).status_code == 404
        assert (await http.post(f"/journal/{entry['id']}/reactions", json={"emoji": "👍"},
                                headers=who.headers)).status_code == 404
    assert (await http.put(f"/journal/{entry['id']}/star", headers=robin.headers)
            ).status_code == 403
    for bad in [{"text": ""}, {"text": 5}, {}]:
        assert (await http.post(f"/journal/{entry['id']}/comments", json=bad,
                                headers=provider.headers)).status_code == 400
    # Paging back takes an RFC 3339 time with a zone, nothing else.
    for bad in ("0.5", "1700000000", "2026-12-01", "2026-12-01T09:00:00", "2026-02-30T09:00:00Z"):
        resp = await http.get(path, params={"before": bad}, headers=provider.headers)
        assert resp.status_code == 400, (bad, resp.text)
        assert resp.json()["code"] == "validation_error" and resp.json()["field"] == "before"
    resp = await http.get(path, params={"before": "2999-01-01T00:00:00+02:00"},
                          headers=provider.headers)
    assert resp.status_code == 200 and len(resp.json()["entries"]) == 1
    assert (await http.post(f"/journal/{entry['id']}/reactions", json={"emoji": "lol"},
                            headers=provider.headers)).status_code == 400
    assert (await http.get("/journal/not-an-id", headers=provider.headers)).status_code == 404
    listed = (await http.get(path, headers=provider.headers)).json()["entries"]
    assert [e["id"] for e in listed] == [entry["id"]] and listed[0]["comments"] == []
