"""Files: upload (typed from the bytes, location stripped, stored by hash, within the
practice's quota), who may read one, attaching to messages, and the cleanup of unattached ones.

A file is readable by its uploader and by those who can see the message event, client
document or completed form response that holds it, or whom the domain holding it allows (a care
plan: its client once a version naming the file is shared; a program module: its client once
it has arrived); everyone else (another practice included) gets 404. A file of a deleted
message is readable by no one (the bytes stay, for the audit).
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import anyio
import msgspec

from server import clock
from server.db import is_unique_violation, write_transaction
from server.errors import AppError, NotFound
from server.files import content, storage
from server.files.tables import ClientDocument, FileBlob, FileUsage, StoredFile
from server.identity import Identity
from server.settings import Settings

log = logging.getLogger("carethread.files")


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class FileView(msgspec.Struct, omit_defaults=True):
    """`{id, name, content_type, size}`; images add their size in pixels and `thumbnail`."""

    id: uuid.UUID
    name: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    thumbnail: bool = False


def file_view(row: dict[str, Any]) -> FileView:
    return FileView(id=row["id"], name=row["name"], content_type=row["content_type"],
                    size=row["size"], width=row["width"], height=row["height"],
                    thumbnail=row["thumbnail_sha256"] is not None)


def attachment_data(row: dict[str, Any]) -> dict[str, Any]:
    """A file as a message event's `data.attachments` item (JSON)."""
    data: dict[str, Any] = msgspec.to_builtins(file_view(row))
    return data


