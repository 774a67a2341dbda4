"""A message and a removal that meet at the thread's lock.

The send takes the thread's lock, then reads who the members are (on PostgreSQL in a statement
of its own inside the append function, m0080; on SQLite after the writer is free). A removal
committed while the send waited must be seen: the removed person's message is refused and
stored nowhere. Here the removal is written straight to the database, holding the thread the
way the service's removal does, so the test controls exactly when it commits.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx

from tests.conftest import Backend
from tests.helpers import all_events, new_bot, new_practice, new_thread, say

_LOCK_THREAD = "UPDATE thread SET last_seq = last_seq WHERE id = {}"
_LEAVE = ("UPDATE thread_member SET left_seq = (SELECT last_seq FROM thread WHERE id = {0}) "
          "WHERE thread = {0} AND profile = {1}")


@asynccontextmanager
async def _removal_held_open(backend: Backend, thread_id: str, profile_id: str
                             ) -> AsyncIterator[Callable[[], None]]:
    """Locks the thread and ends the membership in an open transaction; yields the commit."""
    url = backend.env["DATABASE_URL"]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(_LOCK_THREAD.format("?"), (thread_id,))
            conn.execute(_LEAVE.format("?1", "?2"), (thread_id, profile_id))
            yield lambda: conn.execute("COMMIT") and None
        finally:
            conn.close()
        return
    import asyncpg

    pg = await asyncpg.connect(url)
    try:
        tx = pg.transaction()
        await tx.start()
        await pg.execute(_LOCK_THREAD.format("$1::uuid"), thread_id)
        await pg.execute(_LEAVE.format("$1::uuid", "$2::uuid"), thread_id, profile_id)
        commits: list[asyncio.Task[None]] = []
        yield lambda: commits.append(asyncio.ensure_future(tx.commit())) and None
        await asyncio.gather(*commits)
    finally:
        await pg.close()


async def test_a_member_removed_while_their_message_waits_for_the_thread_is_refused(
    http: httpx.AsyncClient, backend: Backend
) -> None:
    owner = await new_practice(http)
    bot = await new_bot(http, owner)
    thread = await new_thread(http, owner, bot)
    await say(http, bot, thread, "before")

    async with _removal_held_open(backend, thread, bot.id) as commit:
        sending = asyncio.create_task(http.post(
            f"/threads/{thread}/messages",
            json={"body": "after the removal", "client_id": uuid.uuid4().hex},
            headers=bot.headers))
        await asyncio.sleep(0.5)
        assert not sending.done()  # waiting for the thread
        commit()
    resp = await sending
    assert resp.status_code == 404, resp.text
    assert resp.json()["code"] == "not_found"

    bodies = [e.get("body") for e in await all_events(http, owner, thread)]
    assert "before" in bodies and "after the removal" not in bodies
