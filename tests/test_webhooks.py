"""Webhooks: Standard Webhooks signatures, retries with backoff, in order per thread, a
deliveries log, secret rotation, team-only events only to trusted URLs, a slow receiver never
slows chat, and the URL rule (https, loopback http in development, never link-local)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from standardwebhooks.webhooks import Webhook as Verifier

from tests.conftest import Server, app_client
from tests.helpers import (
    Person,
    add_client,
    invite_staff,
    new_practice,
    new_thread,
    say,
)
from tests.mailbox import Mailbox
from tests.reach_helpers import Clock, eventually
from tests.receiver import Received, Receiver, running

DAY = 86400


async def _hook(http: httpx.AsyncClient, admin: Person, url: str, events: list[str],
                **extra: Any) -> tuple[dict[str, Any], str]:
    resp = await http.post("/webhooks", json={"url": url, "events": events, **extra},
                           headers=admin.headers)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["secret"].startswith("whsec_")
    return body["webhook"], body["secret"]


def _verified(secret: str, got: Received) -> dict[str, Any]:
    """What the receiver would do: check the signature (raises if wrong), parse."""
    return dict(Verifier(secret).verify(got.body, got.headers))


async def _deliveries(http: httpx.AsyncClient, admin: Person, hook_id: str
                      ) -> list[dict[str, Any]]:
    resp = await http.get(f"/webhooks/{hook_id}/deliveries", headers=admin.headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["deliveries"])


async def test_signed_in_order_retried_and_given_up_after_a_day(
    server: Server, mailbox: Mailbox, start_server: Any, tmp_path: Path
) -> None:
    clock = Clock(tmp_path / "clock")
    worker = start_server(CLOCK_OFFSET_FILE=str(clock.path), WEBHOOK_POLL_SECONDS="0.1")
    failures = {"left": 2}

    async def flaky(_: Receiver, request: web.Request, body: bytes) -> int:
        if b"poison" in body:
            return 503
        if failures["left"] > 0:
            failures["left"] -= 1
            return 500
        return 200

    receiver = await running(flaky)
    try:
        async with app_client(worker.url) as http:
            owner = await new_practice(http)
            provider = await invite_staff(http, mailbox, owner)
            hook, secret = await _hook(http, owner, receiver.url + "/hook", ["message"])
            assert hook["events"] == ["message"] and hook["trusted"] is False
            listed = (await http.get("/webhooks", headers=owner.headers)).json()["webhooks"]
            assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
            tid = await new_thread(http, owner, provider)
            other = await new_thread(http, provider, owner)
            for i in range(5):
                await say(http, owner, tid, f"first thread {i}")
                await say(http, provider, other, f"second thread {i}")

            # The first attempts fail; retries come with backoff (5 s, 10 s, ...).
            await receiver.wait("/hook", 2)
            for _ in range(6):
                clock.advance(30)
                await asyncio.sleep(0.5)
            got = await receiver.wait("/hook", 10, status=200)
            assert len(got) == 10
            bodies: dict[str, list[int]] = {}
            for r in got:
                payload = _verified(secret, r)
                assert payload["type"] == "message"
                event = payload["data"]["event"]
                assert r.headers["webhook-id"] == f"msg_{event['id']}"
                bodies.setdefault(event["thread_id"], []).append(event["seq"])
            for seqs in bodies.values():
                assert seqs == sorted(seqs) and len(seqs) == 5  # in order, each once
            # Retries of one delivery keep its webhook-id.
            ids = [r.headers["webhook-id"] for r in receiver.on("/hook")]
            assert len(set(ids)) == 10
            log = await _deliveries(http, owner, hook["id"])
            assert len(log) == 10 and {d["status"] for d in log} == {"delivered"}
            assert all(d["last_status_code"] == 200 for d in log)
            assert max(d["attempts"] for d in log) >= 2

            # A receiver that keeps failing on one event: retried for a day, then given up;
            # the thread's later events wait behind it, then go.
            await say(http, owner, tid, "poison")
            await say(http, owner, tid, "later news")
            await receiver.wait("/hook", 12)
            await asyncio.sleep(1.0)
            assert not [r for r in receiver.on("/hook") if b"later news" in r.body]
            for _ in range(5):
                clock.advance(DAY / 4)
                await asyncio.sleep(0.5)
            clock.advance(3600)
            late = await eventually(
                lambda: _deliveries(http, owner, hook["id"]),
                lambda log: {d["status"] for d in log} >= {"failed"}
                and all(d["status"] != "pending" for d in log))
            failed = [d for d in late if d["status"] == "failed"]
            assert len(failed) == 1 and failed[0]["last_status_code"] == 503
            assert [r for r in receiver.on("/hook") if b"later news" in r.body]
    finally:
        await receiver.stop()


async def test_team_only_events_go_only_to_trusted_urls_and_a_slow_one_never_slows_chat(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    async def slow(_: Receiver, __: web.Request, ___: bytes) -> int:
        await asyncio.sleep(3)
        return 200

    plain = await running()
    trusted = await running()
    sluggish = await running(slow)
    try:
        owner = await new_practice(http)
        admin = await invite_staff(http, mailbox, owner, role="admin")
        await _hook(http, admin, plain.url + "/plain", ["*"])
        refused = await http.post("/webhooks", json={"url": trusted.url + "/t", "events": ["*"],
                                                     "trusted": True}, headers=admin.headers)
        assert refused.status_code == 403 and refused.json()["code"] == "owner_only"
        _, trusted_secret = await _hook(http, owner, trusted.url + "/trusted", ["*"],
                                        trusted=True)
        await _hook(http, owner, sluggish.url + "/slow", ["message"])
        group = (await http.post("/groups", json={"name": "Pilot"}, headers=owner.headers)
                 ).json()["group"]
        client = await add_client(http, owner, name="Tess Trust", email="tess@example.org",
                                  group_id=group["id"])
        tid = client["care_thread_id"]

        started = time.monotonic()
        latencies = []
        for i in range(20):
            t0 = time.monotonic()
            await say(http, owner, tid, f"chat {i}")
            latencies.append(time.monotonic() - t0)
        elapsed = time.monotonic() - started
        # 20 deliveries to a receiver taking 3 s each need a minute; the chat did not wait.
        assert elapsed < 15, (elapsed, latencies)

        got = await trusted.wait("/trusted", 24)
        kinds = [_verified(trusted_secret, r)["type"] for r in got]
        assert {"invite.sent", "group.changed"} <= set(kinds)
        await plain.wait("/plain", 21)
        await asyncio.sleep(1.0)
        plain_kinds = [json.loads(r.body)["type"] for r in plain.on("/plain")]
        assert "message" in plain_kinds and "thread.created" in plain_kinds
        assert "invite.sent" not in plain_kinds and "group.changed" not in plain_kinds
        assert len(sluggish.on("/slow")) < 20  # still working through them, in order
    finally:
        for receiver in (plain, trusted, sluggish):
            await receiver.stop()


async def test_rotating_the_secret_signs_with_both_for_a_day(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    receiver = await running()
    try:
        owner = await new_practice(http)
        provider = await invite_staff(http, mailbox, owner)
        hook, old = await _hook(http, owner, receiver.url + "/r", ["message"])
        tid = await new_thread(http, owner, provider)
        await say(http, owner, tid, "before")
        [first] = await receiver.wait("/r", 1)
        _verified(old, first)
        resp = await http.post(f"/webhooks/{hook['id']}/rotate-secret", headers=owner.headers)
        assert resp.status_code == 200
        new = resp.json()["secret"]
        assert new != old
        await say(http, owner, tid, "after")
        got = await receiver.wait("/r", 2)
        assert len(got[1].headers["webhook-signature"].split(" ")) == 2
        _verified(new, got[1])
        _verified(old, got[1])
        # Switched off: nothing more is delivered.
        resp = await http.patch(f"/webhooks/{hook['id']}", json={"active": False},
                                headers=owner.headers)
        assert resp.status_code == 200 and resp.json()["webhook"]["active"] is False
        await say(http, owner, tid, "while off")
        await asyncio.sleep(2.5)
        assert len(receiver.on("/r")) == 2
    finally:
        await receiver.stop()


async def test_webhook_urls_roles_and_other_practices(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    other = await new_practice(http, "Other Practice")
    hook, _ = await _hook(http, owner, "https://hooks.example.org/carethread", ["message"])
    bad_urls = [
        ("ftp://example.org/x", "invalid_url"),
        ("http://example.org/hook", "invalid_url"),  # plain http, not loopback
        ("https://169.254.169.254/latest/meta-data", "forbidden_address"),
        ("http://169.254.169.254/", "forbidden_address"),
        ("https://[fe80::1]/hook", "forbidden_address"),
        ("https://[::ffff:169.254.169.254]/", "forbidden_address"),
        ("not a url", "invalid_url"),
        ("https://user:pass@example.org/", "invalid_url"),
        ("https://example.org:99999/", "invalid_url"),
    ]
    for url, code in bad_urls:
        resp = await http.post("/webhooks", json={"url": url, "events": ["message"]},
                               headers=owner.headers)
        assert resp.status_code == 400 and resp.json()["code"] == code, (url, resp.text)
    for body in ({"url": "https://example.org/a", "events": []},
                 {"url": "https://example.org/a", "events": ["Bad Kind!"]},
                 {"url": "https://example.org/a"}, {"events": ["message"]}, [],
                 {"url": 5, "events": ["message"]}):
        resp = await http.post("/webhooks", json=body, headers=owner.headers)
        assert resp.status_code == 400, (body, resp.text)
    assert (await http.post("/webhooks", json={"url": "https://e.org", "events": ["message"]},
                            headers=provider.headers)).status_code == 403
    assert (await http.get("/webhooks", headers=provider.headers)).status_code == 403
    assert (await http.post("/webhooks", json={"url": "https://e.org", "events": ["x"]})
            ).status_code == 401
    for path in (f"/webhooks/{hook['id']}", f"/webhooks/{hook['id']}/deliveries"):
        assert (await http.get(path, headers=other.headers)).status_code == 404
    assert (await http.post(f"/webhooks/{hook['id']}/rotate-secret", headers=other.headers)
            ).status_code == 404
    assert (await http.delete(f"/webhooks/{hook['id']}", headers=other.headers)
            ).status_code == 404
    assert (await http.get("/webhooks/nope", headers=owner.headers)).status_code == 404
    # Nothing of the refused ones was stored.
    listed = (await http.get("/webhooks", headers=owner.headers)).json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert (await http.delete(f"/webhooks/{hook['id']}", headers=owner.headers)
            ).status_code == 204
