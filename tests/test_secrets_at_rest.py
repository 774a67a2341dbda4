"""The database holds no password, session token, bot token or invitation token in plain text."""

from __future__ import annotations

import sqlite3

import httpx

from tests.conftest import Backend
from tests.helpers import PASSWORD, login, new_bot, new_practice, unique_email
from tests.mailbox import Mailbox


async def _all_stored_text(backend: Backend) -> str:
    url = backend.env["DATABASE_URL"]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1])
        try:
            query = "SELECT name FROM sqlite_master WHERE type='table'"
            tables = [r[0] for r in conn.execute(query)]
            rows = [repr(row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"')]
        finally:
            conn.close()
        return "\n".join(rows)
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        tables = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        rows = [repr(dict(r)) for t in tables for r in await conn.fetch(f'SELECT * FROM "{t}"')]
    finally:
        await conn.close()
    return "\n".join(rows)


async def test_no_secret_is_stored_in_plain_text(
    http: httpx.AsyncClient, mailbox: Mailbox, backend: Backend
) -> None:
    owner = await new_practice(http)
    session = (await login(http, owner.email)).json()["token"]
    bot = await new_bot(http, owner)
    email = unique_email("provider")
    await http.post("/providers", json={"name": "P", "email": email}, headers=owner.headers)
    invitation = (await mailbox.wait_for(email)).token
    pending = await http.post("/providers", json={"name": "Q", "email": unique_email()},
                              headers=owner.headers)
    assert pending.status_code == 201
    accepted = await http.post("/invitations/accept",
                               json={"token": invitation, "password": PASSWORD})
    stored = await _all_stored_text(backend)
    assert owner.email in stored  # we are looking at the right data
    secrets = [PASSWORD, owner.token, session, bot.token, accepted.json()["token"], invitation]
    for secret in secrets:
        assert secret not in stored
    assert "$argon2id$" in stored
