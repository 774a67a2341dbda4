"""Goals that track a metric: the client's logged steps, weights and food journal entries move
their goals, with no check-in; a weight and a height give a computed BMI. In eating-disorder
mode, a weight goal and any BMI never reach the client: not in their goals, their Today, their
history, their socket. The feed shows tasks checked off and program modules done."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.care_helpers import log_metric, metrics_of, write_journal
from tests.care_tasks_helpers import Care, care_practice, eventually, kinds, new_goal
from tests.conftest import Server
from tests.helpers import all_events
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event


@pytest.fixture
async def care(http: httpx.AsyncClient, mailbox: Mailbox) -> Care:
    return await care_practice(http, mailbox)


async def _show(http: httpx.AsyncClient, who: Any, goal: dict[str, Any]) -> dict[str, Any]:
    resp = await http.get(f"/goals/{goal['id']}", headers=who.headers)
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["goal"])


async def test_logged_steps_meet_a_daily_steps_goal(http: httpx.AsyncClient, care: Care
                                                    ) -> None:
    goal = await new_goal(http, care, title="Walk 8,000 steps a day", metric="steps",
                       target=8000, period="day")
    assert goal["unit"] == "{steps}"
    await log_metric(http, care.client, care.client_id, "steps", 5000, "{steps}")
    assert (await _show(http, care.client, goal))["progress"]["value"] == 5000
    await log_metric(http, care.client, care.client_id, "steps", 3500, "{steps}")
    progress = (await _show(http, care.client, goal))["progress"]
    assert progress == {**progress, "value": 8500, "met": True}
    events = kinds(await all_events(http, care.client, care.thread), "goal.")
    assert [e["kind"] for e in events] == ["goal.created", "goal.met"]
    assert events[1]["data"]["value"] == 8500
    # A sleep log does not count towards steps.
    await log_metric(http, care.client, care.client_id, "sleep_duration", 7, "h")
    assert (await _show(http, care.provider, goal))["progress"]["value"] == 8500


async def test_a_weight_goal_set_in_pounds_is_met_by_a_weight_in_kilograms(
    http: httpx.AsyncClient, care: Care
) -> None:
    goal = await new_goal(http, care, title="Reach 154 lb", metric="body_weight", target=154,
                       unit="[lb_av]", direction="at_most")
    assert goal["unit"] == "kg" and goal["target"] == pytest.approx(69.853, abs=0.001)
    await log_metric(http, care.client, care.client_id, "body_weight", 72, "kg")
    assert (await _show(http, care.client, goal))["progress"]["met"] is False
    await log_metric(http, care.client, care.client_id, "body_weight", 153, "[lb_av]")
    shown = await _show(http, care.client, goal)
    assert shown["progress"]["met"] is True
    assert shown["progress"]["value"] == pytest.approx(69.4, abs=0.01)
    met = kinds(await all_events(http, care.client, care.thread), "goal.met")
    assert len(met) == 1


async def test_food_journal_entries_count_towards_log_three_meals(
    http: httpx.AsyncClient, care: Care
) -> None:
    goal = await new_goal(http, care, title="Log 3 meals a day", metric="journal_food",
                       target=3, period="day")
    assert goal["unit"] is None
    await write_journal(http, care.client, care.client_id, "mood", "Calm")
    for meal in ("Porridge", "Soup", "Pasta"):
        await write_journal(http, care.client, care.client_id, "food", meal)
    shown = await _show(http, care.client, goal)
    assert shown["progress"]["value"] == 3 and shown["progress"]["met"] is True


async def test_a_computed_bmi_follows_a_weight_and_a_height(http: httpx.AsyncClient,
                                                            care: Care) -> None:
    weight = await log_metric(http, care.client, care.client_id, "body_weight", 70, "kg")
    assert await metrics_of(http, care.client, care.client_id, type="bmi") == []
    height = await log_metric(http, care.provider, care.client_id, "body_height", 5.5,
                              "[ft_i]")
    [first] = await metrics_of(http, care.client, care.client_id, type="bmi")
    assert first["source"] == "computed" and first["unit"] == "kg/m2"
    assert first["value"] == pytest.approx(70 / (1.6764 ** 2), abs=0.01)
    assert "logged_by" not in first or first["logged_by"] is None
    await log_metric(http, care.client, care.client_id, "body_weight", 154.3, "[lb_av]")
    bmis = await metrics_of(http, care.client, care.client_id, type="bmi")
    assert [b["value"] for b in bmis][1] == pytest.approx(69.99 / (1.6764 ** 2), abs=0.02)
    events = [e for e in await all_events(http, care.provider, care.thread)
              if e["kind"] == "metric.logged" and e["data"]["type"] == "bmi"]
    assert events[0]["actor_id"] is None
    assert events[0]["data"]["derived_from"] == [height["id"], weight["id"]]
    # Computed rows are not news in the feed: only what people logged.
    feed = (await http.get("/feed", params={"kind": "metric"},
                           headers=care.provider.headers)).json()["items"]
    assert [i["event"]["data"]["type"] for i in feed] == [
        "body_weight", "body_height", "body_weight"]
    # An implausible height makes no BMI.
    await log_metric(http, care.provider, care.client_id, "body_height", 20, "cm")
    assert len(await metrics_of(http, care.provider, care.client_id, type="bmi")) == 2


async def test_eating_disorder_mode_hides_weight_goals_and_bmi_everywhere(
    http: httpx.AsyncClient, care: Care, server: Server
) -> None:
    weight_goal = await new_goal(http, care, title="Stay above 55 kg", metric="body_weight",
                              target=55)
    steps_goal = await new_goal(http, care, title="Walk", metric="steps", target=100)
    await log_metric(http, care.provider, care.client_id, "body_height", 165, "cm")
    resp = await http.put(f"/clients/{care.client_id}/metric-settings",
                          json={"eating_disorder_mode": True}, headers=care.provider.headers)
    assert resp.status_code == 200

    socket = await Socket.ready(server.ws_url, care.client.token)
    # The team weighs the client: the weight, the computed BMI and the goal met stay theirs.
    await log_metric(http, care.provider, care.client_id, "body_weight", 56, "kg")
    bmi_goal = await new_goal(http, care, title="BMI over 19", metric="bmi", target=19)
    assert [e["data"]["type"] for e in await _logged(http, care, care.provider)] == [
        "body_height", "body_weight", "bmi"]
    met = kinds(await all_events(http, care.provider, care.thread), "goal.met")
    assert [e["data"]["goal_id"] for e in met] == [weight_goal["id"]]
    # The client hears of their steps, never of weight, BMI or those goals.
    await log_metric(http, care.client, care.client_id, "steps", 150, "{steps}")
    await socket.until(is_event("goal.met", care.thread))
    await socket.drain()
    frames = json.dumps(socket.frames)
    for hidden in ("body_weight", "bmi", weight_goal["id"], bmi_goal["id"], "Stay above"):
        assert hidden not in frames
    await socket.close()

    history = json.dumps(await all_events(http, care.client, care.thread))
    for hidden in ("body_weight", '"bmi"', weight_goal["id"], bmi_goal["id"]):
        assert hidden not in history
    mine = (await http.get(f"/clients/{care.client_id}/goals", headers=care.client.headers)
            ).json()["goals"]
    assert [g["id"] for g in mine] == [steps_goal["id"]]
    today = (await http.get(f"/clients/{care.client_id}/today", headers=care.client.headers)
             ).json()
    assert [g["id"] for g in today["goals"]] == [steps_goal["id"]]
    for path, method in [(f"/goals/{weight_goal['id']}", "GET"),
                         (f"/goals/{bmi_goal['id']}/check-ins", "POST")]:
        resp = await http.request(method, path, json={} if method == "POST" else None,
                                  headers=care.client.headers)
        assert resp.status_code == 404, resp.text
    assert {e["type"] for e in await metrics_of(http, care.client, care.client_id)} == {
        "body_height", "steps"}

    # The team sees it all; switched off, the client sees their weight goals again.
    team = (await http.get(f"/clients/{care.client_id}/goals", headers=care.provider.headers)
            ).json()["goals"]
    assert len(team) == 3
    await http.put(f"/clients/{care.client_id}/metric-settings",
                   json={"eating_disorder_mode": False}, headers=care.provider.headers)
    history = json.dumps(await all_events(http, care.client, care.thread))
    assert weight_goal["id"] in history and bmi_goal["id"] in history
    assert len((await http.get(f"/clients/{care.client_id}/goals",
                               headers=care.client.headers)).json()["goals"]) == 3


async def _logged(http: httpx.AsyncClient, care: Care, who: Any) -> list[dict[str, Any]]:
    return [e for e in await all_events(http, who, care.thread) if e["kind"] == "metric.logged"]


async def test_the_feed_lists_tasks_checked_off_and_modules_done(
    http: httpx.AsyncClient, care: Care
) -> None:
    resp = await http.post(f"/clients/{care.client_id}/tasks", json={"title": "Stretch"},
                           headers=care.provider.headers)
    task = resp.json()["task"]
    resp = await http.post(f"/tasks/{task['id']}/complete", json={"note": "Felt good"},
                           headers=care.client.headers)
    assert resp.status_code == 200, resp.text
    resp = await http.post("/programs", json={"title": "Calm", "modules": [
        {"day": 0, "title": "Breathe", "body": "In, out."}]}, headers=care.provider.headers)
    program = resp.json()["program"]
    resp = await http.post(f"/programs/{program['id']}/enrollments",
                           json={"client_ids": [care.client_id]}, headers=care.provider.headers)
    [enrollment] = resp.json()["enrollments"]

    async def arrived() -> bool:
        one = (await http.get(f"/enrollments/{enrollment['id']}",
                              headers=care.client.headers)).json()["enrollment"]
        return bool(one["modules"])

    assert await eventually(arrived)
    resp = await http.post(f"/enrollments/{enrollment['id']}/modules/"
                           f"{program['modules'][0]['id']}/done", headers=care.client.headers)
    assert resp.status_code == 200, resp.text

    feed = (await http.get("/feed", headers=care.provider.headers)).json()
    assert [(i["category"], i["event"]["kind"]) for i in feed["items"]] == [
        ("program", "program.module_done"), ("task", "task.completed")]
    done = feed["items"][0]["event"]["data"]
    assert done["title"] == "Breathe" and done["program_title"] == "Calm" and done["day"] == 0
    assert feed["items"][0]["unread"] is True and feed["unread"] == 2
    for kind, expected in (("task", "task.completed"), ("program", "program.module_done")):
        page = (await http.get("/feed", params={"kind": kind},
                               headers=care.provider.headers)).json()
        assert [i["event"]["kind"] for i in page["items"]] == [expected]
    # A provider off the team and another practice's owner see none of it; a client has no
    # feed, and another practice cannot filter on this client.
    for person in (care.outsider, care.stranger):
        assert (await http.get("/feed", headers=person.headers)).json()["items"] == []
    assert (await http.get("/feed", headers=care.client.headers)).status_code == 404
    resp = await http.get("/feed", params={"client_id": care.client_id},
                          headers=care.stranger.headers)
    assert resp.status_code == 404
    resp = await http.get("/feed", params={"kind": "goal"}, headers=care.provider.headers)
    assert resp.status_code == 400
