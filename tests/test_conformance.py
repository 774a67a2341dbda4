"""Inputs from tools nobody here wrote: every odd value gets a 4xx with a code, never a 500.

Found from outside (issue 11) with schemathesis, a Node.js client and hand-written probes;
each case below answered 500 (or did the wrong thing) on at least one engine before its fix.
"""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_URL, Backend, Server, _postgres_admin, server_env
from tests.forms_helpers import PHQ9, new_form
from tests.helpers import (
    PASSWORD,
    Person,
    add_client,
    invite_staff,
    login,
    new_practice,
    new_thread,
    say,
    team,
    unique_email,
)
from tests.mailbox import Mailbox
from tests.wsclient import Socket

BIG = 2**63  # one past the largest integer PostgreSQL's BIGINT (and SQLite) holds
DEEP = "[" * 1000 + "]" * 1000
VERY_DEEP = "[" * 50_000 + "]" * 50_000


def refused(resp: httpx.Response, code: str = "validation_error", status: int = 400) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["code"] == code, resp.text
    assert resp.json()["detail"]


# --- integers too large for the database ------------------------------------------------------


async def test_integers_too_large_for_the_database_are_refused_in_query_strings(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, provider, _ = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)
    form = await new_form(http, owner)
    h = owner.headers
    for value in (BIG, 10**30):
        refused(await http.get("/clients", params={"offset": value}, headers=h))
        refused(await http.get(f"/threads/{tid}/events", params={"after": value}, headers=h))
        refused(await http.get(f"/threads/{tid}/events", params={"before": value}, headers=h))
    for value in (2**31, BIG):  # a form's version is an INTEGER column
        refused(await http.get(f"/forms/{form['id']}", params={"version": value}, headers=h))
        refused(await http.get(f"/forms/{form['id']}/fhir", params={"version": value},
                               headers=h))
    # The largest values the columns hold are fine, and find nothing.
    resp = await http.get("/clients", params={"offset": BIG - 1}, headers=h)
    assert resp.status_code == 200 and resp.json()["clients"] == []
    resp = await http.get(f"/threads/{tid}/events", params={"after": BIG - 1}, headers=h)
    assert resp.status_code == 200 and resp.json()["events"] == []
    resp = await http.get(f"/threads/{tid}/events", params={"before": BIG - 1}, headers=h)
    assert resp.status_code == 200 and [e["seq"] for e in resp.json()["events"]] == [1]
    refused(await http.get(f"/forms/{form['id']}", params={"version": 2**31 - 1}, headers=h),
            "not_found", 404)


# --- NUL (U+0000) in text ---------------------------------------------------------------------


async def test_a_nul_character_is_refused_in_every_text_before_anything_changes(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, provider, _ = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)
    client = await add_client(http, provider, name="Casey Client")
    email = unique_email("nul")
    # Unauthenticated ones first.
    refused(await http.post("/organizations", json={
        "name": "Sun\x00rise", "owner": {"name": "O", "email": email, "password": PASSWORD}}))
    assert (await login(http, email)).json()["code"] == "invalid_credentials"
    refused(await http.post("/sessions", json={"email": "a\x00@b.co", "password": "x"}))
    refused(await http.post("/password/forgot", json={"email": "a\x00@b.co"}))
    refused(await http.get("/join/a%00b"))
    refused(await http.get("/invitations/a%00b"))
    # A NUL in an object's key is refused as well.
    refused(await http.post("/sessions", json={"email": "a@b.co", "password": "x", "\x00": 1}))
    h = provider.headers
    refused(await http.get("/clients", params={"search": "Ca\x00"}, headers=h))
    refused(await http.post(f"/threads/{tid}/messages",
                            json={"body": "hi\x00there", "client_id": "nul-1"}, headers=h))
    refused(await http.post("/threads", json={"member_ids": [owner.id], "title": "a\x00"},
                            headers=h))
    refused(await http.patch(f"/clients/{client['id']}", json={"name": "Ca\x00sey"},
                             headers=h))
    refused(await http.post("/forms", json={"title": "Intake", "items": [
        {"id": "q", "type": "short_text", "text": "Your\x00 goal"}]}, headers=owner.headers))
    refused(await http.post("/clients/import", params={"dry_run": "false"},
                            content=b"name,email\nNu\x00ll Person,\n",
                            headers={**h, "Content-Type": "text/csv"}))
    # Nothing changed.
    events = (await http.get(f"/threads/{tid}/events", headers=h)).json()["events"]
    assert [e["kind"] for e in events] == ["thread.created"]
    resp = await http.get(f"/clients/{client['id']}", headers=h)
    assert resp.json()["client"]["name"] == "Casey Client"
    clients = (await http.get("/clients", headers=h)).json()["clients"]
    assert [c["name"] for c in clients] == ["Casey Client"]
    # The six characters `\u0000` are ordinary text.
    event = await say(http, provider, tid, "type \\u0000 to mean NUL")
    assert event["body"] == "type \\u0000 to mean NUL"


