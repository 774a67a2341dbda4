"""People's photos: a person uploads a photo (POST /files) and makes it their avatar; it becomes
a square, shown wherever their name is (chats, the team, the client list) to whoever may see
them, and goes back to initials when removed. Nobody else sees it; a PDF is no photo."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx

from tests.files_helpers import pdf_bytes, photo_with_location, png_image, stored_blobs, uploaded
from tests.helpers import (
    Person,
    accept,
    add_client,
    invite_staff,
    new_practice,
    new_thread,
)
from tests.mailbox import Mailbox

UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def _client(http: httpx.AsyncClient, mailbox: Mailbox, provider: Person,
                  name: str) -> tuple[Person, dict[str, Any]]:
    email = f"client-{uuid.uuid4().hex[:8]}@example.org"
    client = await add_client(http, provider, name=name, email=email)
    return await accept(http, (await mailbox.wait_for(email)).token), client


async def _make_avatar(http: httpx.AsyncClient, person: Person, data: bytes,
                       name: str = "me.jpg") -> dict[str, Any]:
    photo = await uploaded(http, person, name, data)
    resp = await http.put("/me/avatar", json={"file_id": photo["id"]}, headers=person.headers)
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["user"])


def _path(url: str) -> str:
    """The avatar's address relative to /api/v1, as the test client asks."""
    assert url.startswith("/api/v1/")
    return url[len("/api/v1"):]


async def test_a_provider_s_photo_is_a_square_without_location_seen_across_the_practice(
    http: httpx.AsyncClient, mailbox: Mailbox,
) -> None:
    from PIL import Image

    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner, name="Pat Provider")
    robin, client = await _client(http, mailbox, provider, "Robin Client")
    user = await _make_avatar(http, provider, photo_with_location(900, 600))
    url = user["avatar_url"]
    assert url and url.startswith(f"/api/v1/users/{provider.id}/avatar?v=")

    # Everyone of the practice sees the provider's photo: the owner, and their client.
    for viewer in (provider, owner, robin):
        resp = await http.get(_path(url), headers=viewer.headers)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"] == "image/jpeg"
        assert resp.headers["x-content-type-options"] == "nosniff"
        with Image.open(io.BytesIO(resp.content)) as img:
            assert img.size == (256, 256)
            assert not img.getexif()  # no camera, no GPS position
    etag = (await http.get(_path(url), headers=robin.headers)).headers["etag"]
    cached = await http.get(_path(url), headers={**robin.headers, "If-None-Match": etag})
    assert cached.status_code == 304

    # Where the provider's name is, the photo's address is too.
    me = (await http.get("/me", headers=provider.headers)).json()["user"]
    assert me["avatar_url"] == url
    team = (await http.get("/team", headers=owner.headers)).json()["users"]
    listed = {u["id"]: u for u in team}
    assert listed[provider.id]["avatar_url"] == url
    care = client["care_thread_id"]
    thread = (await http.get(f"/threads/{care}", headers=robin.headers)).json()["thread"]
    assert {m["id"]: m["avatar_url"] for m in thread["members"]}[provider.id] == url
    assert thread["people"][provider.id]["avatar_url"] == url
    threads = (await http.get("/threads", headers=robin.headers)).json()["threads"]
    [care_view] = [t for t in threads if t["id"] == care]
    assert {m["id"]: m["avatar_url"] for m in care_view["members"]}[provider.id] == url
    # The upload is used up: the photo is the square alone.
    assert (await http.get(f"/files/{user['id']}", headers=provider.headers)).status_code == 404


