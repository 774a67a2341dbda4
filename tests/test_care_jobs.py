"""The jobs of care between visits across two server processes and a restart, on the movable
clock: each task reminder, program module and goal outcome arrives once; none after its
enrolment ended, its task was done, or while paused; a restart loses and repeats nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.care_tasks_helpers import eventually, near_utc_midnight, signed_in_client
from tests.conftest import Backend, RedisProcess, Server, app_client, server_env
from tests.helpers import Person, all_events, new_practice
from tests.mailbox import Mailbox

DAY = 86400


async def _kinds(http: httpx.AsyncClient, reader: Person, threads: list[str], kind: str
                 ) -> list[dict[str, Any]]:
    found = []
    for thread in threads:
        found += [e for e in await all_events(http, reader, thread) if e["kind"] == kind]
    return found


async def _settle(http: httpx.AsyncClient, reader: Person, threads: list[str], kind: str,
                  count: int) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        found = await _kinds(http, reader, threads, kind)
        return found if len(found) >= count else None

    await eventually(enough, within=20)
    await asyncio.sleep(1.0)  # give a double delivery every chance to show itself
    return await _kinds(http, reader, threads, kind)


def _days_ended(created: datetime, now: datetime) -> int:
    """How many whole UTC days of a daily goal set at `created` have ended by `now`."""
    return (now.date() - created.astimezone(UTC).date()).days


async def test_care_jobs_run_once_across_two_processes_and_a_restart(
    cluster_backend: Backend, own_redis: RedisProcess, mailbox: Mailbox, tmp_path: Path
) -> None:
    clock = tmp_path / "clock-offset"
    clock.write_text("0")
    env = server_env(cluster_backend, mailbox, CLOCK_OFFSET_FILE=str(clock),
                     CARE_POLL_SECONDS="0.1", TASK_REMINDER_MINUTES="60")
    first, second = Server(cluster_backend, env), Server(cluster_backend, env)
    first.start()
    second.start(migrate=False)
    try:
        async with app_client(first.url) as http:
            owner = await new_practice(http)
            clients: list[tuple[Person, dict[str, Any]]] = []
            for i in range(6):
                clients.append(await signed_in_client(http, mailbox, owner, f"Client {i}"))
            threads = [row["care_thread_id"] for _, row in clients]
            ids = [row["id"] for _, row in clients]
            due = (datetime.now(UTC) + timedelta(days=1)).isoformat()
            tasks = []
            for client_id in ids:
                for title in ("Stretch", "Hydrate", "Private: check insulin"):
                    resp = await http.post(f"/clients/{client_id}/tasks",
                                           json={"title": title, "due_at": due},
                                           headers=owner.headers)
                    assert resp.status_code == 201, resp.text
                    tasks.append(resp.json()["task"])
            program = (await http.post("/programs", json={"title": "Reset", "modules": [
                {"day": 1, "title": "Day one"}, {"day": 3, "title": "Day three"},
                {"day": 6, "title": "Day six"}]}, headers=owner.headers)).json()["program"]
            resp = await http.post(f"/programs/{program['id']}/enrollments",
                                   json={"client_ids": ids}, headers=owner.headers)
            assert resp.status_code == 201, resp.text
            enrollments = {e["client_id"]: e for e in resp.json()["enrollments"]}
            goal = (await http.post(f"/clients/{ids[0]}/goals", json={
                "title": "Walk 8,000 steps a day", "metric": "steps", "target": 8000,
                "period": "day"}, headers=owner.headers)).json()["goal"]
            # One client checks a task off before its reminder: it gets none.
            done_task = tasks[0]
            resp = await http.post(f"/tasks/{done_task['id']}/complete",
                                   headers=clients[0][0].headers)
            assert resp.status_code == 200
            # One enrolment ends and one pauses before day one.
            await http.post(f"/enrollments/{enrollments[ids[1]]['id']}/end",
                            headers=owner.headers)
            await http.post(f"/enrollments/{enrollments[ids[2]]['id']}/pause",
                            headers=owner.headers)

            # Goal periods are UTC days: keep every moment the test looks at clear of a midnight.
            created = datetime.fromisoformat(goal["created_at"])
            pad = 1500 if near_utc_midnight(goal["created_at"]) else 0
            clock.write_text(str(DAY + 120 + pad))
            reminded = await _settle(http, owner, threads, "task.reminded", len(tasks) - 1)
            assert sorted(e["data"]["task_id"] for e in reminded) == sorted(
                t["id"] for t in tasks[1:])
            modules = await _settle(http, owner, threads, "program.module", 4)
            assert sorted(e["thread_id"] for e in modules) == sorted(
                threads[i] for i in (0, 3, 4, 5))
            ended = _days_ended(created, created + timedelta(seconds=DAY + 120 + pad))
            missed = await _settle(http, owner, threads, "goal.missed", ended)
            assert [e["data"]["goal_id"] for e in missed] == [goal["id"]] * ended
            def reminder_mails() -> list[Any]:
                return [m for p, _ in clients for m in mailbox.to(p.email or "")
                        if m.subject == "A task from your practice is due soon"]

            for _ in range(50):
                if len(reminder_mails()) >= len(tasks) - 1:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            assert len(reminder_mails()) == len(tasks) - 1
            for mail in reminder_mails():
                assert "insulin" not in mail.body and "Stretch" not in mail.body

            # Both processes stop; one comes back later: nothing lost, nothing repeated.
            first.stop()
            second.stop()
            third = Server(cluster_backend, env)
            third.start(migrate=False)
            try:
                async with app_client(third.url) as http3:
                    clock.write_text(str(3 * DAY + 600 + pad))
                    modules = await _settle(http3, owner, threads, "program.module", 8)
                    days = sorted((e["thread_id"], e["data"]["day"]) for e in modules)
                    assert days == sorted((threads[i], d) for i in (0, 3, 4, 5)
                                          for d in (1, 3))
                    ended = _days_ended(created,
                                        created + timedelta(seconds=3 * DAY + 600 + pad))
                    missed = await _settle(http3, owner, threads, "goal.missed", ended)
                    assert len(missed) == ended  # each day that ended, once
                    assert len({e["data"]["period_start"] for e in missed}) == ended
                    reminded = await _kinds(http3, owner, threads, "task.reminded")
                    assert len(reminded) == len(tasks) - 1
            finally:
                third.stop()
    finally:
        first.stop()
        second.stop()