async def test_a_nul_character_over_websocket_is_an_invalid_frame_and_the_socket_stays_open(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner, provider, _ = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)
    sock = await Socket.ready(server.ws_url, provider.token)
    await sock.send({"type": "send", "thread_id": tid, "client_id": "n1", "body": "a\x00b"})
    error = await sock.until(lambda f: f["type"] == "error")
    assert error["code"] == "invalid_frame" and error["client_id"] == "n1"
    await sock.send({"type": "ping"})
    await sock.until(lambda f: f["type"] == "pong")
    await sock.send({"type": "send", "thread_id": tid, "client_id": "n2", "body": "fine"})
    ack = await sock.until(lambda f: f["type"] == "ack")
    assert ack["event"]["seq"] == 2  # the refused frame stored nothing
    await sock.close()


# --- deep nesting -----------------------------------------------------------------------------


@pytest.mark.parametrize("deep", [DEEP, VERY_DEEP], ids=["1000", "50000"])
async def test_json_nested_very_deep_is_a_bad_request_everywhere(
    http: httpx.AsyncClient, deep: str
) -> None:
    owner = await new_practice(http)
    json_headers = {"Content-Type": "application/json"}
    for path, body, headers in [
        ("/organizations", deep, {}),
        ("/organizations", '{"name": "A", "extra": ' + deep + "}", {}),
        ("/sessions", '{"email": "a@b.co", "password": "x", "x": ' + deep + "}", {}),
        ("/password/forgot", '{"email": "a@b.co", "x": ' + deep + "}", {}),
        ("/forms/import-fhir", '{"resourceType": "Questionnaire", "item": ' + deep + "}",
         owner.headers),
    ]:
        resp = await http.post(path, content=body, headers={**json_headers, **headers})
        refused(resp)


