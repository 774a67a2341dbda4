"""Defence in depth: a membership row is not enough; the thread must be of the caller's practice.

The service never writes a membership across practices; these rows are written straight to the
database (an operator's mistake, a bad import) to show the organization condition holds alone.
"""

from __future__ import annotations

import sqlite3
import uuid

import httpx

from tests.conftest import Backend
from tests.helpers import new_practice, new_thread, say


async def _membership_in_database(backend: Backend, thread_id: str, profile_id: str) -> None:
    """An open membership window of `profile_id` in `thread_id`, copied from one of theirs."""
    url = backend.env["DATABASE_URL"]
    row_id = str(uuid.uuid4())
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], timeout=30)
        try:
            with conn:
                copied = conn.execute(
                    "INSERT INTO thread_member (id, thread, profile, role, joined_seq, left_seq,"
                    " joined_at, left_at, last_read_seq) SELECT ?, ?, profile, role, 0, NULL,"
                    " joined_at, NULL, 0 FROM thread_member WHERE profile = ? LIMIT 1",
                    (row_id, thread_id, profile_id))
                assert copied.rowcount == 1
        finally:
            conn.close()
        return
    import asyncpg

    pg = await asyncpg.connect(url)
    try:
        status = await pg.execute(
            "INSERT INTO thread_member (id, thread, profile, role, joined_seq, left_seq,"
            " joined_at, left_at, last_read_seq) VALUES ($1::uuid, $2::uuid, $3::uuid, 'member',"
            " 0, NULL, now(), NULL, 0)", row_id, thread_id, profile_id)
        assert status == "INSERT 0 1"
    finally:
        await pg.close()


async def test_a_membership_row_in_another_practices_thread_opens_nothing(
    http: httpx.AsyncClient, backend: Backend
) -> None:
    ours = await new_practice(http, "Our Clinic")
    theirs = await new_practice(http, "Their Clinic")
    await new_thread(http, ours, title="Ours")  # a window of our own to copy
    their_thread = await new_thread(http, theirs, title="Theirs")
    await say(http, theirs, their_thread, "Their practice only")
    await _membership_in_database(backend, their_thread, ours.id)

    # Every call that goes through the caller's open window: not found, nothing changes.
    read = await http.post(f"/threads/{their_thread}/read", json={"seq": 1},
                           headers=ours.headers)
    assert read.status_code == 404 and read.json()["code"] == "not_found"
    leave = await http.delete(f"/threads/{their_thread}/members/{ours.id}",
                              headers=ours.headers)
    assert leave.status_code == 404
    add = await http.post(f"/threads/{their_thread}/members", json={"user_id": ours.id},
                          headers=ours.headers)
    assert add.status_code == 404
    assert (await http.get(f"/threads/{their_thread}/events", headers=ours.headers)
            ).status_code == 404
    events = (await http.get(f"/threads/{their_thread}/events", headers=theirs.headers)
              ).json()["events"]
    assert [e["kind"] for e in events][-1] == "message"
