"""Programs: modules on day N after enrolment arrive in the care thread as program.module, by
the job on the movable clock, once; the client marks them done; the team sees progress; pause
and end stop deliveries; modules added later reach those who have not passed their day.
Another practice's form in a module is not found and creates nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.care_tasks_helpers import Care, care_practice, eventually, signed_in_client
from tests.conftest import app_client
from tests.forms_helpers import new_form
from tests.helpers import all_events
from tests.mailbox import Mailbox

DAY = 86400
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def care(http: httpx.AsyncClient, mailbox: Mailbox) -> Care:
    return await care_practice(http, mailbox)


async def _program(http: httpx.AsyncClient, who: Any, modules: list[dict[str, Any]],
                   title: str = "Better sleep in 3 weeks") -> dict[str, Any]:
    resp = await http.post("/programs", json={"title": title, "modules": modules},
                           headers=who.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["program"])


async def _enroll(http: httpx.AsyncClient, who: Any, program: dict[str, Any],
                  *client_ids: str) -> list[dict[str, Any]]:
    resp = await http.post(f"/programs/{program['id']}/enrollments",
                           json={"client_ids": list(client_ids)}, headers=who.headers)
    assert resp.status_code == 201, resp.text
    return list(resp.json()["enrollments"])


async def _modules(http: httpx.AsyncClient, care: Care) -> list[dict[str, Any]]:
    return [e for e in await all_events(http, care.provider, care.thread)
            if e["kind"] == "program.module"]


async def _count(http: httpx.AsyncClient, care: Care, n: int) -> list[dict[str, Any]] | None:
    found = await _modules(http, care)
    return found if len(found) >= n else None


def _clocked(start_server: Any, tmp_path: Path) -> tuple[Any, Path]:
    clock = tmp_path / "clock"
    clock.write_text("0")
    return start_server(CLOCK_OFFSET_FILE=str(clock), CARE_POLL_SECONDS="0.1"), clock


async def test_modules_arrive_on_their_day_and_are_marked_done(
    server: Any, start_server: Any, care: Care, tmp_path: Path
) -> None:
    moved, clock = _clocked(start_server, tmp_path)
    async with app_client(moved.url) as http:
        form = await new_form(http, care.owner, title="Sleep diary")
        program = await _program(http, care.provider, [
            {"day": 0, "title": "Welcome", "body": "Read **this** first."},
            {"day": 2, "title": "Your diary", "body": "Fill it in.", "form_id": form["id"]},
            {"day": 3, "title": "Move", "body": "", "task_title": "Walk 10 minutes"},
        ])
        assert [m["day"] for m in program["modules"]] == [0, 2, 3]
        [enrollment] = await _enroll(http, care.provider, program, care.client_id)
        assert enrollment["progress"]["upcoming"] == 3

        [welcome] = await eventually(lambda: _count(http, care, 1))
        assert welcome["actor_id"] is None
        assert welcome["data"]["title"] == "Welcome" and welcome["data"]["day"] == 0
        assert welcome["data"]["html"] == "<p>Read <strong>this</strong> first.</p>"
        mine = (await http.get(f"/clients/{care.client_id}/enrollments",
                               headers=care.client.headers)).json()["enrollments"]
        assert [m["title"] for m in mine[0]["modules"]] == ["Welcome"]  # only what arrived
        resp = await http.post(f"/enrollments/{enrollment['id']}/modules/"
                               f"{program['modules'][1]['id']}/done", headers=care.client.headers)
        assert resp.status_code == 404  # not arrived yet
        resp = await http.post(f"/enrollments/{enrollment['id']}/modules/"
                               f"{welcome['data']['module_id']}/done",
                               headers=care.client.headers)
        assert resp.status_code == 200, resp.text
        assert resp.json()["enrollment"]["progress"]["done"] == 1

        clock.write_text(str(2 * DAY + 60))
        found = await eventually(lambda: _count(http, care, 2))
        diary = found[1]["data"]
        assert diary["title"] == "Your diary" and diary["form_request_id"]
        request = (await http.get(f"/form-requests/{diary['form_request_id']}",
                                  headers=care.client.headers)).json()["request"]
        assert request["form_title"] == "Sleep diary"

        clock.write_text(str(3 * DAY + 3600 * 2))
        found = await eventually(lambda: _count(http, care, 3))
        move = found[2]["data"]
        task = (await http.get(f"/tasks/{move['task_id']}", headers=care.client.headers)
                ).json()["task"]
        assert task["title"] == "Walk 10 minutes"

        await asyncio.sleep(1.0)  # a second delivery would show itself now
        events = await all_events(http, care.provider, care.thread)
        assert [e["data"]["day"] for e in events if e["kind"] == "program.module"] == [0, 2, 3]
        assert sum(1 for e in events if e["kind"] == "program.module_done") == 1
        progress = (await http.get(f"/programs/{program['id']}/enrollments",
                                   headers=care.provider.headers)).json()["enrollments"]
        assert progress[0]["client_name"] == "Robin Hart"
        assert progress[0]["progress"] == {"done": 1, "open": 1, "late": 1, "upcoming": 0,
                                           "total": 3, "state": "late"}
        statuses = [m["status"] for m in progress[0]["modules"]]
        assert statuses == ["done", "late", "open"]
        # The owner sees it; a provider not on the client's team does not.
        assert len((await http.get(f"/programs/{program['id']}/enrollments",
                                   headers=care.owner.headers)).json()["enrollments"]) == 1
        assert (await http.get(f"/programs/{program['id']}/enrollments",
                               headers=care.outsider.headers)).json()["enrollments"] == []


async def test_pause_resume_end_and_modules_added_later(
    server: Any, start_server: Any, care: Care, tmp_path: Path
) -> None:
    moved, clock = _clocked(start_server, tmp_path)
    async with app_client(moved.url) as http:
        program = await _program(http, care.provider, [
            {"day": 1, "title": "Day one"}, {"day": 4, "title": "Day four"},
            {"day": 9, "title": "Day nine"}])
        [enrollment] = await _enroll(http, care.provider, program, care.client_id)
        eid = enrollment["id"]
        resp = await http.post(f"/enrollments/{eid}/pause", headers=care.provider.headers)
        assert resp.status_code == 200 and resp.json()["enrollment"]["status"] == "paused"
        clock.write_text(str(2 * DAY))
        await asyncio.sleep(1.0)
        assert await _modules(http, care) == []  # paused: day one waits
        resp = await http.post(f"/enrollments/{eid}/resume", headers=care.provider.headers)
        assert resp.status_code == 200
        # Resumed after two days: day one is now due a day from the resume.
        assert await _modules(http, care) == []
        clock.write_text(str(3 * DAY + 60))
        [one] = await eventually(lambda: _count(http, care, 1))
        assert one["data"]["title"] == "Day one"

        # Now on day 1 of the enrolment (pause excluded): a module for day 0 is past,
        # one for day 1 is today and one for day 3 is ahead.
        for day, title in [(0, "Too late"), (1, "Today's extra"), (3, "Later extra")]:
            resp = await http.post(f"/programs/{program['id']}/modules",
                                   json={"day": day, "title": title},
                                   headers=care.provider.headers)
            assert resp.status_code == 201, resp.text
        found = await eventually(lambda: _count(http, care, 2))
        assert [e["data"]["title"] for e in found] == ["Day one", "Today's extra"]
        clock.write_text(str(5 * DAY + 120))
        found = await eventually(lambda: _count(http, care, 3))
        assert found[2]["data"]["title"] == "Later extra"

        resp = await http.post(f"/enrollments/{eid}/end", headers=care.provider.headers)
        assert resp.status_code == 200 and resp.json()["enrollment"]["status"] == "ended"
        resp = await http.post(f"/enrollments/{eid}/resume", headers=care.provider.headers)
        assert resp.status_code == 409
        clock.write_text(str(30 * DAY))
        await asyncio.sleep(1.0)
        titles = [e["data"]["title"] for e in await _modules(http, care)]
        assert titles == ["Day one", "Today's extra", "Later extra"]  # nothing after the end
        kinds = [e["kind"] for e in await all_events(http, care.provider, care.thread)
                 if e["kind"].startswith("program.") and e["kind"] != "program.module"]
        assert kinds == ["program.enrolled", "program.paused", "program.resumed",
                         "program.ended"]
        # Ended: the client may be enrolled again.
        assert len(await _enroll(http, care.provider, program, care.client_id)) == 1


async def test_enrolling_a_list_and_a_group(http: httpx.AsyncClient, mailbox: Mailbox,
                                            care: Care) -> None:
    program = await _program(http, care.owner, [{"day": 0, "title": "Hello"}])
    second, _ = await signed_in_client(http, mailbox, care.provider, "Alex Second")
    group = (await http.post("/groups", json={"name": "Sleepers"}, headers=care.owner.headers)
             ).json()["group"]
    for client_id in (care.client_id, second.id):
        resp = await http.patch(f"/clients/{client_id}", json={"group_id": group["id"]},
                                headers=care.owner.headers)
        assert resp.status_code == 200, resp.text
    done = await _enroll(http, care.provider, program, care.client_id)
    assert len(done) == 1
    resp = await http.post(f"/programs/{program['id']}/enrollments",
                           json={"group_id": group["id"]}, headers=care.provider.headers)
    assert resp.status_code == 403  # whole groups: owners and admins
    resp = await http.post(f"/programs/{program['id']}/enrollments",
                           json={"group_id": group["id"]}, headers=care.owner.headers)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert [e["client_id"] for e in body["enrollments"]] == [second.id]
    assert body["skipped"] == [care.client_id]  # already enrolled


async def test_bad_input_and_other_practices(http: httpx.AsyncClient, care: Care) -> None:
    theirs = await new_form(http, care.stranger, title="Their form")
    cases: list[tuple[dict[str, Any], int]] = [
        ({"day": 366, "title": "Too far"}, 400),
        ({"day": -1, "title": "Before"}, 400),
        ({"day": "two", "title": "Typed"}, 400),
        ({"day": 1, "title": ""}, 400),
        ({"day": 1, "title": "Form", "form_id": theirs["id"]}, 404),
        ({"day": 1, "title": "Form", "form_id": UNKNOWN}, 404),
        ({"day": 1, "title": "File", "file_ids": [UNKNOWN]}, 404),
    ]
    for module, status in cases:
        resp = await http.post("/programs", json={
            "title": "P", "modules": [{"day": 0, "title": "fine"}, module]},
            headers=care.provider.headers)
        assert resp.status_code == status, (module, resp.text)
    assert (await http.get("/programs", headers=care.owner.headers)).json()["programs"] == []
    program = await _program(http, care.provider, [{"day": 0, "title": "Hello"}])
    resp = await http.post(f"/programs/{program['id']}/modules",
                           json={"day": 2, "title": "Form", "form_id": theirs["id"]},
                           headers=care.provider.headers)
    assert resp.status_code == 404
    shown = (await http.get(f"/programs/{program['id']}", headers=care.provider.headers)).json()
    assert len(shown["program"]["modules"]) == 1

    for person in (care.client, care.other_client):  # clients build no programs
        resp = await http.post("/programs", json={"title": "x", "modules": []},
                               headers=person.headers)
        assert resp.status_code == 404
    for person in (care.stranger, care.client, care.other_client):
        resp = await http.post(f"/programs/{program['id']}/enrollments",
                               json={"client_ids": [care.client_id]}, headers=person.headers)
        assert resp.status_code == 404
        assert (await http.get(f"/programs/{program['id']}", headers=person.headers)
                ).status_code == 404
    stranger_client = (await http.post("/clients", json={"name": "Theirs"},
                                       headers=care.stranger.headers)).json()["client"]
    for ids in ([stranger_client["id"]], [care.client_id, stranger_client["id"]], [UNKNOWN]):
        resp = await http.post(f"/programs/{program['id']}/enrollments",
                               json={"client_ids": ids}, headers=care.provider.headers)
        assert resp.status_code == 404, resp.text
    # A provider not on this client's team cannot enrol them.
    resp = await http.post(f"/programs/{program['id']}/enrollments",
                           json={"client_ids": [care.client_id]}, headers=care.outsider.headers)
    assert resp.status_code == 404
    assert (await http.get(f"/programs/{program['id']}/enrollments",
                           headers=care.owner.headers)).json()["enrollments"] == []
    [enrollment] = await _enroll(http, care.provider, program, care.client_id)
    for person in (care.stranger, care.other_client, care.outsider):
        for path in (f"/enrollments/{enrollment['id']}",):
            assert (await http.get(path, headers=person.headers)).status_code == 404
        for action in ("pause", "end"):
            resp = await http.post(f"/enrollments/{enrollment['id']}/{action}",
                                   headers=person.headers)
            assert resp.status_code == 404
    resp = await http.post(f"/enrollments/{enrollment['id']}/pause", headers=care.client.headers)
    assert resp.status_code == 403