async def test_a_deeply_nested_frame_is_an_invalid_frame_and_the_socket_stays_open(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    _owner, provider, _ = await team(http, mailbox)
    sock = await Socket.ready(server.ws_url, provider.token)
    await sock.send('{"type": "ping", "x": ' + DEEP + "}")
    error = await sock.until(lambda f: f["type"] == "error")
    assert error["code"] == "invalid_frame"
    await sock.send({"type": "ping"})
    await sock.until(lambda f: f["type"] == "pong")
    await sock.close()


# --- scores -----------------------------------------------------------------------------------


async def test_scores_are_bounded_so_a_total_always_fits(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    for items in [
        [{"id": "s", "type": "scale", "text": "How much?", "min": 0, "max": 2**70}],
        [{"id": "s", "type": "scale", "text": "How much?", "min": -(10**400), "max": 3}],
        [{"id": "c", "type": "multiple_choice", "text": "Which?",
          "options": [{"value": "a", "score": 1e308}, {"value": "b", "score": 1e308}]}],
        [{"id": "c", "type": "single_choice", "text": "Which?",
          "options": [{"value": "a", "score": 10**30}]}],
        [{"id": "n", "type": "number", "text": "Weight", "max": 10**400}],
    ]:
        resp = await http.post("/forms", json={"title": "Big", "items": items},
                               headers=owner.headers)
        refused(resp)
    # At the bounds, a client's submit scores and is stored.
    provider = await invite_staff(http, mailbox, owner)
    client_email = unique_email("client")
    client = await add_client(http, provider, email=client_email)
    mail = await mailbox.wait_for(client_email)
    resp = await http.post("/invitations/accept", json={"token": mail.token,
                                                        "password": PASSWORD})
    client_person = Person(resp.json()["user"], resp.json()["token"], client_email)
    form = await new_form(http, owner, "Bounds", [
        {"id": "s", "type": "scale", "text": "How much?", "min": -1_000_000, "max": 1_000_000},
        {"id": "c", "type": "multiple_choice", "text": "Which?",
         "options": [{"value": "a", "score": 1_000_000}, {"value": "b", "score": 1_000_000}]},
        {"id": "n", "type": "number", "text": "Weight"},
    ])
    resp = await http.post("/form-requests", json={"form_ids": [form["id"]],
                                                   "client_ids": [client["id"]]},
                           headers=provider.headers)
    assert resp.status_code == 201, resp.text
    request_id = resp.json()["requests"][0]["id"]
    # An answer beyond what a number question holds is out of range, not a 500.
    resp = await http.post(f"/form-requests/{request_id}/submit",
                           json={"answers": {"s": 1_000_000, "c": ["a", "b"], "n": 10**400}},
                           headers=client_person.headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["errors"] == [{"question": "n", "code": "out_of_range",
                                      "detail": resp.json()["errors"][0]["detail"]}]
    resp = await http.post(f"/form-requests/{request_id}/submit",
                           json={"answers": {"s": 1_000_000, "c": ["a", "b"], "n": 72.5}},
                           headers=client_person.headers)
    assert resp.status_code == 200, resp.text
    resp = await http.get(f"/form-requests/{request_id}", headers=provider.headers)
    assert resp.json()["request"]["score"] == 3_000_000


# --- contract: strict types -------------------------------------------------------------------


async def test_wrong_types_are_refused_not_coerced(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, provider, _ = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)
    await say(http, owner, tid, "one")
    refused(await http.post(f"/threads/{tid}/read", json={"seq": "2"}, headers=provider.headers))
    refused(await http.post(f"/threads/{tid}/read", json={"seq": 2.0},
                            headers=provider.headers))
    threads = (await http.get("/threads", headers=provider.headers)).json()["threads"]
    assert threads[0]["unread"] == 1  # nothing was marked read
    email = unique_email("strict")
    refused(await http.post("/clients", json={"name": "Sam", "email": email,
                                              "send_invite": "false"},
                            headers=provider.headers))
    clients = (await http.get("/clients", params={"search": email},
                              headers=provider.headers)).json()["clients"]
    assert clients == []
    resp = await http.post(f"/threads/{tid}/read", json={"seq": 2}, headers=provider.headers)
    assert resp.status_code == 200 and resp.json()["last_read_seq"] == 2


async def test_a_due_time_without_an_offset_is_refused(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, provider, _ = await team(http, mailbox)
    client = await add_client(http, provider, send_invite=False)
    form = await new_form(http, owner)
    for due_at in ("2026-12-04T17:00:00", "2026-12-04"):
        refused(await http.post("/form-requests", json={
            "form_ids": [form["id"]], "client_ids": [client["id"]], "due_at": due_at},
            headers=provider.headers))
    resp = await http.get("/form-requests", params={"client_id": client["id"]},
                          headers=provider.headers)
    assert resp.json()["requests"] == []
    resp = await http.post("/form-requests", json={
        "form_ids": [form["id"]], "client_ids": [client["id"]],
        "due_at": "2026-12-04T17:00:00+01:00"}, headers=provider.headers)
    assert resp.status_code == 201, resp.text
    assert resp.json()["requests"][0]["due_at"].startswith("2026-12-04T16:00:00")


# --- contract: client search is a literal substring -------------------------------------------


async def test_client_search_is_a_literal_substring_match(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    _owner, provider, _ = await team(http, mailbox)
    tag = uuid.uuid4().hex[:8]
    underscored = await add_client(http, provider, name="Dana Underscore",
                                   email=f"first_last.{tag}@example.com", send_invite=False)
    await add_client(http, provider, name="Eli Other", email=f"firstxlast.{tag}@example.com",
                     send_invite=False)
    percent = await add_client(http, provider, name="100% Percy", send_invite=False)
    await add_client(http, provider, name="Back\\slash Bo", send_invite=False)

    async def names(search: str) -> set[str]:
        resp = await http.get("/clients", params={"search": search}, headers=provider.headers)
        assert resp.status_code == 200, resp.text
        return {c["name"] for c in resp.json()["clients"]}

    assert await names("first_last") == {underscored["name"]}
    assert await names("_") == {underscored["name"]}
    assert await names("%") == {percent["name"]}
    assert await names("0% p") == {percent["name"]}
    assert await names("\\") == {"Back\\slash Bo"}
    assert await names("FIRST") == {underscored["name"], "Eli Other"}


# --- contract: a removed member's fresh socket ------------------------------------------------


async def test_a_removed_members_fresh_socket_gets_its_window_up_to_the_removal_then_not_found(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    """Decided (docs/api.md §6): a `sync` cursor below your removal replays the rest of your
    window up to and including the `member.removed` (an offline device learns of it in
    order); at or after it, the thread is `not_found`."""
    owner, provider, _ = await team(http, mailbox)
    tid = await new_thread(http, owner, provider)
    await say(http, owner, tid, "before")  # seq 2, seen by the provider's phone
    await say(http, owner, tid, "missed while offline")  # seq 3
    removal = (await http.delete(f"/threads/{tid}/members/{provider.id}",
                                 headers=owner.headers)).json()["event"]
    await say(http, owner, tid, "after the removal")
    sock = await Socket.ready(server.ws_url, provider.token)
    await sock.send({"type": "sync", "cursors": {tid: 2}})
    await sock.until(lambda f: f["type"] == "synced")
    assert sock.seqs(tid) == [3, removal["seq"]]
    assert "after the removal" not in json.dumps(sock.frames)
    await sock.close()

    sock = await Socket.ready(server.ws_url, provider.token)
    await sock.send({"type": "sync", "cursors": {tid: removal["seq"]}})
    error = await sock.until(lambda f: f["type"] == "error")
    assert error["code"] == "not_found" and error["thread_id"] == tid
    await sock.until(lambda f: f["type"] == "synced")
    assert sock.seqs(tid) == []
    await sock.close()


# --- FHIR with a byte-order mark --------------------------------------------------------------


async def test_a_fhir_file_that_starts_with_a_byte_order_mark_is_imported(
    http: httpx.AsyncClient,
) -> None:
    owner = await new_practice(http)
    body = codecs.BOM_UTF8 + json.dumps(PHQ9).encode()
    resp = await http.post("/forms/import-fhir", content=body,
                           headers={**owner.headers, "Content-Type": "application/json"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["form"]["title"] == PHQ9["title"]


# --- the two rules no test caught -------------------------------------------------------------


async def test_a_new_primary_provider_leaves_the_rest_of_the_care_team(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, primary, _ = await team(http, mailbox)
    dietitian = await invite_staff(http, mailbox, owner, name="Dee Dietitian")
    client = await add_client(http, primary, care_team_ids=[dietitian.id], send_invite=False)
    assert [m["id"] for m in client["care_team"]] == [dietitian.id]
    # The dietitian becomes primary; the care team is left as it was (not in the body).
    resp = await http.patch(f"/clients/{client['id']}",
                            json={"primary_provider_id": dietitian.id}, headers=owner.headers)
    assert resp.status_code == 200, resp.text
    changed = resp.json()["client"]
    assert changed["primary_provider"]["id"] == dietitian.id
    assert changed["care_team"] == []
    # And named in both places at once, they are the primary provider only.
    resp = await http.patch(f"/clients/{client['id']}",
                            json={"primary_provider_id": primary.id,
                                  "care_team_ids": [primary.id, dietitian.id]},
                            headers=owner.headers)
    assert resp.status_code == 200, resp.text
    assert [m["id"] for m in resp.json()["client"]["care_team"]] == [dietitian.id]


async def _run_sql(server: Server, sql_sqlite: str, sql_postgres: str, *args: str) -> None:
    """Write straight to the server's database, as a bug elsewhere might."""
    url = server.env["DATABASE_URL"]
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(sql_sqlite, args)
        return
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql_postgres, *args)
    finally:
        await conn.close()


async def test_a_membership_row_in_another_practices_thread_opens_nothing(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    """Defence in depth: even a membership row a bug wrote across practices gives no access."""
    owner_a, _, _ = await team(http, mailbox)
    owner_b, provider_b, _ = await team(http, mailbox)
    tid = await new_thread(http, owner_b, provider_b)
    await say(http, owner_b, tid, "practice B only")
    await _run_sql(
        server,
        "INSERT INTO thread_member (id, thread, profile, role, joined_seq, left_seq, joined_at,"
        " left_at, last_read_seq) SELECT ?, thread, ?, role, joined_seq, NULL, joined_at, NULL,"
        " 0 FROM thread_member WHERE thread = ? LIMIT 1",
        "INSERT INTO thread_member (id, thread, profile, role, joined_seq, left_seq, joined_at,"
        " left_at, last_read_seq) SELECT $1::uuid, thread, $2::uuid, role, joined_seq, NULL,"
        " joined_at, NULL, 0 FROM thread_member WHERE thread = $3::uuid LIMIT 1",
        str(uuid.uuid4()), owner_a.id, tid,
    )
    h = owner_a.headers
    refused(await http.post(f"/threads/{tid}/messages",
                            json={"body": "hello B", "client_id": "x"}, headers=h),
            "not_found", 404)
    refused(await http.post(f"/threads/{tid}/read", json={"seq": 1}, headers=h),
            "not_found", 404)
    refused(await http.post(f"/threads/{tid}/members", json={"user_id": owner_a.id},
                            headers=h), "not_found", 404)
    refused(await http.delete(f"/threads/{tid}/members/{provider_b.id}", headers=h),
            "not_found", 404)
    refused(await http.get(f"/threads/{tid}/events", headers=h), "not_found", 404)
    refused(await http.get(f"/threads/{tid}", headers=h), "not_found", 404)
    assert tid not in {t["id"] for t in (await http.get("/threads", headers=h)).json()["threads"]}
    sock = await Socket.ready(server.ws_url, owner_a.token)
    await sock.send({"type": "sync", "cursors": {tid: 0}})
    error = await sock.until(lambda f: f["type"] == "error")
    assert error["code"] == "not_found" and error["thread_id"] == tid
    await sock.until(lambda f: f["type"] == "synced")
    assert sock.seqs(tid) == []
    await sock.close()
    events = (await http.get(f"/threads/{tid}/events", headers=owner_b.headers)).json()
    assert [e["kind"] for e in events["events"]] == ["thread.created", "message"]


# --- several processes migrating a fresh database at once -------------------------------------


@pytest.fixture
def fresh_database(backend: Backend, tmp_path: Path) -> Iterator[dict[str, str]]:
    """An empty database of the backend's engine, no migration run yet."""
    env = {k: v for k, v in backend.env.items() if k != "DATABASE_URL"}
    if backend.name == "sqlite":
        yield {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
        return
    name = f"carethread_fresh_{uuid.uuid4().hex[:12]}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield {**env, "DATABASE_URL": POSTGRES_URL.rsplit("/", 1)[0] + "/" + name}
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_several_servers_started_at_once_on_a_fresh_database_all_come_up(
    backend: Backend, mailbox: Mailbox, fresh_database: dict[str, str], tmp_path: Path
) -> None:
    servers = [Server(Backend(backend.name, fresh_database, tmp_path),
                      server_env(backend, mailbox, **fresh_database)) for _ in range(3)]
    procs = []
    for srv in servers:  # all at once: each migrates before it listens
        srv.log_path = tmp_path / f"server-{srv.port}.log"
        with open(srv.log_path, "ab") as log:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "server", "serve", "--port", str(srv.port)],
                cwd=tmp_path, env={**os.environ, **srv.env}, stdout=log,
                stderr=subprocess.STDOUT))
        srv.proc = procs[-1]
    try:
        deadline = time.monotonic() + 90  # a loaded machine (conftest.Server waits as long)
        waiting = list(servers)
        while waiting and time.monotonic() < deadline:
            for srv in list(waiting):
                assert srv.proc is not None
                assert srv.proc.poll() is None, f"a server died:\n{srv.log_tail()}"
                try:
                    if httpx.get(srv.url + "/health", timeout=1).status_code == 200:
                        waiting.remove(srv)
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        assert not waiting, "\n".join(s.log_tail() for s in waiting)
        # And the database is whole: a practice can sign up through any of them.
        for srv in servers:
            resp = httpx.post(srv.url + "/api/v1/organizations", json={
                "name": "Fresh", "owner": {"name": "O", "email": unique_email("fresh"),
                                           "password": PASSWORD}}, timeout=30)
            assert resp.status_code == 201, resp.text
    finally:
        for srv in servers:
            srv.stop()
