"""People's photos (avatars): made from an image the person uploaded (POST /files), shown
wherever their name is (chats, thread lists, the team, the client list).

The photo is a square JPEG of AVATAR_PIXELS, cut from the middle of the upload's thumbnail
(which already has the EXIF orientation applied and no metadata: no location, no camera); the
upload itself is then removed, so only the square stays, as a blob in file storage named by
its SHA-256 (`profile.avatar`). Who may see it follows who may see the person: everyone of
the practice sees the team's; a client's is seen by the client, the practice's team, and
whoever shares a thread with them. Anyone else (another practice included) gets 404, as for a
person without a photo. A person sets and removes their own photo; owners and admins may
remove anyone's of their practice.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import anyio

from server.accounts import service as accounts
from server.accounts.tables import Account, Profile
from server.db import write_transaction
from server.errors import Forbidden, NotFound
from server.files import content, storage
from server.files.service import (
    Download,
    UnsupportedMediaType,
    _add_ref,
    _drop_ref,
    _remove_row,
    _staging_dir,
    parse_file_id,
)
from server.files.tables import FileBlob, StoredFile
from server.identity import Identity
from server.settings import Settings
from server.threads import service as threads

log = logging.getLogger("carethread.files")

AVATAR_PIXELS = 256
MAX_SOURCE_BYTES = 8 * 1024 * 1024  # a thumbnail is far smaller; a bound all the same


def _square(source: bytes) -> bytes:
    """The middle square of an image, AVATAR_PIXELS wide, as a JPEG without metadata
    (transparency on white). Worker thread."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(source)) as img:
        img.seek(0)  # the first frame of an animation
        shown = img.convert("RGBA")
        flat = Image.new("RGB", shown.size, (255, 255, 255))
        flat.paste(shown, mask=shown.getchannel("A"))
        square = ImageOps.fit(flat, (AVATAR_PIXELS, AVATAR_PIXELS),
                              method=Image.Resampling.LANCZOS)
        out = io.BytesIO()
        square.save(out, format="JPEG", quality=85, optimize=True)
        return out.getvalue()


async def _read_all(sha256: str) -> bytes:
    chunks: AsyncIterator[bytes] = await storage.current().reader(sha256)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > MAX_SOURCE_BYTES:
            raise UnsupportedMediaType("This image is too large to make a photo from.")
        parts.append(chunk)
    return b"".join(parts)


async def _user(identity: Identity, user_id: uuid.UUID) -> accounts.UserView:
    profile = await Profile.select().where(Profile.id == user_id).first()
    if profile is None:
        raise NotFound("No such user.")
    email = None
    if profile["account"] is not None:
        account = await Account.select(Account.email).where(
            Account.id == profile["account"]).first()
        email = account["email"] if account else None
    return accounts.user_view(profile, email)


