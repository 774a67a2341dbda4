"""Automatic reminders on an injected clock: on schedule, once per step across two processes,
surviving a restart, and never after the form is completed or cancelled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.conftest import Backend, RedisProcess, Server, app_client, server_env
from tests.forms_helpers import GOOD_INTAKE, new_form, request_form
from tests.helpers import accept, add_client, all_events, new_practice, unique_email
from tests.mailbox import Mailbox

DAY = 86400


async def _reminders(http: httpx.AsyncClient, reader: object, thread_id: str,
                     request_id: str) -> list[int]:
    events = await all_events(http, reader, thread_id)  # type: ignore[arg-type]
    return [e["data"]["step"] for e in events if e["kind"] == "form.reminded"
            and e["data"]["request_id"] == request_id]


async def _settle(http: httpx.AsyncClient, reader: object, thread_id: str, request_id: str,
                  count: int) -> list[int]:
    for _ in range(100):
        steps = await _reminders(http, reader, thread_id, request_id)
        if len(steps) >= count:
            await asyncio.sleep(1.0)  # give a double send every chance to show itself
            return await _reminders(http, reader, thread_id, request_id)
        await asyncio.sleep(0.1)
    return await _reminders(http, reader, thread_id, request_id)


async def test_reminders_fire_on_schedule_once_across_two_processes(
    cluster_backend: Backend, own_redis: RedisProcess, mailbox: Mailbox, tmp_path: Path
) -> None:
    clock = tmp_path / "clock-offset"
    clock.write_text("0")
    env = server_env(cluster_backend, mailbox, CLOCK_OFFSET_FILE=str(clock),
                     FORM_REMINDER_POLL_SECONDS="0.1")
    first, second = Server(cluster_backend, env), Server(cluster_backend, env)
    first.start()
    second.start(migrate=False)
    try:
        async with app_client(first.url) as http:
            owner = await new_practice(http)
            form = await new_form(http, owner)
            email = unique_email("client")
            client = await add_client(http, owner, name="Remi Nder", email=email)
            robin = await accept(http, (await mailbox.wait_for(email)).token)
            tid = client["care_thread_id"]
            # Many due at once, so both processes' passes overlap on the same rows.
            crowd = [(await request_form(http, owner, form["id"], client["id"]))[0]
                     for _ in range(15)]
            waiting = crowd[0]
            [finished] = await request_form(http, owner, form["id"], client["id"])
            [dropped] = await request_form(http, owner, form["id"], client["id"])
            await http.post(f"/form-requests/{finished['id']}/submit",
                            json={"answers": GOOD_INTAKE}, headers=robin.headers)
            await http.post(f"/form-requests/{dropped['id']}/cancel", headers=owner.headers)

            clock.write_text(str(1 * DAY))
            await asyncio.sleep(1.0)
            assert await _reminders(http, owner, tid, waiting["id"]) == []  # not yet

            clock.write_text(str(2 * DAY + 60))
            assert await _settle(http, owner, tid, crowd[-1]["id"], 1) == [1]
            events = await all_events(http, owner, tid)
            sent = [e["data"]["request_id"] for e in events if e["kind"] == "form.reminded"]
            assert sorted(sent) == sorted(r["id"] for r in crowd)  # each once
            for _ in range(50):
                reminder_mails = [m for m in mailbox.to(email)
                                  if m.subject.startswith("Reminder")]
                if len(reminder_mails) >= len(crowd):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            reminder_mails = [m for m in mailbox.to(email) if m.subject.startswith("Reminder")]
            assert len(reminder_mails) == len(crowd)

            # A restart of both processes loses nothing and repeats nothing.
            first.stop()
            second.stop()
            third = Server(cluster_backend, env)
            third.start(migrate=False)
            try:
                async with app_client(third.url) as http3:
                    clock.write_text(str(5 * DAY + 60))
                    assert await _settle(http3, owner, tid, waiting["id"], 2) == [1, 2]
                    clock.write_text(str(30 * DAY))
                    await asyncio.sleep(1.0)
                    assert await _reminders(http3, owner, tid, waiting["id"]) == [1, 2]
                    for done in (finished, dropped):
                        assert await _reminders(http3, owner, tid, done["id"]) == []
                    for _ in range(50):
                        reminder_mails = [m for m in mailbox.to(email)
                                          if m.subject.startswith("Reminder")]
                        if len(reminder_mails) >= 2 * len(crowd):
                            break
                        await asyncio.sleep(0.1)
                    assert len(reminder_mails) == 2 * len(crowd)
                    # Completing it stops everything.
                    resp = await http3.post(f"/form-requests/{waiting['id']}/submit",
                                            json={"answers": GOOD_INTAKE},
                                            headers=robin.headers)
                    assert resp.status_code == 200
            finally:
                third.stop()
    finally:
        first.stop()
        second.stop()
