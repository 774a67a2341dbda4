"""Files in the chat: uploads typed from their bytes, stripped of location, limited in size and
per practice, readable only by those who can see what holds them, attached to messages over
HTTP and WebSocket, and removed when never attached."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Backend, Server, app_client
from tests.files_helpers import (
    GPS_IFD,
    LINUX_ELF,
    MAKE,
    WINDOWS_EXE,
    files_dir,
    pdf_bytes,
    photo_with_location,
    png_image,
    staging_leftovers,
    stored_blobs,
    upload,
    uploaded,
)
from tests.helpers import Person, accept, add_client, invite_staff, new_practice, new_thread
from tests.mailbox import Mailbox
from tests.wsclient import Socket

UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def _client_of(http: httpx.AsyncClient, mailbox: Mailbox, provider: Person,
                     name: str = "Robin Client") -> tuple[Person, dict[str, Any]]:
    email = f"client-{uuid.uuid4().hex[:8]}@example.org"
    client = await add_client(http, provider, name=name, email=email)
    person = await accept(http, (await mailbox.wait_for(email)).token)
    return person, client


async def _send(http: httpx.AsyncClient, person: Person, thread_id: str, body: str,
                attachments: list[str]) -> httpx.Response:
    return await http.post(f"/threads/{thread_id}/messages",
                           json={"body": body, "client_id": uuid.uuid4().hex,
                                 "attachments": attachments}, headers=person.headers)


async def test_a_photo_is_typed_from_its_bytes_stripped_of_location_and_has_a_thumbnail(
    http: httpx.AsyncClient,
) -> None:
    from PIL import Image

    owner = await new_practice(http)
    original = photo_with_location()
    assert GPS_IFD in Image.open(io.BytesIO(original)).getexif()
    # The name and the header say "document"; the bytes say JPEG, and the bytes decide.
    file = await uploaded(http, owner, "breakfast.dat", original, "application/pdf")
    assert file["content_type"] == "image/jpeg" and file["name"] == "breakfast.dat"
    assert (file["width"], file["height"]) == (640, 480) and file["thumbnail"] is True
    resp = await http.get(f"/files/{file['id']}", headers=owner.headers)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "image/jpeg"
    assert resp.headers["content-disposition"].startswith("attachment;")
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert int(resp.headers["content-length"]) == file["size"] == len(resp.content)
    served = Image.open(io.BytesIO(resp.content))
    exif = served.getexif()
    assert GPS_IFD not in exif and exif.get(MAKE) == "PhoneCam"  # location gone, rest kept
    # The picture itself is byte for byte the same: everything from the image data on.
    scan = original.index(b"\xff\xda")
    assert resp.content.endswith(original[scan:])
    thumb = await http.get(f"/files/{file['id']}/thumbnail", headers=owner.headers)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    small = Image.open(io.BytesIO(thumb.content))
    assert max(small.size) <= 480 and GPS_IFD not in small.getexif()
    # The browser's copy is revalidated by its ETag.
    again = await http.get(f"/files/{file['id']}", headers={
        **owner.headers, "If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304


async def test_the_same_bytes_are_stored_once(http: httpx.AsyncClient, backend: Backend) -> None:
    owner = await new_practice(http)
    data = pdf_bytes(f"same {uuid.uuid4()}")
    before = stored_blobs(backend)
    first = await uploaded(http, owner, "a.pdf", data)
    second = await uploaded(http, owner, "b.pdf", data)
    assert first["id"] != second["id"] and first["content_type"] == "application/pdf"
    assert len(stored_blobs(backend) - before) == 1
    for f in (first, second):
        got = await http.get(f"/files/{f['id']}", headers=owner.headers)
        assert got.content == data
        assert f"filename=\"{'a' if f is first else 'b'}.pdf\"" in got.headers[
            "content-disposition"]


@pytest.mark.parametrize("name,data", [
    ("holiday.png", WINDOWS_EXE),
    ("scan.jpg", LINUX_ELF),
    ("notes.png", b"#!/bin/sh\nrm -rf ~\n"),
    ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),  # a PNG signature, no picture
    ("archive.pdf", b"PK\x03\x04" + b"\x00" * 200),  # a zip is not on the list
], ids=["exe-as-png", "elf-as-jpg", "script-as-png", "fake-png", "zip-as-pdf"])
async def test_a_disguised_type_is_refused_and_nothing_is_stored(
    http: httpx.AsyncClient, backend: Backend, name: str, data: bytes,
) -> None:
    owner = await new_practice(http)
    before = stored_blobs(backend)
    resp = await upload(http, owner, name, data, "image/png")
    assert resp.status_code == 415, resp.text
    assert resp.json()["code"] == "unsupported_media_type"
    assert stored_blobs(backend) == before and staging_leftovers(backend) == []


async def test_an_oversize_upload_is_refused_and_nothing_is_stored(
    http: httpx.AsyncClient, backend: Backend, start_server: Any,
) -> None:
    owner = await new_practice(http)
    before = stored_blobs(backend)
    # The default limit is 25 MiB.
    big = b"a" * (25 * 1024 * 1024 + 1)
    resp = await upload(http, owner, "huge.txt", big, "text/plain")
    assert resp.status_code == 413 and resp.json()["code"] == "payload_too_large"
    small_limit: Server = start_server(MAX_UPLOAD_BYTES="100000")
    async with app_client(small_limit.url) as other:
        # Just over the limit: the request fits the route's allowance, the file does not.
        resp = await upload(other, owner, "notes.txt", b"b" * 100_001, "text/plain")
        assert resp.status_code == 413 and resp.json()["code"] == "payload_too_large"
        ok = await upload(other, owner, "notes.txt", b"c" * 100_000, "text/plain")
        assert ok.status_code == 201
    assert len(stored_blobs(backend) - before) == 1 and staging_leftovers(backend) == []


async def test_a_practice_cannot_store_more_than_its_quota(
    http: httpx.AsyncClient, start_server: Any,
) -> None:
    srv: Server = start_server(PRACTICE_QUOTA_BYTES="5000")
    async with app_client(srv.url) as quota_http:
        owner = await new_practice(quota_http)
        other = await new_practice(quota_http, "Other Practice")
        await uploaded(quota_http, owner, "one.txt", b"1" * 3000)
        resp = await upload(quota_http, owner, "two.txt", b"2" * 3000)
        assert resp.status_code == 413 and resp.json()["code"] == "quota_exceeded"
        await uploaded(quota_http, owner, "three.txt", b"3" * 2000)  # exactly up to it
        await uploaded(quota_http, other, "mine.txt", b"4" * 3000)  # each practice its own


async def test_a_message_carries_files_that_only_its_readers_can_download(
    http: httpx.AsyncClient, mailbox: Mailbox,
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    robin, client = await _client_of(http, mailbox, provider)
    colleague = await invite_staff(http, mailbox, owner, role="staff", name="Sam Staff")
    stranger = await new_practice(http, "Elsewhere")
    tid = client["care_thread_id"]
    plan = await uploaded(http, provider, "meal-plan.pdf", pdf_bytes("meal plan"))
    photo = await uploaded(http, provider, "plate.jpg", photo_with_location())
    # Before it is attached, only the uploader can read it.
    assert (await http.get(f"/files/{plan['id']}", headers=robin.headers)).status_code == 404
    resp = await _send(http, provider, tid, "", [plan["id"], photo["id"]])
    assert resp.status_code == 201, resp.text
    event = resp.json()["event"]
    assert event["body"] == ""
    assert [(a["id"], a["name"], a["content_type"], a["size"])
            for a in event["data"]["attachments"]] == [
        (plan["id"], "meal-plan.pdf", "application/pdf", plan["size"]),
        (photo["id"], "plate.jpg", "image/jpeg", photo["size"])]
    got = await http.get(f"/files/{plan['id']}", headers=robin.headers)
    assert got.status_code == 200 and got.content == pdf_bytes("meal plan")
    assert (await http.get(f"/files/{photo['id']}/thumbnail",
                           headers=robin.headers)).status_code == 200
    # Not a member of the care thread, another practice, no one at all: 404 alike.
    for outsider in (colleague, stranger):
        for path in (f"/files/{plan['id']}", f"/files/{photo['id']}/thumbnail"):
            assert (await http.get(path, headers=outsider.headers)).status_code == 404
    assert (await http.get(f"/files/{plan['id']}")).status_code == 401
    assert (await http.get(f"/files/{UNKNOWN}", headers=robin.headers)).status_code == 404
    assert (await http.get("/files/not-an-id", headers=robin.headers)).status_code == 404
    # The history shows the files as they were sent.
    history = (await http.get(f"/threads/{tid}/events", headers=robin.headers)).json()
    shown = next(e for e in history["events"] if e["id"] == event["id"])
    assert shown["data"]["attachments"] == event["data"]["attachments"]


async def test_attachments_that_are_not_the_senders_own_send_nothing(
    http: httpx.AsyncClient, mailbox: Mailbox,
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    tid = await new_thread(http, owner, provider)
    stranger = await new_practice(http, "Elsewhere")
    theirs = await uploaded(http, stranger, "theirs.pdf", pdf_bytes("theirs"))
    colleagues = await uploaded(http, provider, "colleague.pdf", pdf_bytes("colleague"))
    mine = await uploaded(http, owner, "mine.pdf", pdf_bytes("mine"))
    last_seq = (await http.get(f"/threads/{tid}", headers=owner.headers)).json()["thread"][
        "last_seq"]
    for attachments in ([theirs["id"]], [colleagues["id"]], [mine["id"], theirs["id"]],
                        [UNKNOWN]):
        resp = await _send(http, owner, tid, "see attached", attachments)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found", resp.text
    for bad in (["not-an-id"], "x", [1]):
        resp = await http.post(f"/threads/{tid}/messages", json={
            "body": "x", "client_id": "c1", "attachments": bad}, headers=owner.headers)
        assert resp.status_code == 400 and resp.json()["code"] == "validation_error"
    resp = await _send(http, owner, tid, "   ", [])
    assert resp.status_code == 400  # no text and no files
    thread = (await http.get(f"/threads/{tid}", headers=owner.headers)).json()["thread"]
    assert thread["last_seq"] == last_seq  # no message
    # Mine was not claimed by the failed sends: it can still go, once.
    assert (await _send(http, owner, tid, "now", [mine["id"]])).status_code == 201
    again = await _send(http, owner, tid, "again", [mine["id"]])
    assert again.status_code == 404


async def test_a_retried_send_with_files_is_one_message(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    tid = await new_thread(http, owner)
    file = await uploaded(http, owner, "a.txt", b"hello")
    body = {"body": "", "client_id": "retry-1", "attachments": [file["id"]]}
    first = await http.post(f"/threads/{tid}/messages", json=body, headers=owner.headers)
    second = await http.post(f"/threads/{tid}/messages", json=body, headers=owner.headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["event"]["id"] == second.json()["event"]["id"]


async def test_files_go_over_the_socket_too(http: httpx.AsyncClient, server: Server,
                                            mailbox: Mailbox) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    tid = await new_thread(http, owner, provider)
    file = await uploaded(http, owner, "scan.png", png_image())
    listener = await Socket.ready(server.ws_url, provider.token)
    sender = await Socket.ready(server.ws_url, owner.token)
    try:
        await sender.send({"type": "send", "thread_id": tid, "client_id": "ws-1", "body": "",
                           "attachments": [file["id"]]})
        ack = await sender.until(lambda f: f["type"] in ("ack", "error"))
        assert ack["type"] == "ack", ack
        assert ack["event"]["data"]["attachments"][0]["id"] == file["id"]
        heard = await listener.until(lambda f: f["type"] == "event"
                                     and f["event"]["id"] == ack["event"]["id"])
        assert heard["event"]["data"]["attachments"][0]["content_type"] == "image/png"
        await sender.send({"type": "send", "thread_id": tid, "client_id": "ws-2", "body": "x",
                           "attachments": [UNKNOWN]})
        error = await sender.until(lambda f: f["type"] == "error")
        assert error["code"] == "not_found" and error["client_id"] == "ws-2"
    finally:
        await listener.conn.close()
        await sender.conn.close()
    got = await http.get(f"/files/{file['id']}", headers=provider.headers)
    assert got.status_code == 200


async def test_uploads_never_attached_are_removed_after_a_day(
    http: httpx.AsyncClient, backend: Backend, start_server: Any, tmp_path: Path,
) -> None:
    clock = tmp_path / "clock"
    clock.write_text("0")
    srv: Server = start_server(CLOCK_OFFSET_FILE=str(clock), FILE_CLEANUP_POLL_SECONDS="0.2")
    async with app_client(srv.url) as client:
        owner = await new_practice(client)
        tid = await new_thread(client, owner)
        kept = await uploaded(client, owner, "kept.txt", f"kept {uuid.uuid4()}".encode())
        dropped_bytes = f"dropped {uuid.uuid4()}".encode()
        dropped = await uploaded(client, owner, "dropped.txt", dropped_bytes)
        twin = await uploaded(client, owner, "twin.txt", dropped_bytes)  # same bytes
        await _send(client, owner, tid, "", [kept["id"], twin["id"]])
        clock.write_text(str(23 * 3600))
        await asyncio.sleep(1.0)
        assert (await client.get(f"/files/{dropped['id']}", headers=owner.headers)
                ).status_code == 200  # not a day yet
        clock.write_text(str(25 * 3600))
        for _ in range(50):
            if (await client.get(f"/files/{dropped['id']}", headers=owner.headers)
                    ).status_code == 404:
                break
            await asyncio.sleep(0.2)
        assert (await client.get(f"/files/{dropped['id']}", headers=owner.headers)
                ).status_code == 404
        # The attached twin still has its bytes: the blob is shared, so it stays.
        for f in (kept, twin):
            assert (await client.get(f"/files/{f['id']}", headers=owner.headers)
                    ).status_code == 200
        assert hashlib.sha256(dropped_bytes).hexdigest() in stored_blobs(backend)
        # A lone unattached upload loses its bytes too.
        lone_bytes = f"lone {uuid.uuid4()}".encode()
        lone = await uploaded(client, owner, "lone.txt", lone_bytes)
        assert hashlib.sha256(lone_bytes).hexdigest() in stored_blobs(backend)
        clock.write_text(str(50 * 3600))
        for _ in range(50):
            if hashlib.sha256(lone_bytes).hexdigest() not in stored_blobs(backend):
                break
            await asyncio.sleep(0.2)
        assert hashlib.sha256(lone_bytes).hexdigest() not in stored_blobs(backend)
        assert (await client.get(f"/files/{lone['id']}", headers=owner.headers)
                ).status_code == 404


async def test_uploads_answer_clearly_to_bad_requests(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    resp = await http.post("/files", files={"other": ("a.txt", b"x", "text/plain")},
                           headers=owner.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "validation_error"
    resp = await http.post("/files", json={"file": "x"}, headers=owner.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "validation_error"
    resp = await http.post("/files", content=b"--nope\r\n", headers={
        **owner.headers, "Content-Type": "multipart/form-data; boundary=nope"})
    assert resp.status_code == 400
    resp = await http.post("/files", files={"file": ("a.txt", b"x", "text/plain")})
    assert resp.status_code == 401
    assert files_dir