def parse_file_id(raw: str | uuid.UUID) -> uuid.UUID:
    if isinstance(raw, uuid.UUID):
        return raw
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise NotFound("No such file.") from None


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def clean_name(raw: str | None) -> str:
    """The name to show: no folders, no control characters, at most 255 characters."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE_NAME.sub("_", name).strip().strip(".") or "file"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 255 - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 else name[:255]
    return name


def _staging_dir(settings: Settings) -> Path:
    """Uploads are prepared beside local storage (so placing them is a rename), else in /tmp."""
    if settings.s3_bucket:
        base = Path(tempfile.gettempdir()) / "carethread-staging"
    else:
        base = Path(settings.files_dir) / ".staging"
    base.mkdir(parents=True, exist_ok=True)
    return base


# --- upload ----------------------------------------------------------------------------------


@dataclass
class _Prepared:
    staged: content.Staged
    thumb: content.Thumbnail | None
    thumb_size: int = 0
    thumb_sha256: str | None = None


async def upload(identity: Identity, settings: Settings, source: IO[bytes],
                 filename: str | None) -> FileView:
    """Store one upload: the source is read in chunks in a worker thread, typed from its
    bytes, stripped of location data, hashed; then the quota and the blob reference are taken
    in one transaction before the bytes are placed."""
    name = clean_name(filename)
    staging = _staging_dir(settings)
    dest = staging / uuid.uuid4().hex
    thumb_dest = dest.with_name(dest.name + ".thumb")
    try:
        prepared = await anyio.to_thread.run_sync(
            _prepare, source, name, dest, thumb_dest, settings.max_upload_bytes)
        file_id = uuid.uuid4()
        row = await _reserve(identity, settings, file_id, name, prepared)
        try:
            store = storage.current()
            await store.put_file(prepared.staged.sha256, dest)
            if prepared.thumb_sha256 is not None:
                await store.put_file(prepared.thumb_sha256, thumb_dest)
        except Exception:
            await _forget(file_id)
            raise
        return file_view(row)
    finally:
        for path in (dest, thumb_dest):
            path.unlink(missing_ok=True)


def _prepare(source: IO[bytes], name: str, dest: Path, thumb_dest: Path,
             max_bytes: int) -> _Prepared:
    try:
        staged = content.stage(source, name, dest, max_bytes)
        prepared = _Prepared(staged, None)
        if staged.content_type in content.IMAGE_TYPES:
            prepared.thumb = content.check_image(dest, thumb_dest)
            if prepared.thumb.path is not None:
                prepared.thumb_size, prepared.thumb_sha256 = content.file_sha256(thumb_dest)
    except content.Rejected as exc:
        if exc.too_large:
            raise PayloadTooLarge(f"A file may be at most {max_bytes} bytes.") from None
        raise UnsupportedMediaType(
            "This type of file is not accepted: images (JPEG, PNG, GIF, WebP), PDF, office "
            "documents and plain text are.") from None
    return prepared


async def _reserve(identity: Identity, settings: Settings, file_id: uuid.UUID, name: str,
                   prepared: _Prepared) -> dict[str, Any]:
    staged, thumb = prepared.staged, prepared.thumb
    for attempt in range(3):
        try:
            async with write_transaction():
                await _take_quota(identity.organization_id, staged.size,
                                  settings.practice_quota_bytes)
                await _add_ref(staged.sha256, staged.size)
                if prepared.thumb_sha256 is not None:
                    await _add_ref(prepared.thumb_sha256, prepared.thumb_size)
                row = {
                    "id": file_id, "organization": identity.organization_id,
                    "uploader": identity.user_id, "sha256": staged.sha256, "name": name,
                    "content_type": staged.content_type, "size": staged.size,
                    "width": thumb.width if thumb and thumb.width else None,
                    "height": thumb.height if thumb and thumb.height else None,
                    "thumbnail_sha256": prepared.thumb_sha256,
                    "thumbnail_type": thumb.content_type if thumb else None,
                    "created_at": datetime.now(UTC),
                }
                await StoredFile.insert(StoredFile(**row))  # type: ignore[arg-type]
            return row
        except Exception as exc:
            if not is_unique_violation(exc) or attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _take_quota(organization_id: uuid.UUID, size: int, quota: int) -> None:
    if not await FileUsage.exists().where(FileUsage.organization == organization_id):
        await FileUsage.insert(FileUsage(organization=organization_id, bytes=0))
    taken = await FileUsage.update({FileUsage.bytes: FileUsage.bytes + size}).where(
        FileUsage.organization == organization_id, FileUsage.bytes <= quota - size,
    ).returning(FileUsage.id)
    if not taken:
        raise PayloadTooLarge("The practice has used all of its file storage.",
                              code="quota_exceeded")


async def _release_quota(organization_id: uuid.UUID, size: int) -> None:
    await FileUsage.update({FileUsage.bytes: FileUsage.bytes - size}).where(
        FileUsage.organization == organization_id)


async def _add_ref(sha256: str, size: int) -> None:
    bumped = await FileBlob.update({FileBlob.refs: FileBlob.refs + 1}).where(
        FileBlob.sha256 == sha256).returning(FileBlob.id)
    if not bumped:
        await FileBlob.insert(FileBlob(sha256=sha256, size=size, refs=1,
                                       created_at=datetime.now(UTC)))


async def _drop_ref(sha256: str) -> None:
    """Inside a transaction: one reference fewer; the last one removes the bytes while this
    transaction holds the blob's row, so an upload of the same bytes waits and writes them
    again."""
    rows = await FileBlob.update({FileBlob.refs: FileBlob.refs - 1}).where(
        FileBlob.sha256 == sha256).returning(FileBlob.refs)
    if rows and rows[0]["refs"] <= 0:
        await FileBlob.delete().where(FileBlob.sha256 == sha256, FileBlob.refs <= 0)
        await storage.current().delete(sha256)


async def _forget(file_id: uuid.UUID) -> None:
    """Undo an upload whose bytes could not be stored."""
    async with write_transaction():
        await _remove_row(file_id, only_unattached=False)


async def _remove_row(file_id: uuid.UUID, *, only_unattached: bool) -> bool:
    query = StoredFile.delete().where(StoredFile.id == file_id)
    if only_unattached:
        query = query.where(StoredFile.attached_at.is_null())
    rows = await query.returning(StoredFile.organization, StoredFile.sha256, StoredFile.size,
                                 StoredFile.thumbnail_sha256)
    if not rows:
        return False
    row = rows[0]
    await _release_quota(row["organization"], row["size"])
    await _drop_ref(row["sha256"])
    if row["thumbnail_sha256"]:
        await _drop_ref(row["thumbnail_sha256"])
    return True


# --- attaching -------------------------------------------------------------------------------


# Who may read a file another domain holds: kind -> check(identity, holder_id, file_id).
HolderCheck = Callable[[Identity, uuid.UUID, uuid.UUID], Awaitable[bool]]
_holders: dict[str, HolderCheck] = {}


def register_holder(kind: str, check: HolderCheck) -> None:
    """A domain that holds files (care plans, program modules) names who may read them."""
    _holders[kind] = check


async def claim_in_transaction(identity: Identity, file_ids: Sequence[uuid.UUID], *,
                               thread_id: uuid.UUID | None = None,
                               event_id: uuid.UUID | None = None,
                               holder: tuple[str, uuid.UUID] | None = None,
                               ) -> list[dict[str, Any]]:
    """Mark the caller's unattached uploads as held (by a message event, a document, or
    another domain's record); any id that is not such a file is not found, and nothing is
    claimed."""
    ids = list(dict.fromkeys(file_ids))
    if not ids:
        return []
    values: dict[Any, Any] = {StoredFile.attached_at: datetime.now(UTC)}
    if thread_id is not None:
        values[StoredFile.thread] = thread_id
        values[StoredFile.event_id] = event_id
    if holder is not None:
        if holder[0] not in _holders:
            raise ValueError(f"no reader rule for files held by {holder[0]!r}")
        values[StoredFile.holder_kind] = holder[0]
        values[StoredFile.holder_id] = holder[1]
    claimed = await StoredFile.update(values).where(
        StoredFile.id.is_in(ids), StoredFile.organization == identity.organization_id,
        StoredFile.uploader == identity.user_id, StoredFile.attached_at.is_null(),
        StoredFile.deleted_at.is_null(),
    ).returning(StoredFile.id)
    if len(claimed) != len(ids):
        raise NotFound("No such file (each file is attached once, by its uploader).",
                       extra={"field": "attachments"})
    rows = await StoredFile.select().where(StoredFile.id.is_in(ids))
    by_id = {r["id"]: r for r in rows}
    return [by_id[i] for i in ids]


async def attach_in_transaction(identity: Identity, file_ids: Sequence[uuid.UUID], *,
                                thread_id: uuid.UUID, event_id: uuid.UUID
                                ) -> list[dict[str, Any]]:
    """For threads.post_message: the files as the message's `data.attachments`."""
    rows = await claim_in_transaction(identity, file_ids, thread_id=thread_id,
                                      event_id=event_id)
    return [attachment_data(r) for r in rows]


