"""Goals: a metric with a target and a period; check-ins count towards it; reaching the target
writes goal.met once for the period, and a period that ends short writes goal.missed (the
period-end job on the movable clock). Others are answered 404; bad input changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.care_tasks_helpers import (
    Care,
    care_practice,
    eventually,
    kinds,
    near_utc_midnight,
    new_goal,
)
from tests.conftest import app_client
from tests.helpers import all_events
from tests.mailbox import Mailbox


@pytest.fixture
async def care(http: httpx.AsyncClient, mailbox: Mailbox) -> Care:
    return await care_practice(http, mailbox)


async def test_check_ins_reach_a_daily_target_once(http: httpx.AsyncClient, care: Care) -> None:
    goal = await new_goal(http, care, title="Walk 8,000 steps a day", metric="steps",
                       target=8000, period="day")
    assert goal["progress"]["value"] == 0 and goal["progress"]["met"] is False
    resp = await http.post(f"/goals/{goal['id']}/check-ins", json={"value": 5000},
                           headers=care.client.headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["goal"]["progress"]["value"] == 5000
    for value in (3500, 2000):
        resp = await http.post(f"/goals/{goal['id']}/check-ins", json={"value": value},
                               headers=care.client.headers)
        assert resp.status_code == 201
    progress = resp.json()["goal"]["progress"]
    assert progress["value"] == 10500 and progress["met"] is True
    events = kinds(await all_events(http, care.client, care.thread), "goal.")
    assert [e["kind"] for e in events] == ["goal.created", "goal.met"]
    assert events[1]["actor_id"] is None
    assert events[1]["data"]["goal_id"] == goal["id"] and events[1]["data"]["value"] == 8500
    mine = (await http.get(f"/clients/{care.client_id}/goals", headers=care.client.headers)
            ).json()["goals"]
    assert mine[0]["history"][0]["outcome"] == "met"


async def test_counted_check_ins_and_a_goal_without_target(
    http: httpx.AsyncClient, care: Care
) -> None:
    meals = await new_goal(http, care, title="Log 3 meals a day", target=3, period="day")
    for _ in range(3):
        resp = await http.post(f"/goals/{meals['id']}/check-ins", json={"note": "meal"},
                               headers=care.client.headers)
        assert resp.status_code == 201
    assert resp.json()["goal"]["progress"]["met"] is True
    plain = await new_goal(http, care, title="Feel rested")
    assert plain["progress"] is None
    resp = await http.post(f"/goals/{plain['id']}/check-ins", json={"note": "better today"},
                           headers=care.client.headers)
    assert resp.status_code == 201
    events = kinds(await all_events(http, care.client, care.thread), "goal.")
    assert [e["kind"] for e in events] == ["goal.created", "goal.met", "goal.created"]


async def test_a_period_that_ends_short_is_missed_once(
    server: Any, start_server: Any, care: Care, tmp_path: Path
) -> None:
    clock = tmp_path / "clock"
    clock.write_text("0")
    moved = start_server(CLOCK_OFFSET_FILE=str(clock), CARE_POLL_SECONDS="0.1")
    async with app_client(moved.url) as http:
        goal = await new_goal(http, care, title="Walk 8,000 steps a day", metric="steps",
                           target=8000, period="day")
        await http.post(f"/goals/{goal['id']}/check-ins", json={"value": 1200},
                        headers=care.client.headers)
        # Daily periods are UTC days: a goal set just before midnight moves 25 minutes less.
        shift = -1500 if near_utc_midnight(goal["created_at"]) else 0
        clock.write_text(str(86400 + 60 + shift))

        async def missed() -> list[dict[str, Any]]:
            return [e for e in await all_events(http, care.provider, care.thread)
                    if e["kind"] == "goal.missed"]

        found = await eventually(missed)
        assert len(found) == 1 and found[0]["data"]["value"] == 1200
        # The next day passes with nothing logged: missed again, once.
        clock.write_text(str(2 * 86400 + 60 + shift))
        assert len(await eventually(lambda: _at_least(missed, 2))) == 2
        clock.write_text(str(2 * 86400 + 600 + shift))
        import asyncio

        await asyncio.sleep(1)
        assert len(await missed()) == 2
        history = (await http.get(f"/goals/{goal['id']}", headers=care.client.headers)
                   ).json()["goal"]["history"]
        assert [h["outcome"] for h in history] == ["missed", "missed"]


async def _at_least(check: Any, count: int) -> Any:
    found = await check()
    return found if len(found) >= count else None


async def test_who_may_do_what_and_bad_input(http: httpx.AsyncClient, care: Care) -> None:
    goal = await new_goal(http, care, title="Sleep 8 hours", metric="sleep_duration", target=8,
                       period="day")
    for person in (care.stranger, care.other_client, care.outsider):
        for method, path, body in [
            ("POST", f"/clients/{care.client_id}/goals", {"title": "x"}),
            ("GET", f"/clients/{care.client_id}/goals", None),
            ("GET", f"/goals/{goal['id']}", None),
            ("POST", f"/goals/{goal['id']}/check-ins", {"value": 1}),
        ]:
            resp = await http.request(method, path, json=body, headers=person.headers)
            assert resp.status_code == 404, (method, path, resp.text)
    resp = await http.post(f"/clients/{care.client_id}/goals", json={"title": "x"},
                           headers=care.client.headers)
    assert resp.status_code == 404
    for body in [{"title": "x", "period": "month", "target": 1},
                 {"title": "x", "period": "day"},
                 {"title": "x", "target": -1},
                 {"title": "x", "metric": "steps; drop table goal"},
                 {"title": "x", "direction": "at_most"},
                 {"title": "x", "metric": "no_such_metric", "target": 3},
                 {"title": "x", "metric": "steps", "target": 3, "unit": "kg"},
                 {"title": ""}, {"target": 5}]:
        resp = await http.post(f"/clients/{care.client_id}/goals", json=body,
                               headers=care.provider.headers)
        assert resp.status_code == 400, (body, resp.text)
        assert resp.json()["code"] in {"validation_error", "unknown_metric",
                                       "unit_not_convertible"}
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    for body in [{"value": "lots"}, {"value": -3}, {"at": future}]:
        resp = await http.post(f"/goals/{goal['id']}/check-ins", json=body,
                               headers=care.client.headers)
        assert resp.status_code == 400, (body, resp.text)
    goals = (await http.get(f"/clients/{care.client_id}/goals", headers=care.provider.headers)
             ).json()["goals"]
    assert [g["id"] for g in goals] == [goal["id"]]
    assert goals[0]["progress"]["value"] == 0