async def set_avatar(identity: Identity, settings: Settings, file_id: uuid.UUID | str
                     ) -> accounts.UserView:
    """The caller's photo becomes the square cut of their upload `file_id` (an image of
    theirs not attached to anything yet). The upload is used up; a previous photo is
    replaced. Answers the caller's `user` with its new `avatar_url`."""
    fid = parse_file_id(file_id)
    row = await StoredFile.select().where(
        StoredFile.id == fid, StoredFile.organization == identity.organization_id,
        StoredFile.uploader == identity.user_id, StoredFile.attached_at.is_null(),
        StoredFile.deleted_at.is_null()).first()
    if row is None:
        raise NotFound("No such file: upload the photo first (POST /files), then name it.",
                       extra={"field": "file_id"})
    if row["content_type"] not in content.IMAGE_TYPES:
        raise UnsupportedMediaType("A photo is an image: JPEG, PNG, GIF or WebP.")
    if row["thumbnail_sha256"] is None:
        raise UnsupportedMediaType("This image is too large to make a photo from.")
    try:
        source = await _read_all(row["thumbnail_sha256"])
    except FileNotFoundError:
        log.error("file %s: its thumbnail is missing from storage", fid)
        raise NotFound("No such file.") from None
    try:
        square = await anyio.to_thread.run_sync(_square, source)
    except Exception as exc:  # a thumbnail we wrote ourselves; should never happen
        raise UnsupportedMediaType("This image could not be read.") from exc
    sha = hashlib.sha256(square).hexdigest()
    staged = _staging_dir(settings) / f"{uuid.uuid4().hex}.avatar"
    try:
        await anyio.Path(staged).write_bytes(square)
        await storage.current().put_file(sha, staged)
    finally:
        staged.unlink(missing_ok=True)
    try:
        async with write_transaction():
            await _add_ref(sha, len(square))
            if not await _remove_row(fid, only_unattached=True):
                raise NotFound("No such file: it was used meanwhile.",
                               extra={"field": "file_id"})
            old = await accounts.set_avatar_in_transaction(identity.user_id, sha)
            if old:
                await _drop_ref(old)
    except Exception:
        await _forget_unreferenced(sha)
        raise
    return await _user(identity, identity.user_id)


async def _forget_unreferenced(sha: str) -> None:
    """After a failed change: bytes stored for it that nothing references are removed."""
    try:
        async with write_transaction():
            if not await FileBlob.exists().where(FileBlob.sha256 == sha):
                await storage.current().delete(sha)
    except Exception:  # pragma: no cover - the cleanup is best effort
        log.exception("avatar bytes %s could not be removed", sha)


async def remove_avatar(identity: Identity, user_id: uuid.UUID | str) -> None:
    """Remove a photo: one's own, or (owners and admins) anyone's of the practice. Removing
    a photo that is not there is not an error."""
    target = await _person(identity, user_id)
    if target["id"] != identity.user_id and not identity.is_admin:
        if await may_see(identity, target):
            raise Forbidden("Only the person themselves, an owner or an admin can remove "
                            "this photo.")
        raise NotFound("No such user.")
    async with write_transaction():
        old = await accounts.set_avatar_in_transaction(target["id"], None)
        if old:
            await _drop_ref(old)


async def _person(identity: Identity, user_id: uuid.UUID | str) -> dict[str, Any]:
    try:
        pid = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        raise NotFound("No such user.") from None
    row = await Profile.select(Profile.id, Profile.organization, Profile.role, Profile.status,
                               Profile.avatar).where(
        Profile.id == pid, Profile.organization == identity.organization_id).first()
    if row is None or row["status"] == "removed":
        raise NotFound("No such user.")
    return row


async def may_see(identity: Identity, person: dict[str, Any]) -> bool:
    """Whether the caller may see this person of their practice: themselves; the team (any
    role but client) is seen by everyone of the practice; a client by the team and by whoever
    shares a thread with them."""
    if person["organization"] != identity.organization_id or person["status"] == "removed":
        return False
    if person["id"] == identity.user_id or person["role"] != "client" or identity.is_staff:
        return True
    return await threads.share_a_thread(identity.user_id, person["id"])


async def open_avatar(identity: Identity, user_id: uuid.UUID | str,
                      if_none_match: str | None = None) -> Download | None:
    """The person's photo for someone who may see them; None when the caller's copy is
    current. No photo, or a person the caller may not see: 404."""
    person = await _person(identity, user_id)
    sha = person["avatar"]
    if not sha or not await may_see(identity, person):
        raise NotFound("No photo.")
    etag = f'"{sha[:32]}"'
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return None
    blob = await FileBlob.select(FileBlob.size).where(FileBlob.sha256 == sha).first()
    try:
        chunks = await storage.current().reader(sha)
    except FileNotFoundError:
        log.error("avatar of %s: its bytes are missing from storage", person["id"])
        raise NotFound("No photo.") from None
    return Download("avatar.jpg", "image/jpeg", blob["size"] if blob else -1, etag, chunks)
