"""Tasks: the care team assigns, the client checks off with a note, repeats open their next
occurrence, overdue tasks show for the team, templates; every moment an event in the care
thread; others are answered 404 and bad input changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.care_tasks_helpers import Care, care_practice, kinds
from tests.helpers import all_events
from tests.mailbox import Mailbox

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def care(http: httpx.AsyncClient, mailbox: Mailbox) -> Care:
    return await care_practice(http, mailbox)


def iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


async def test_a_task_is_assigned_checked_off_and_seen_in_the_care_thread(
    http: httpx.AsyncClient, care: Care
) -> None:
    due = datetime.now(UTC) + timedelta(days=2)
    resp = await http.post(f"/clients/{care.client_id}/tasks",
                           json={"title": "  Walk   after lunch ", "due_at": iso(due)},
                           headers=care.provider.headers)
    assert resp.status_code == 201, resp.text
    task = resp.json()["task"]
    assert task["title"] == "Walk after lunch"
    assert task["status"] == "open" and task["overdue"] is False and task["repeat"] is None

    mine = (await http.get(f"/clients/{care.client_id}/tasks", headers=care.client.headers)
            ).json()["tasks"]
    assert [t["id"] for t in mine] == [task["id"]]

    resp = await http.post(f"/tasks/{task['id']}/complete",
                           json={"note": "Did 20 minutes"}, headers=care.client.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["task"]["status"] == "done"
    assert resp.json()["task"]["note"] == "Did 20 minutes"
    again = await http.post(f"/tasks/{task['id']}/complete", json={},
                            headers=care.client.headers)
    assert again.status_code == 409 and again.json()["code"] == "task_closed"

    events = kinds(await all_events(http, care.client, care.thread), "task.")
    assert [e["kind"] for e in events] == ["task.assigned", "task.completed"]
    assert events[0]["actor_id"] == care.provider.id
    assert events[0]["data"]["task_id"] == task["id"]
    assert events[1]["actor_id"] == care.client.id
    assert events[1]["data"]["note"] == "Did 20 minutes"
    assert events[1]["data"]["next_task_id"] is None


async def test_a_repeating_task_opens_its_next_occurrence(
    http: httpx.AsyncClient, care: Care
) -> None:
    due = datetime.now(UTC) + timedelta(hours=3)
    task = (await http.post(f"/clients/{care.client_id}/tasks",
                            json={"title": "Log breakfast", "due_at": iso(due),
                                  "repeat": "daily"},
                            headers=care.provider.headers)).json()["task"]
    resp = await http.post(f"/tasks/{task['id']}/complete", headers=care.client.headers)
    assert resp.status_code == 200, resp.text
    tasks = (await http.get(f"/clients/{care.client_id}/tasks", headers=care.provider.headers)
             ).json()["tasks"]
    following = [t for t in tasks if t["status"] == "open"]
    assert len(following) == 1
    nxt = following[0]
    assert nxt["series_id"] == task["series_id"] and nxt["occurrence"] == 2
    assert nxt["repeat"] == "daily"
    assert datetime.fromisoformat(nxt["due_at"]) == datetime.fromisoformat(
        task["due_at"]) + timedelta(days=1)
    done = [e for e in await all_events(http, care.provider, care.thread)
            if e["kind"] == "task.completed"]
    assert done[-1]["data"]["next_task_id"] == nxt["id"]

    weekly = (await http.post(f"/clients/{care.client_id}/tasks",
                              json={"title": "Weigh in", "repeat": "weekly"},
                              headers=care.provider.headers)).json()["task"]
    # A repeating task without a due time is due one period from now.
    assert datetime.fromisoformat(weekly["due_at"]) > datetime.now(UTC) + timedelta(days=6)


async def test_overdue_tasks_are_visible_to_the_team_only(
    http: httpx.AsyncClient, care: Care
) -> None:
    late = (await http.post(f"/clients/{care.client_id}/tasks",
                            json={"title": "Book blood test",
                                  "due_at": iso(datetime.now(UTC) - timedelta(hours=2))},
                            headers=care.provider.headers)).json()["task"]
    assert late["overdue"] is True
    await http.post(f"/clients/{care.client_id}/tasks",
                    json={"title": "Later", "due_at": iso(datetime.now(UTC) + timedelta(days=9))},
                    headers=care.provider.headers)
    watch = (await http.get("/tasks", params={"overdue": "true"},
                            headers=care.provider.headers)).json()["tasks"]
    assert [t["id"] for t in watch] == [late["id"]]
    assert watch[0]["client_name"] == "Robin Hart"
    owner_view = (await http.get("/tasks?overdue=true", headers=care.owner.headers)).json()
    assert late["id"] in [t["id"] for t in owner_view["tasks"]]
    # Not on this client's team: not in their list.
    other = (await http.get("/tasks?overdue=true", headers=care.outsider.headers)).json()
    assert late["id"] not in [t["id"] for t in other["tasks"]]
    resp = await http.get("/tasks", headers=care.client.headers)
    assert resp.status_code == 403


async def test_templates_of_the_practice(http: httpx.AsyncClient, care: Care) -> None:
    resp = await http.post("/task-templates", json={"title": "Drink water", "repeat": "daily",
                                                    "due_in_days": 1},
                           headers=care.provider.headers)
    assert resp.status_code == 201, resp.text
    template = resp.json()["template"]
    listed = (await http.get("/task-templates", headers=care.owner.headers)).json()
    assert [t["id"] for t in listed["templates"]] == [template["id"]]
    assert (await http.get("/task-templates", headers=care.stranger.headers)
            ).json()["templates"] == []
    task = (await http.post(f"/clients/{care.client_id}/tasks",
                            json={"template_id": template["id"]},
                            headers=care.provider.headers)).json()["task"]
    assert task["title"] == "Drink water" and task["repeat"] == "daily"
    assert task["template_id"] == template["id"]
    resp = await http.post(f"/clients/{care.client_id}/tasks",
                           json={"template_id": template["id"]}, headers=care.stranger.headers)
    assert resp.status_code == 404
    resp = await http.delete(f"/task-templates/{template['id']}", headers=care.stranger.headers)
    assert resp.status_code == 404
    assert (await http.delete(f"/task-templates/{template['id']}",
                              headers=care.provider.headers)).status_code == 204
    # The task made from it stays.
    resp = await http.get(f"/tasks/{task['id']}", headers=care.client.headers)
    assert resp.status_code == 200 and resp.json()["task"]["template_id"] is None


async def test_who_may_do_what(http: httpx.AsyncClient, care: Care) -> None:
    task = (await http.post(f"/clients/{care.client_id}/tasks", json={"title": "Stretch"},
                            headers=care.provider.headers)).json()["task"]
    for person in (care.stranger, care.other_client, care.outsider):
        for method, path, body in [
            ("POST", f"/clients/{care.client_id}/tasks", {"title": "x"}),
            ("GET", f"/clients/{care.client_id}/tasks", None),
            ("GET", f"/tasks/{task['id']}", None),
            ("POST", f"/tasks/{task['id']}/complete", {}),
            ("POST", f"/tasks/{task['id']}/cancel", None),
        ]:
            resp = await http.request(method, path, json=body, headers=person.headers)
            assert resp.status_code == 404, (person.user["name"], method, path, resp.text)
            assert resp.json()["code"] == "not_found"
    # The client cannot assign themselves tasks; the team cannot check off for them.
    resp = await http.post(f"/clients/{care.client_id}/tasks", json={"title": "x"},
                           headers=care.client.headers)
    assert resp.status_code == 404
    resp = await http.post(f"/tasks/{task['id']}/complete", headers=care.provider.headers)
    assert resp.status_code == 403
    resp = await http.post(f"/tasks/{task['id']}/cancel", headers=care.client.headers)
    assert resp.status_code == 403
    resp = await http.get(f"/clients/{care.client_id}/tasks")
    assert resp.status_code == 401
    # The owner may, as everyone's team; the task is then withdrawn.
    resp = await http.post(f"/tasks/{task['id']}/cancel", headers=care.owner.headers)
    assert resp.status_code == 200 and resp.json()["task"]["status"] == "cancelled"
    tasks = (await http.get(f"/clients/{care.client_id}/tasks", headers=care.provider.headers)
             ).json()["tasks"]
    assert [t["status"] for t in tasks] == ["cancelled"]


BAD_TASKS: list[tuple[str, object]] = [
    ("repeat out of range", {"title": "x", "repeat": "hourly"}),
    ("repeat of wrong type", {"title": "x", "repeat": 7}),
    ("blank title", {"title": "   "}),
    ("no title", {}),
    ("oversize title", {"title": "t" * 201}),
    ("due_at not a time", {"title": "x", "due_at": "tomorrow"}),
    ("not an object", ["x"]),
]


async def test_bad_input_changes_nothing(http: httpx.AsyncClient, care: Care) -> None:
    for case, body in BAD_TASKS:
        resp = await http.post(f"/clients/{care.client_id}/tasks", json=body,
                               headers=care.provider.headers)
        assert resp.status_code == 400, (case, resp.text)
        assert resp.json()["code"] == "validation_error", case
    resp = await http.post(f"/clients/{care.client_id}/tasks",
                           json={"title": "x", "template_id": UNKNOWN},
                           headers=care.provider.headers)
    assert resp.status_code == 404
    assert (await http.get(f"/clients/{care.client_id}/tasks", headers=care.provider.headers)
            ).json()["tasks"] == []
    assert kinds(await all_events(http, care.provider, care.thread), "task.") == []
    for path in (f"/tasks/{UNKNOWN}/complete", "/tasks/not-a-uuid/complete"):
        resp = await http.post(path, json={}, headers=care.client.headers)
        assert resp.status_code == 404
    resp = await http.post("/task-templates", json={"title": "x", "due_in_days": 999},
                           headers=care.provider.headers)
    assert resp.status_code == 400
