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
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

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


_SEND = ("SELECT a.new_seq, a.member_ids, carethread_alone($8::text[]) FROM "
         "carethread_append_message($1, $2, $3, 'message', $4, $5, NULL, $6, 'all', now(), $7) a")


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_on_postgres_a_message_statement_commits_alone_only_for_a_member_with_nothing_else_to_write(  # noqa: E501
    http: httpx.AsyncClient, backend: Backend
) -> None:
    """The statement a plain message is sent with (m0080), called as the server calls it."""
    import asyncpg

    owner = await new_practice(http)
    bot = await new_bot(http, owner)
    thread = await new_thread(http, owner, bot)
    pg = await asyncpg.connect(backend.env["DATABASE_URL"])
    try:
        async def send(actor: str, *, member_only: bool = True, reads: list[str | None]
                       ) -> asyncpg.Record | None:
            return await pg.fetchrow(
                _SEND, uuid.UUID(thread), uuid.UUID(owner_org),
                uuid.uuid4(), uuid.UUID(actor), "hello", uuid.uuid4().hex, member_only, reads)

        owner_org = str(await pg.fetchval("SELECT organization FROM thread WHERE id = $1",
                                          uuid.UUID(thread)))
        seq_before = await pg.fetchval("SELECT last_seq FROM thread WHERE id = $1",
                                       uuid.UUID(thread))
        events_before = await pg.fetchval("SELECT count(*) FROM thread_event")

        with pytest.raises(asyncpg.PostgresError) as stranger:
            await send(str(uuid.uuid4()), reads=[None])
        assert stranger.value.sqlstate == "CT404"
        with pytest.raises(asyncpg.PostgresError) as webhook:
            await send(bot.id, reads=['[{"id": "a webhook"}]'])
        assert webhook.value.sqlstate == "CT409"
        assert await pg.fetchval("SELECT last_seq FROM thread WHERE id = $1",
                                 uuid.UUID(thread)) == seq_before
        assert await pg.fetchval("SELECT count(*) FROM thread_event") == events_before

        row = await send(bot.id, reads=[None])
        assert row is not None and row["new_seq"] == seq_before + 1
        assert {str(m) for m in row["member_ids"]} == {owner.id, bot.id}
    finally:
        await pg.close()
    bodies = [e.get("body") for e in await all_events(http, owner, thread)]
    assert bodies.count("hello") == 1


async def test_many_messages_sent_at_once_are_each_stored_once_in_order_or_refused_alone(
    http: httpx.AsyncClient, backend: Backend
) -> None:
    """Sends that queue together go as one group (PostgreSQL: one statement; SQLite: one
    COMMIT): each is stored once, with the thread's next seq, and a refused one (a thread the
    author is not in, a repeated client_id) changes nothing of the others."""
    owner = await new_practice(http)
    bot = await new_bot(http, owner)
    threads = [await new_thread(http, owner, bot, title=f"T{i}") for i in range(3)]
    not_bots = await new_thread(http, owner, title="Owner only")
    repeated = uuid.uuid4().hex

    async def post(person: Any, thread: str, body: str, client_id: str | None = None
                   ) -> httpx.Response:
        return await http.post(f"/threads/{thread}/messages",
                               json={"body": body, "client_id": client_id or uuid.uuid4().hex},
                               headers=person.headers)

    sends = [post(bot if i % 2 else owner, threads[i % 3], f"m{i}") for i in range(30)]
    sends += [post(bot, not_bots, "not mine"), post(bot, threads[0], "once", repeated),
              post(bot, threads[0], "once", repeated)]
    answers = await asyncio.gather(*sends)
    assert [a.status_code for a in answers[:30]] == [201] * 30
    assert answers[30].status_code == 404
    assert {answers[31].status_code, answers[32].status_code} <= {200, 201}
    assert answers[31].json()["event"]["id"] == answers[32].json()["event"]["id"]

    for i, thread in enumerate(threads):
        events = await all_events(http, owner, thread)
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(1, len(seqs) + 1))
        bodies = [e.get("body") for e in events if e["kind"] == "message"]
        expected = {f"m{j}" for j in range(30) if j % 3 == i} | ({"once"} if i == 0 else set())
        assert sorted(bodies) == sorted(expected)  # each once
    assert "not mine" not in [e.get("body") for e in await all_events(http, owner, not_bots)]


