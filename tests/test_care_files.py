"""Files in care between visits: a client photographs a meal for their food journal; the team
attaches a handout to a care plan and a worksheet to a program module. Each file is read by
exactly those who may see what holds it: the journal entry's readers, the plan's client once a
version naming it is shared, the module's client once it has arrived. Nobody else, another
practice least of all, learns the file exists."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.care_helpers import write_journal
from tests.care_tasks_helpers import Care, care_practice, eventually
from tests.files_helpers import pdf_bytes, photo_with_location, png_image, uploaded
from tests.helpers import Person, all_events
from tests.mailbox import Mailbox

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def care(http: httpx.AsyncClient, mailbox: Mailbox) -> Care:
    return await care_practice(http, mailbox)


async def _reads(http: httpx.AsyncClient, person: Person, file_id: str) -> int:
    return (await http.get(f"/files/{file_id}", headers=person.headers)).status_code


# --- journal photos ----------------------------------------------------------------------------


async def test_a_client_photographs_a_meal_and_only_those_who_see_the_entry_see_the_photo(
    http: httpx.AsyncClient, care: Care
) -> None:
    lunch = await uploaded(http, care.client, "lunch.jpg", photo_with_location(), "image/jpeg")
    entry = await write_journal(http, care.client, care.client_id, "food", "",
                                file_ids=[lunch["id"]])
    assert entry["file_ids"] == [lunch["id"]] and entry["text"] == ""
    [photo] = entry["files"]
    assert photo["content_type"] == "image/jpeg" and photo["thumbnail"] is True

    events = await all_events(http, care.provider, care.thread)
    [written] = [e for e in events if e["kind"] == "journal.entry"]
    assert [f["id"] for f in written["data"]["files"]] == [lunch["id"]]
    listed = (await http.get(f"/clients/{care.client_id}/journal",
                             headers=care.provider.headers)).json()["entries"]
    assert [f["id"] for f in listed[0]["files"]] == [lunch["id"]]
    feed = (await http.get("/feed", headers=care.provider.headers)).json()["items"]
    assert feed[0]["event"]["data"]["files"][0]["id"] == lunch["id"]

    # The client, their provider and the owner see it (and its thumbnail, without location).
    for person in (care.client, care.provider, care.owner):
        assert await _reads(http, person, lunch["id"]) == 200
    thumb = await http.get(f"/files/{lunch['id']}/thumbnail", headers=care.provider.headers)
    assert thumb.status_code == 200 and b"PhoneCam" not in thumb.content
    # A provider off the team, another client and another practice do not.
    for person in (care.outsider, care.other_client, care.stranger):
        assert await _reads(http, person, lunch["id"]) == 404


async def test_a_photo_goes_into_one_entry_by_its_uploader_and_nothing_else_is_a_photo(
    http: httpx.AsyncClient, care: Care
) -> None:
    path = f"/clients/{care.client_id}/journal"
    lunch = await uploaded(http, care.client, "lunch.png", png_image(), "image/png")
    labs = await uploaded(http, care.client, "labs.pdf", pdf_bytes(), "application/pdf")
    theirs = await uploaded(http, care.other_client, "x.png", png_image(), "image/png")
    elsewhere = await uploaded(http, care.stranger, "y.png", png_image(), "image/png")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"kind": "food", "file_ids": [labs["id"]]}, 400, "not_a_photo"),
        ({"kind": "food", "file_ids": [theirs["id"]]}, 404, "not_found"),
        ({"kind": "food", "file_ids": [elsewhere["id"]]}, 404, "not_found"),
        ({"kind": "food", "file_ids": [UNKNOWN]}, 404, "not_found"),
        ({"kind": "food", "file_ids": "not a list"}, 400, "validation_error"),
        ({"kind": "food", "file_ids": ["not-a-uuid"]}, 400, "validation_error"),
        ({"kind": "food", "text": "   ", "file_ids": []}, 400, "validation_error"),
    ]
    for body, status, code in cases:
        resp = await http.post(path, json=body, headers=care.client.headers)
        assert resp.status_code == status, (body, resp.text)
        assert resp.json()["code"] == code
    assert (await http.get(path, headers=care.client.headers)).json()["entries"] == []

    # The refused pdf was not used up: the photo goes in once, and only once.
    entry = await write_journal(http, care.client, care.client_id, "food", "Soup",
                                file_ids=[lunch["id"]])
    assert entry["files"][0]["id"] == lunch["id"]
    resp = await http.post(path, json={"kind": "food", "file_ids": [lunch["id"]]},
                           headers=care.client.headers)
    assert resp.status_code == 404
    # A stranger writing into this client's journal learns nothing.
    resp = await http.post(path, json={"kind": "food", "text": "x"},
                           headers=care.stranger.headers)
    assert resp.status_code == 404


# --- care plan files ---------------------------------------------------------------------------


async def test_a_plan_handout_reaches_the_client_when_the_plan_is_shared(
    http: httpx.AsyncClient, care: Care
) -> None:
    handout = await uploaded(http, care.provider, "sleep-hygiene.pdf", pdf_bytes("Sleep"),
                             "application/pdf")
    resp = await http.post(f"/clients/{care.client_id}/care-plans", json={
        "title": "Sleep plan", "sections": [{"title": "Why", "body": "Rest **well**."}],
        "file_ids": [handout["id"]]}, headers=care.provider.headers)
    assert resp.status_code == 201, resp.text
    plan = resp.json()["care_plan"]
    assert plan["file_ids"] == [handout["id"]]
    assert plan["files"][0]["name"] == "sleep-hygiene.pdf"

    # A draft's files stay with the team.
    assert await _reads(http, care.provider, handout["id"]) == 200
    assert await _reads(http, care.owner, handout["id"]) == 200
    assert await _reads(http, care.client, handout["id"]) == 404

    resp = await http.post(f"/care-plans/{plan['id']}/share", headers=care.provider.headers)
    assert resp.status_code == 200, resp.text
    assert await _reads(http, care.client, handout["id"]) == 200
    mine = (await http.get(f"/care-plans/{plan['id']}", headers=care.client.headers)
            ).json()["care_plan"]
    assert [f["id"] for f in mine["files"]] == [handout["id"]]

    # A new version keeps the handout and adds a worksheet; the worksheet is the team's until
    # that version is shared.
    sheet = await uploaded(http, care.provider, "worksheet.pdf", pdf_bytes("Sheet"),
                           "application/pdf")
    resp = await http.patch(f"/care-plans/{plan['id']}",
                            json={"file_ids": [handout["id"], sheet["id"]]},
                            headers=care.provider.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["care_plan"]["file_ids"] == [handout["id"], sheet["id"]]
    assert await _reads(http, care.client, sheet["id"]) == 404
    await http.post(f"/care-plans/{plan['id']}/share", headers=care.provider.headers)
    assert await _reads(http, care.client, sheet["id"]) == 200
    # A version that leaves files out keeps them on the earlier ones.
    resp = await http.patch(f"/care-plans/{plan['id']}", json={"title": "Sleep plan v3"},
                            headers=care.provider.headers)
    assert resp.json()["care_plan"]["file_ids"] == [handout["id"], sheet["id"]]

    for person in (care.outsider, care.other_client, care.stranger):
        assert await _reads(http, person, handout["id"]) == 404


async def test_a_plan_names_only_files_it_may_hold_and_creates_nothing_otherwise(
    http: httpx.AsyncClient, care: Care
) -> None:
    path = f"/clients/{care.client_id}/care-plans"
    elsewhere = await uploaded(http, care.stranger, "x.pdf", pdf_bytes(), "application/pdf")
    colleague = await uploaded(http, care.outsider, "y.pdf", pdf_bytes(), "application/pdf")
    lunch = await uploaded(http, care.client, "lunch.png", png_image(), "image/png")
    await write_journal(http, care.client, care.client_id, "food", "Soup",
                        file_ids=[lunch["id"]])
    body = {"title": "Plan", "sections": [{"title": "A", "body": "b"}]}
    for file_id in (elsewhere["id"], colleague["id"], lunch["id"], UNKNOWN):
        resp = await http.post(path, json={**body, "file_ids": [file_id]},
                               headers=care.provider.headers)
        assert resp.status_code == 404, resp.text
        assert resp.json()["code"] == "not_found"
    resp = await http.post(path, json={**body, "file_ids": ["nope"]},
                           headers=care.provider.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "validation_error"
    assert (await http.get(path, headers=care.provider.headers)).json()["care_plans"] == []
    # Another practice and a provider off the team are not told the client exists.
    for person in (care.stranger, care.outsider):
        resp = await http.post(path, json=body, headers=person.headers)
        assert resp.status_code == 404
    # A file held by one plan is not another plan's to take.
    mine = await uploaded(http, care.provider, "z.pdf", pdf_bytes(), "application/pdf")
    first = await http.post(path, json={**body, "file_ids": [mine["id"]]},
                            headers=care.provider.headers)
    assert first.status_code == 201
    second = await http.post(path, json={**body, "file_ids": [mine["id"]]},
                             headers=care.provider.headers)
    assert second.status_code == 404


# --- program module files ----------------------------------------------------------------------


async def test_a_module_worksheet_reaches_each_client_on_its_day(
    http: httpx.AsyncClient, care: Care
) -> None:
    welcome = await uploaded(http, care.provider, "welcome.pdf", pdf_bytes("Hi"),
                             "application/pdf")
    later = await uploaded(http, care.provider, "week-two.pdf", pdf_bytes("Wk2"),
                           "application/pdf")
    resp = await http.post("/programs", json={"title": "Calm in 2 weeks", "modules": [
        {"day": 0, "title": "Welcome", "body": "Start here.", "file_ids": [welcome["id"]]},
        {"day": 7, "title": "Week two", "body": "", "file_ids": [later["id"]]},
    ]}, headers=care.provider.headers)
    assert resp.status_code == 201, resp.text
    program = resp.json()["program"]
    assert [m["file_ids"] for m in program["modules"]] == [[welcome["id"]], [later["id"]]]
    assert program["modules"][0]["files"][0]["name"] == "welcome.pdf"
    # The library is the team's: a colleague reads it; the client cannot yet.
    assert await _reads(http, care.outsider, welcome["id"]) == 200
    assert await _reads(http, care.client, welcome["id"]) == 404

    resp = await http.post(f"/programs/{program['id']}/enrollments",
                           json={"client_ids": [care.client_id]}, headers=care.provider.headers)
    assert resp.status_code == 201, resp.text

    async def arrived() -> list[dict[str, Any]]:
        return [e for e in await all_events(http, care.provider, care.thread)
                if e["kind"] == "program.module"]

    [module] = await eventually(arrived)
    assert [f["id"] for f in module["data"]["files"]] == [welcome["id"]]
    assert await _reads(http, care.client, welcome["id"]) == 200
    assert await _reads(http, care.client, later["id"]) == 404  # day 7 has not come
    mine = (await http.get(f"/clients/{care.client_id}/enrollments",
                           headers=care.client.headers)).json()["enrollments"]
    assert [f["id"] for f in mine[0]["modules"][0]["files"]] == [welcome["id"]]
    for person in (care.other_client, care.stranger):
        assert await _reads(http, person, welcome["id"]) == 404


async def test_a_module_with_another_practices_file_creates_nothing(
    http: httpx.AsyncClient, care: Care
) -> None:
    elsewhere = await uploaded(http, care.stranger, "x.pdf", pdf_bytes(), "application/pdf")
    mine = await uploaded(http, care.provider, "ok.pdf", pdf_bytes(), "application/pdf")
    resp = await http.post("/programs", json={"title": "P", "modules": [
        {"day": 0, "title": "Fine", "file_ids": [mine["id"]]},
        {"day": 1, "title": "Not fine", "file_ids": [elsewhere["id"]]},
    ]}, headers=care.provider.headers)
    assert resp.status_code == 404, resp.text
    assert (await http.get("/programs", headers=care.provider.headers)).json()["programs"] == []
    # Nothing was claimed: the provider's own file is still free to use.
    resp = await http.post("/programs", json={"title": "P", "modules": [
        {"day": 0, "title": "Fine", "file_ids": [mine["id"]]}]}, headers=care.provider.headers)
    assert resp.status_code == 201, resp.text
    resp = await http.post("/programs", json={"title": "P", "modules": [
        {"day": 0, "title": "x", "file_ids": "nope"}]}, headers=care.provider.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "validation_error"
    resp = await http.post("/programs", json={"title": "P", "modules": []},
                           headers=care.client.headers)
    assert resp.status_code == 404