async def hold_in_transaction(identity: Identity, file_ids: Sequence[uuid.UUID], *,
                              kind: str, holder_id: uuid.UUID) -> list[dict[str, Any]]:
    """The files another domain's record links (a care plan version, a program module), in
    order: those it holds already stay; the others must be the caller's unattached uploads,
    which it now holds. Any other id is not found (and, the caller's transaction rolling back,
    nothing is claimed)."""
    ids = list(dict.fromkeys(file_ids))
    if not ids:
        return []
    held = await StoredFile.select().where(
        StoredFile.id.is_in(ids), StoredFile.holder_kind == kind,
        StoredFile.holder_id == holder_id, StoredFile.deleted_at.is_null())
    by_id = {r["id"]: r for r in held}
    fresh = [i for i in ids if i not in by_id]
    try:
        claimed = await claim_in_transaction(identity, fresh, holder=(kind, holder_id))
    except NotFound:
        raise NotFound("No such file (each is your own upload, used in one place).",
                       extra={"field": "file_ids"}) from None
    for row in claimed:
        by_id[row["id"]] = row
    return [by_id[i] for i in ids]


async def views_of(file_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, FileView]:
    """The files named (that still exist and are not deleted), by id: for the domains that
    list their files beside their own records."""
    ids = list(dict.fromkeys(file_ids))
    if not ids:
        return {}
    rows = await StoredFile.select().where(StoredFile.id.is_in(ids),
                                           StoredFile.deleted_at.is_null())
    return {r["id"]: file_view(r) for r in rows}


async def form_files(identity: Identity, file_ids: Sequence[str], request_id: uuid.UUID
                     ) -> dict[str, dict[str, Any]]:
    """The caller's uploads among `file_ids` that a form request's answers may hold: not yet
    held by anything, or already by this request. File id (as text) -> `FileView` as JSON."""
    ids = []
    for raw in dict.fromkeys(file_ids):
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            continue
    if not ids:
        return {}
    rows = await StoredFile.select().where(
        StoredFile.id.is_in(ids), StoredFile.organization == identity.organization_id,
        StoredFile.uploader == identity.user_id, StoredFile.deleted_at.is_null(),
        StoredFile.event_id.is_null(),
    )
    return {str(r["id"]): attachment_data(r) for r in rows
            if r["attached_at"] is None or r["form_request_id"] == request_id}


async def hold_for_form_in_transaction(identity: Identity, file_ids: Sequence[str],
                                       request_id: uuid.UUID) -> None:
    """The files a form request's answers (or draft) hold: kept past the cleanup of unattached
    uploads, and readable as the response is (see `readable`)."""
    ids = [uuid.UUID(i) for i in dict.fromkeys(file_ids)]
    if not ids:
        return
    await StoredFile.update({StoredFile.attached_at: datetime.now(UTC),
                             StoredFile.form_request_id: request_id}).where(
        StoredFile.id.is_in(ids), StoredFile.organization == identity.organization_id,
        StoredFile.uploader == identity.user_id, StoredFile.attached_at.is_null(),
    )