_GROUP = ("SELECT item, new_seq, refused FROM carethread_append_messages("
          "$1, $2, $3, $4, $5, $6, $7, $8) ORDER BY item")


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_on_postgres_a_group_statement_refuses_each_message_alone(
    http: httpx.AsyncClient, backend: Backend
) -> None:
    """The statement a worker's queued messages go in together (m0081)."""
    import asyncpg

    owner = await new_practice(http)
    bot = await new_bot(http, owner)
    thread = uuid.UUID(await new_thread(http, owner, bot))
    stranger = uuid.uuid4()
    pg = await asyncpg.connect(backend.env["DATABASE_URL"])
    try:
        org = await pg.fetchval("SELECT organization FROM thread WHERE id = $1", thread)
        seq = await pg.fetchval("SELECT last_seq FROM thread WHERE id = $1", thread)
        client_ids = ["a", "b", "a", "c", "d"]
        actors = [uuid.UUID(bot.id), stranger, uuid.UUID(bot.id), uuid.UUID(owner.id),
                  uuid.UUID(owner.id)]
        rows = await pg.fetch(
            _GROUP, [thread] * 5, [org] * 5, [uuid.uuid4() for _ in range(5)], actors,
            [f"body {c}" for c in client_ids], client_ids,
            [datetime.now(UTC)] * 5, [True, True, True, True, False])
        assert [(r["new_seq"], r["refused"]) for r in rows] == [
            (seq + 1, None), (None, "not_found"), (None, "duplicate"), (seq + 2, None),
            (None, "transaction")]
        assert await pg.fetchval("SELECT last_seq FROM thread WHERE id = $1", thread) == seq + 2
    finally:
        await pg.close()
    bodies = [e.get("body") for e in await all_events(http, owner, thread.hex)]
    assert bodies.count("body a") == 1 and "body c" in bodies and "body d" not in bodies


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_on_sqlite_a_group_refuses_each_message_alone(
    http: httpx.AsyncClient, backend: Backend
) -> None:
    """The hop a process's queued messages go in together on SQLite: each in a savepoint of
    its own, so a stranger's message, a repeated client_id and a thread with something to
    write alongside (an early read that found rows) are refused and undo nothing else."""
    from piccolo.engine.sqlite import dict_factory

    from server.events import ALL, EventRecord, body_of
    from server.threads import sendgroups
    from server.threads.service import MESSAGE, EarlyRead, append_group_sqlite

    owner = await new_practice(http)
    bot = await new_bot(http, owner)
    thread = uuid.UUID(await new_thread(http, owner, bot))
    hooked = uuid.UUID(await new_thread(http, owner, bot, title="Hooked"))
    conn = sqlite3.connect(backend.env["DATABASE_URL"].split("///", 1)[1], timeout=30,
                           isolation_level=None)
    conn.row_factory = dict_factory
    try:
        org = conn.execute("SELECT organization FROM thread WHERE id = ?",
                           (str(thread),)).fetchone()["organization"]
        seq = conn.execute("SELECT last_seq FROM thread WHERE id = ?",
                           (str(thread),)).fetchone()["last_seq"]

        def message(thread_id: uuid.UUID, actor: uuid.UUID, client_id: str
                    ) -> sendgroups.Message:
            return sendgroups.Message(EventRecord(
                id=uuid.uuid4(), thread_id=thread_id, seq=0, kind=MESSAGE, actor_id=actor,
                created_at=datetime.now(UTC), body=body_of(f"body {client_id}"), data=None,
                client_id=client_id, audience=ALL), uuid.UUID(str(org)))

        found_for_hooked = EarlyRead(
            "test", lambda db, t: [{"hook": 1}] if t == hooked else [], "NULL")
        bot_id, owner_id = uuid.UUID(bot.id), uuid.UUID(owner.id)
        conn.execute("BEGIN IMMEDIATE")
        sent = append_group_sqlite(conn, [
            message(thread, bot_id, "a"), message(thread, uuid.uuid4(), "b"),
            message(thread, bot_id, "a"), message(thread, owner_id, "c"),
            message(hooked, owner_id, "d")], [found_for_hooked])
        conn.execute("COMMIT")
        assert [(s.seq, s.refused) for s in sent] == [
            (seq + 1, None), (None, "not_found"), (None, "duplicate"), (seq + 2, None),
            (None, "transaction")]
        assert set(sent[0].member_ids) == {owner_id, bot_id}
        assert conn.execute("SELECT last_seq FROM thread WHERE id = ?",
                            (str(thread),)).fetchone()["last_seq"] == seq + 2
    finally:
        conn.close()
    bodies = [e.get("body") for e in await all_events(http, owner, thread.hex)]
    assert bodies.count("body a") == 1 and "body c" in bodies
    assert "body d" not in [e.get("body") for e in await all_events(http, owner, hooked.hex)]
