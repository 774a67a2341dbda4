"""Unread-message emails: one email after NOTIFY_DELAY_SECONDS naming the practice and the
count, with a link and never any content; nothing more until read; an unsubscribe link that
works without logging in, with the List-Unsubscribe headers; once across two processes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Backend, RedisProcess, Server, app_client, server_env
from tests.helpers import (
    Person,
    accept,
    add_client,
    invite_staff,
    new_practice,
    say,
    unique_email,
)
from tests.mailbox import Mail, Mailbox
from tests.reach_helpers import Clock

DELAY = 300


def _unread_mails(mailbox: Mailbox, address: str) -> list[Mail]:
    return [m for m in mailbox.to(address) if "unread" in m.subject]


async def _settle_mails(mailbox: Mailbox, address: str, count: int, wait: float = 10
                        ) -> list[Mail]:
    for _ in range(int(wait / 0.1)):
        if len(_unread_mails(mailbox, address)) >= count:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # a second email would show itself now
    return _unread_mails(mailbox, address)


async def _read_all(http: httpx.AsyncClient, person: Person, thread_id: str) -> None:
    thread = (await http.get(f"/threads/{thread_id}", headers=person.headers)).json()["thread"]
    resp = await http.post(f"/threads/{thread_id}/read", json={"seq": thread["last_seq"]},
                           headers=person.headers)
    assert resp.status_code == 200, resp.text


def _assert_no_content(mail: Mail, *secrets: str) -> None:
    text = mail.subject + "\n" + mail.body
    for secret in secrets:
        assert secret.lower() not in text.lower(), (secret, text)


async def test_one_email_per_unread_spell_with_no_content_and_a_working_unsubscribe(
    server: Server, mailbox: Mailbox, start_server: Any, tmp_path: Path
) -> None:
    clock = Clock(tmp_path / "clock")
    worker = start_server(CLOCK_OFFSET_FILE=str(clock.path), NOTIFY_DELAY_SECONDS=str(DELAY),
                          NOTIFY_POLL_SECONDS="0.1")
    async with app_client(worker.url) as http:
        owner = await new_practice(http, "Quiet Pines Therapy")
        provider = await invite_staff(http, mailbox, owner, name="Dr Pat Provider")
        email = unique_email("client")
        client = await add_client(http, provider, name="Casey Nightowl", email=email)
        casey = await accept(http, (await mailbox.wait_for(email)).token)
        tid = client["care_thread_id"]
        await _read_all(http, casey, tid)  # the welcome message, read on arrival
        secret_1 = "I could not sleep again, the panic attacks are back"
        secret_2 = "PHQ-9 answer: nearly every day"
        await say(http, casey, tid, secret_1)
        await say(http, casey, tid, secret_2)
        assert (await http.get("/me/notifications", headers=provider.headers)).json() == {
            "notifications": {"email": "unread"}}

        clock.advance(DELAY / 2)
        await asyncio.sleep(1.0)
        assert _unread_mails(mailbox, provider.email or "") == []  # not yet

        clock.advance(DELAY / 2 + 10)
        [first] = await _settle_mails(mailbox, provider.email or "", 1)
        assert "Quiet Pines Therapy" in first.subject and "2 unread messages" in first.subject
        assert f"/#/threads/{tid}" in first.body
        _assert_no_content(first, secret_1, secret_2, "panic", "Casey", "Nightowl")
        assert first.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = first.headers["List-Unsubscribe"].strip("<>")
        assert unsubscribe in first.body
        # The owner is not in this care thread and the client wrote it: no email for them.
        assert _unread_mails(mailbox, owner.email or "") == []
        assert _unread_mails(mailbox, email) == []

        # More messages, still unread: no second email.
        await say(http, casey, tid, "Are you there?")
        clock.advance(DELAY * 3)
        assert len(await _settle_mails(mailbox, provider.email or "", 2, wait=2)) == 1

        # Once read, the next unread spell gets its own email.
        await _read_all(http, provider, tid)
        reply = "Let's talk tomorrow at 10 about the sleep diary"
        await say(http, provider, tid, reply)
        await say(http, casey, tid, "ok")
        clock.advance(DELAY + 10)
        mails = await _settle_mails(mailbox, provider.email or "", 2)
        assert len(mails) == 2 and "1 unread message at Quiet Pines Therapy" in mails[1].subject
        # The client is emailed about the provider's reply, without it.
        [to_client] = await _settle_mails(mailbox, email, 1)
        _assert_no_content(to_client, reply, "sleep diary", "Pat")

        # The unsubscribe link works without logging in; a tampered one does not.
        async with httpx.AsyncClient() as web:
            base = unsubscribe.replace("http://carethread.test", worker.url)
            page = await web.get(base)
            assert page.status_code == 200 and "<form" in page.text
            assert (await http.get("/me/notifications", headers=provider.headers)
                    ).json()["notifications"]["email"] == "unread"  # GET alone changes nothing
            tampered = base[:-4] + ("0000" if not base.endswith("0000") else "1111")
            assert (await web.post(tampered, data={"List-Unsubscribe": "One-Click"})
                    ).status_code == 404
            done = await web.post(base, data={"List-Unsubscribe": "One-Click"})
            assert done.status_code == 200, done.text
        assert (await http.get("/me/notifications", headers=provider.headers)).json() == {
            "notifications": {"email": "off"}}
        await _read_all(http, provider, tid)
        await say(http, casey, tid, "one more")
        clock.advance(DELAY + 10)
        assert len(await _settle_mails(mailbox, provider.email or "", 3, wait=2)) == 2

        # And back on from the app.
        resp = await http.put("/me/notifications", json={"email": "unread"},
                              headers=provider.headers)
        assert resp.status_code == 200 and resp.json()["notifications"]["email"] == "unread"


async def test_notification_settings_refuse_bad_input(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    for body in ({"email": "sometimes"}, {"email": 1}, {}, [], {"email": None}):
        resp = await http.put("/me/notifications", json=body, headers=owner.headers)
        assert resp.status_code == 400 and resp.json()["code"] == "validation_error", body
    assert (await http.put("/me/notifications", json={"email": "off"})).status_code == 401
    assert (await http.get("/me/notifications")).status_code == 401
    assert (await http.get("/me/notifications", headers=owner.headers)).json() == {
        "notifications": {"email": "unread"}}
    for query in ({"user": "nobody", "sig": "x"}, {"user": owner.id, "sig": "0" * 64}):
        resp = await http.post("/notifications/unsubscribe", params=query)
        assert resp.status_code == 404
    assert (await http.get("/me/notifications", headers=owner.headers)).json() == {
        "notifications": {"email": "unread"}}


async def test_two_processes_send_each_email_once(
    cluster_backend: Backend, own_redis: RedisProcess, mailbox: Mailbox, tmp_path: Path
) -> None:
    clock = Clock(tmp_path / "clock")
    env = server_env(cluster_backend, mailbox, CLOCK_OFFSET_FILE=str(clock.path),
                     NOTIFY_DELAY_SECONDS=str(DELAY), NOTIFY_POLL_SECONDS="0.05")
    first, second = Server(cluster_backend, env), Server(cluster_backend, env)
    first.start()
    second.start(migrate=False)
    try:
        async with app_client(first.url) as http:
            owner = await new_practice(http)
            providers = [await invite_staff(http, mailbox, owner, name=f"Pro {i}")
                         for i in range(6)]
            for i, provider in enumerate(providers):
                client = await add_client(http, provider, name=f"Client {i}",
                                          send_invite=False)
                await say(http, owner if False else provider, client["care_thread_id"],
                          "hello")  # their own message: not unread for them
                thread = await http.post("/threads", json={"member_ids": [provider.id]},
                                         headers=owner.headers)
                await say(http, owner, thread.json()["thread"]["id"], f"Team note {i}")
            clock.advance(DELAY + 5)
            for provider in providers:
                mails = await _settle_mails(mailbox, provider.email or "", 1)
                assert len(mails) == 1, provider.email
                assert "1 unread message" in mails[0].subject
                _assert_no_content(mails[0], "Team note")
    finally:
        first.stop()
        second.stop()


def test_the_jobs_read_on_sqlite_goes_to_a_reader_not_the_writer() -> None:
    """The SQLite engine sends a statement to its readers only when it is a SELECT; anything
    else runs on the writer, holding every send up for the whole scan."""
    from server.notifications.service import _OLDEST_UNREAD_SQLITE
    from server.sqlite_engine import READ_VERB

    assert _OLDEST_UNREAD_SQLITE.lstrip()[:6].upper() == READ_VERB


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_run_that_finds_another_process_scanning_leaves_the_email_to_it(
    server: Server, backend: Backend, mailbox: Mailbox, start_server: Any, tmp_path: Path
) -> None:
    """While another process's scan holds the lock, a run sends nothing; once it is free, the
    next run sends the email."""
    import asyncpg

    from server.notifications.service import SCAN_LOCK_KEY

    clock = Clock(tmp_path / "clock")
    worker = start_server(CLOCK_OFFSET_FILE=str(clock.path), NOTIFY_DELAY_SECONDS=str(DELAY),
                          NOTIFY_POLL_SECONDS="0.1")
    async with app_client(worker.url) as http:
        owner = await new_practice(http, "Locked Scan Practice")
        provider = await invite_staff(http, mailbox, owner)
        email = unique_email("client")
        client = await add_client(http, provider, name="Lee Locked", email=email)
        lee = await accept(http, (await mailbox.wait_for(email)).token)
        tid = client["care_thread_id"]
        await _read_all(http, lee, tid)
        await say(http, lee, tid, "Hello?")
        other = await asyncpg.connect(backend.env["DATABASE_URL"])
        try:
            scanning = other.transaction()
            await scanning.start()
            await other.execute("SELECT pg_advisory_xact_lock($1)", SCAN_LOCK_KEY)
            clock.advance(DELAY + 10)
            assert await _settle_mails(mailbox, provider.email or "", 1, wait=2) == []
            await scanning.rollback()
        finally:
            await other.close()
        assert len(await _settle_mails(mailbox, provider.email or "", 1)) == 1