async def message_deleted_in_transaction(event_id: uuid.UUID, when: datetime) -> None:
    """A deleted message's files become unreadable to everyone (the audit keeps the bytes)."""
    await StoredFile.update({StoredFile.deleted_at: when}).where(StoredFile.event_id == event_id)


# --- reading ---------------------------------------------------------------------------------


@dataclass
class Readable:
    row: dict[str, Any]
    document: dict[str, Any] | None
    form_request_id: uuid.UUID | None = None  # read by the care team: audited


async def readable(identity: Identity, file_id: str) -> Readable:
    """The file if the caller may read it, else NotFound."""
    from server.onboarding.access import client_access
    from server.threads import service as threads

    fid = parse_file_id(file_id)
    row = await StoredFile.select().where(
        StoredFile.id == fid, StoredFile.organization == identity.organization_id,
        StoredFile.deleted_at.is_null()).first()
    if row is None:
        raise NotFound("No such file.")
    document = await ClientDocument.select().where(ClientDocument.file == fid).first()
    if row["uploader"] == identity.user_id:
        return Readable(row, document)
    if document is not None:
        access = await client_access(identity, document["client"])
        if access.as_team or document["shared_with_client"]:
            return Readable(row, document)
    elif row["form_request_id"] is not None:
        from server.forms.service import response_file_readable

        if await response_file_readable(identity, row["form_request_id"], fid):
            return Readable(row, None, form_request_id=row["form_request_id"])
    elif row["event_id"] is not None and row["thread"] is not None:
        event = await threads.event_visible(identity, row["thread"], row["event_id"])
        if event is not None and event.deleted_at is None:
            return Readable(row, None)
    elif row["holder_kind"] is not None and row["holder_id"] is not None:
        check = _holders.get(row["holder_kind"])
        if check is not None and await check(identity, row["holder_id"], row["id"]):
            return Readable(row, None)
    raise NotFound("No such file.")


@dataclass
class Download:
    name: str
    content_type: str
    size: int
    etag: str
    chunks: AsyncIterator[bytes]


async def open_for(identity: Identity, file_id: str, *, thumbnail: bool = False,
                   if_none_match: str | None = None) -> Download | None:
    """The bytes (or the thumbnail) for someone allowed to read them; None when the caller's
    copy (If-None-Match) is current. A client document's download is audited."""
    found = await readable(identity, file_id)
    row = found.row
    sha = row["thumbnail_sha256"] if thumbnail else row["sha256"]
    if sha is None:
        raise NotFound("This file has no thumbnail.")
    etag = f'"{sha[:32]}"'
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return None
    if found.document is not None:
        from server.forms.service import record_audit

        await record_audit(identity, "document.previewed" if thumbnail else
                           "document.downloaded", client_id=found.document["client"],
                           document_id=found.document["id"])
    if found.form_request_id is not None:
        from server.forms.service import record_response_file_read

        await record_response_file_read(identity, found.form_request_id)
    try:
        chunks = await storage.current().reader(sha)
    except FileNotFoundError:
        log.error("file %s: its bytes are missing from storage", row["id"])
        raise NotFound("No such file.") from None
    if thumbnail:
        base = row["name"].rsplit(".", 1)[0]
        ext = "png" if row["thumbnail_type"] == "image/png" else "jpg"
        return Download(f"{base}-thumbnail.{ext}", row["thumbnail_type"], -1, etag, chunks)
    return Download(row["name"], row["content_type"], row["size"], etag, chunks)


# --- cleanup ---------------------------------------------------------------------------------


async def remove_unattached(settings: Settings, batch: int = 100) -> int:
    """Remove uploads nothing holds after UNATTACHED_FILE_HOURS (on the jobs' clock). The
    conditional delete is the claim: two processes never remove one file twice."""
    cutoff = clock.now() - timedelta(hours=settings.unattached_file_hours)
    due = await StoredFile.select(StoredFile.id).where(
        StoredFile.attached_at.is_null(), StoredFile.created_at < cutoff,
    ).order_by(StoredFile.created_at).limit(batch)
    removed = 0
    for row in due:
        async with write_transaction():
            if await _remove_row(row["id"], only_unattached=True):
                removed += 1
    return removed


STAGING_MAX_AGE_SECONDS = 3600


def remove_stale_staging(settings: Settings) -> int:
    """Staged copies left behind by a process that died mid-upload (worker thread)."""
    staging = _staging_dir(settings)
    cutoff = time.time() - STAGING_MAX_AGE_SECONDS
    removed = 0
    for path in staging.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            pass
    return removed


async def used_bytes(organization_id: uuid.UUID) -> int:
    row = await FileUsage.select(FileUsage.bytes).where(
        FileUsage.organization == organization_id).first()
    return int(row["bytes"]) if row else 0
