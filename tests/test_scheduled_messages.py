"""Scheduled messages: nothing in the log until send_at, then sent once in the author's name,
across two processes and a restart; cancelled ones never go; an author who left gets nothing
sent in their name and sees it failed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Backend, RedisProcess, Server, app_client, server_env
from tests.helpers import (
    invite_staff,
    new_practice,
    new_thread,
)
from tests.mailbox import Mailbox
from tests.reach_helpers import Clock, eventually, messages, schedule

HOUR = 3600


async def _scheduled(http: httpx.AsyncClient, person: Any, **params: str) -> list[dict[str, Any]]:
    resp = await http.get("/scheduled", params=params, headers=person.headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["scheduled"])


async def test_a_message_written_tonight_arrives_in_the_morning_once(
    server: Server, backend: Backend, mailbox: Mailbox, start_server: Any, tmp_path: Path,
) -> None:
    clock = Clock(tmp_path / "clock")
    worker = start_server(CLOCK_OFFSET_FILE=str(clock.path), SCHEDULED_POLL_SECONDS="0.1")
    async with app_client(worker.url) as http:
        owner = await new_practice(http)
        provider = await invite_staff(http, mailbox, owner)
        tid = await new_thread(http, provider, owner)

        resp = await schedule(http, provider, tid, "Good morning! Remember the walk.",
                              clock.later(8 * HOUR), client_id="morning-1")
        assert resp.status_code == 202, resp.text
        later = resp.json()["scheduled"]
        assert later["send_at"] and later["id"]
        # The same client_id again is the same scheduled message, not a second one.
        again = await schedule(http, provider, tid, "Good morning! Remember the walk.",
                               clock.later(8 * HOUR), client_id="morning-1")
        assert again.status_code == 202 and again.json()["scheduled"]["id"] == later["id"]
        dropped = (await schedule(http, provider, tid, "Never mind", clock.later(8 * HOUR))
                   ).json()["scheduled"]

        assert await messages(http, owner, tid) == []  # nothing in the log yet
        listed = await _scheduled(http, provider)
        assert {s["id"] for s in listed} == {later["id"], dropped["id"]}
        assert all(s["status"] == "scheduled" for s in listed)
        assert await _scheduled(http, owner) == []  # only the author's own

        # Someone else cannot cancel it; the author can, once.
        assert (await http.delete(f"/scheduled/{dropped['id']}", headers=owner.headers)
                ).status_code == 404
        assert (await http.delete(f"/scheduled/{dropped['id']}", headers=provider.headers)
                ).status_code == 204
        again_cancel = await http.delete(f"/scheduled/{dropped['id']}", headers=provider.headers)
        assert again_cancel.status_code == 409 and again_cancel.json()["code"] == "not_scheduled"

        clock.advance(8 * HOUR + 5)
        sent = await eventually(lambda: messages(http, owner, tid), lambda m: len(m) >= 1)
        await asyncio.sleep(0.5)
        sent = await messages(http, owner, tid)
        assert [(m["body"], m["actor_id"], m["client_id"]) for m in sent] == [
            ("Good morning! Remember the walk.", provider.id, "morning-1")]
        [done] = await _scheduled(http, provider, status="sent")
        assert done["id"] == later["id"] and done["event_id"] == sent[0]["id"]
        assert (await http.delete(f"/scheduled/{later['id']}", headers=provider.headers)
                ).status_code == 409


async def test_scheduling_refuses_the_past_strangers_and_bad_bodies(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    tid = await new_thread(http, provider, owner)
    other = await new_practice(http, "Elsewhere Clinic")
    clock = Clock.__new__(Clock)
    clock.offset = 0.0

    past = await schedule(http, provider, tid, "Too late", clock.later(-60))
    assert past.status_code == 400 and past.json()["code"] == "send_at_in_past"
    naive = await schedule(http, provider, tid, "No zone", "2099-01-01T09:00:00")
    assert naive.status_code == 400 and naive.json()["code"] == "invalid_send_at"
    far = await schedule(http, provider, tid, "Too far", "2999-01-01T09:00:00Z")
    assert far.status_code == 400
    garbage = await schedule(http, provider, tid, "Hm", "tomorrow morning")
    assert garbage.status_code == 400 and garbage.json()["code"] == "validation_error"
    empty = await schedule(http, provider, tid, "   ", clock.later(600))
    assert empty.status_code == 400
    # Another practice's owner, and someone with no token, cannot schedule here.
    stranger = await schedule(http, other, tid, "Hello", clock.later(600))
    assert stranger.status_code == 404
    anonymous = await http.post(f"/threads/{tid}/messages",
                                json={"body": "x", "client_id": "a", "send_at": clock.later(60)})
    assert anonymous.status_code == 401
    assert (await http.delete("/scheduled/not-an-id", headers=provider.headers)
            ).status_code == 404
    assert (await http.get("/scheduled", headers=other.headers)).json()["scheduled"] == []
    # Nothing of it was stored.
    assert await _scheduled(http, provider) == []


async def test_exactly_once_across_two_processes_and_a_restart(
    cluster_backend: Backend, own_redis: RedisProcess, mailbox: Mailbox, tmp_path: Path
) -> None:
    clock = Clock(tmp_path / "clock")
    env = server_env(cluster_backend, mailbox, CLOCK_OFFSET_FILE=str(clock.path),
                     SCHEDULED_POLL_SECONDS="0.05")
    first, second = Server(cluster_backend, env), Server(cluster_backend, env)
    first.start()
    second.start(migrate=False)
    try:
        async with app_client(first.url) as http, app_client(second.url) as http2:
            owner = await new_practice(http)
            provider = await invite_staff(http, mailbox, owner)
            leaver = await invite_staff(http, mailbox, owner, name="Lee Leaver")
            tid = await new_thread(http, provider, owner, leaver)
            # Many due at the same moment, so both processes' passes race on them.
            bodies = [f"Note {i}" for i in range(25)]
            for body in bodies:
                assert (await schedule(http, provider, tid, body, clock.later(HOUR))
                        ).status_code == 202
            later = [f"Later {i}" for i in range(5)]
            for body in later:
                assert (await schedule(http2, provider, tid, body, clock.later(3 * HOUR))
                        ).status_code == 202
            gone = (await schedule(http, leaver, tid, "From someone who left",
                                   clock.later(HOUR))).json()["scheduled"]
            resp = await http.delete(f"/threads/{tid}/members/{leaver.id}",
                                     headers=leaver.headers)
            assert resp.status_code == 200

            clock.advance(HOUR + 5)
            sent = await eventually(lambda: messages(http, owner, tid),
                                    lambda m: len(m) >= len(bodies))
            await asyncio.sleep(1.0)  # give a double send every chance to show itself
            sent = await messages(http, owner, tid)
            assert sorted(m["body"] for m in sent) == sorted(bodies)
            assert {m["actor_id"] for m in sent} == {provider.id}
            # The one who left: nothing in their name, and they see it failed.
            [failed] = (await http.get("/scheduled", params={"status": "failed"},
                                       headers=leaver.headers)).json()["scheduled"]
            assert failed["id"] == gone["id"] and failed["failure"] == "not_a_member"

            first.stop()
            second.stop()
            third = Server(cluster_backend, env)
            third.start(migrate=False)
            try:
                async with app_client(third.url) as http3:
                    clock.advance(2 * HOUR)
                    sent = await eventually(lambda: messages(http3, owner, tid),
                                            lambda m: len(m) >= len(bodies) + len(later))
                    await asyncio.sleep(1.0)
                    sent = await messages(http3, owner, tid)
                    assert sorted(m["body"] for m in sent) == sorted(bodies + later)
                    statuses = {s["status"] for s in (await http3.get(
                        "/scheduled", headers=provider.headers)).json()["scheduled"]}
                    assert statuses == {"sent"}
            finally:
                third.stop()
    finally:
        first.stop()
        second.stop()