async def test_a_client_s_photo_is_seen_by_the_team_and_their_threads_not_by_other_clients(
    http: httpx.AsyncClient, mailbox: Mailbox,
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    robin, client = await _client(http, mailbox, provider, "Robin Client")
    kim, _ = await _client(http, mailbox, provider, "Kim Client")
    sam, _ = await _client(http, mailbox, provider, "Sam Client")
    user = await _make_avatar(http, robin, png_image(300, 200), "me.png")
    path = _path(user["avatar_url"])
    # The team sees it, in the client list too.
    listed = (await http.get("/clients", headers=provider.headers)).json()["clients"]
    assert {c["id"]: c["avatar_url"] for c in listed}[client["id"]] == user["avatar_url"]
    for viewer in (robin, provider, owner):
        assert (await http.get(path, headers=viewer.headers)).status_code == 200
    # Another client of the practice sees it only once they share a thread with Robin.
    assert (await http.get(path, headers=kim.headers)).status_code == 404
    await new_thread(http, provider, robin, kim, title="Walking group")
    assert (await http.get(path, headers=kim.headers)).status_code == 200
    assert (await http.get(path, headers=sam.headers)).status_code == 404


async def test_photos_go_back_to_initials_and_admins_may_remove_anyone_s(
    http: httpx.AsyncClient, mailbox: Mailbox, backend: Any,
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    other = await invite_staff(http, mailbox, owner, name="Other Provider")
    robin, _ = await _client(http, mailbox, provider, "Robin Client")
    first = await _make_avatar(http, provider, photo_with_location(400, 400, (10, 20, 200)))
    second = await _make_avatar(http, provider, photo_with_location(500, 300, (200, 20, 10)))
    assert first["avatar_url"] != second["avatar_url"]
    # The older address now answers the new photo (the version only busts caches).
    resp = await http.get(_path(first["avatar_url"]), headers=owner.headers)
    assert resp.status_code == 200
    # Removing one's own photo: initials again, and the image is gone.
    blobs_before = stored_blobs(backend)
    resp = await http.delete("/me/avatar", headers=provider.headers)
    assert resp.status_code == 204, resp.text
    me = (await http.get("/me", headers=provider.headers)).json()["user"]
    assert me["avatar_url"] is None
    assert (await http.get(_path(second["avatar_url"]), headers=owner.headers)).status_code == 404
    assert len(stored_blobs(backend)) == len(blobs_before) - 1
    assert (await http.delete("/me/avatar", headers=provider.headers)).status_code == 204

    # An owner removes someone else's photo; a colleague or a client may not.
    photo = await _make_avatar(http, robin, png_image(64, 64), "r.png")
    path = f"/users/{robin.id}/avatar"
    assert (await http.delete(path, headers=other.headers)).status_code == 403
    assert (await http.delete(f"/users/{provider.id}/avatar",
                              headers=robin.headers)).status_code == 403
    assert (await http.get(_path(photo["avatar_url"]), headers=other.headers)).status_code == 200
    assert (await http.delete(path, headers=owner.headers)).status_code == 204
    assert (await http.get(_path(photo["avatar_url"]), headers=other.headers)).status_code == 404


async def test_strangers_other_practices_and_wrong_files_get_nothing(
    http: httpx.AsyncClient, mailbox: Mailbox,
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    user = await _make_avatar(http, provider, photo_with_location())
    path = _path(user["avatar_url"])
    elsewhere = await new_practice(http, "Elsewhere Clinic")
    other_client, _ = await _client(http, mailbox, elsewhere, "Far Client")

    # No login: 401. Another practice: 404, as for someone without a photo.
    assert (await http.get(path)).status_code == 401
    assert (await http.put("/me/avatar", json={"file_id": UNKNOWN})).status_code == 401
    for stranger in (elsewhere, other_client):
        resp = await http.get(path, headers=stranger.headers)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
        resp = await http.delete(f"/users/{provider.id}/avatar", headers=stranger.headers)
        assert resp.status_code == 404
    for bad in ("not-a-uuid", UNKNOWN, owner.id):  # owner.id: a person without a photo
        resp = await http.get(f"/users/{bad}/avatar", headers=provider.headers)
        assert resp.status_code == 404, bad

    # A PDF is no photo (415); someone else's upload, or an unknown one, is not found (404);
    # malformed bodies are 400. Nothing changes.
    pdf = await uploaded(http, provider, "labs.pdf", pdf_bytes())
    resp = await http.put("/me/avatar", json={"file_id": pdf["id"]}, headers=provider.headers)
    assert resp.status_code == 415 and resp.json()["code"] == "unsupported_media_type"
    theirs = await uploaded(http, elsewhere, "me.jpg", photo_with_location())
    mine_elsewhere = await uploaded(http, owner, "owner.jpg", photo_with_location())
    for file_id in (theirs["id"], mine_elsewhere["id"], UNKNOWN):
        resp = await http.put("/me/avatar", json={"file_id": file_id},
                              headers=provider.headers)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found", resp.text
    bodies: list[Any] = [{}, {"file_id": "x"}, {"file_id": 3}, [], {"file_id": None}]
    for body in bodies:
        resp = await http.put("/me/avatar", json=body, headers=provider.headers)
        assert resp.status_code == 400 and resp.json()["code"] == "validation_error", body
    resp = await http.put("/me/avatar", content=b"{", headers={
        **provider.headers, "Content-Type": "application/json"})
    assert resp.status_code == 400
    me = (await http.get("/me", headers=provider.headers)).json()["user"]
    assert me["avatar_url"] == user["avatar_url"]
    # A photo used for an avatar cannot be used twice.
    photo = await uploaded(http, provider, "again.jpg", photo_with_location())
    assert (await http.put("/me/avatar", json={"file_id": photo["id"]},
                           headers=provider.headers)).status_code == 200
    assert (await http.put("/me/avatar", json={"file_id": photo["id"]},
                           headers=provider.headers)).status_code == 404
