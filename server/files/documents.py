"""Client documents: files on a client's profile, private to the care team or shared.

The care team (and owners/admins) add documents to a client they may act on; a client adds
their own (labs, photos of paper forms), which are always shared between them and the team.
A shared document is a `document.shared` event in the care thread; a team-only one a
staff-only `document.added` event. Reads follow `onboarding.access.client_access`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from server.db import write_transaction
from server.events import STAFF
from server.files.service import FileView, claim_in_transaction, file_view, parse_file_id
from server.files.tables import ClientDocument, StoredFile
from server.identity import Identity
from server.onboarding.access import client_access
from server.threads import service as threads

DOCUMENT_SHARED = "document.shared"
DOCUMENT_ADDED = "document.added"


class DocumentView(msgspec.Struct):
    id: uuid.UUID
    file: FileView
    title: str
    shared_with_client: bool
    created_at: datetime
    uploaded_by: uuid.UUID


def _view(doc: dict[str, Any], file_row: dict[str, Any]) -> DocumentView:
    return DocumentView(id=doc["id"], file=file_view(file_row), title=doc["title"],
                        shared_with_client=doc["shared_with_client"],
                        created_at=doc["created_at"], uploaded_by=doc["uploaded_by"])


async def list_documents(identity: Identity, client_id: str) -> list[DocumentView]:
    """Newest first; the client sees only what is shared with them."""
    access = await client_access(identity, client_id)
    query = ClientDocument.select().where(ClientDocument.client == access.client_id,
                                          ClientDocument.organization == access.organization_id)
    if not access.as_team:
        query = query.where(ClientDocument.shared_with_client.eq(True))
    docs = await query.order_by(ClientDocument.created_at, ascending=False)
    if not docs:
        return []
    files = await StoredFile.select().where(
        StoredFile.id.is_in([d["file"] for d in docs]), StoredFile.deleted_at.is_null())
    by_id = {f["id"]: f for f in files}
    return [_view(d, by_id[d["file"]]) for d in docs if d["file"] in by_id]


async def add_document(identity: Identity, client_id: str, *, file_id: uuid.UUID | str,
                       title: str | None, shared_with_client: bool) -> DocumentView:
    """The caller's own unattached upload becomes a document of the client."""
    access = await client_access(identity, client_id)
    fid = parse_file_id(file_id)
    shared = shared_with_client or not access.as_team  # a client's own are theirs to see
    async with write_transaction():
        [file_row] = await claim_in_transaction(identity, [fid])
        name = " ".join((title or "").split()) or file_row["name"]
        doc = {"id": uuid.uuid4(), "organization": access.organization_id,
               "client": access.client_id, "file": fid, "title": name[:200],
               "shared_with_client": shared, "uploaded_by": identity.user_id,
               "created_at": datetime.now(UTC)}
        await ClientDocument.insert(ClientDocument(**doc))  # type: ignore[arg-type]
        view = _view(doc, file_row)
        data = {"document_id": str(doc["id"]), "client_id": str(access.client_id),
                "title": view.title, "file": msgspec.to_builtins(view.file)}
        await threads.append_in_transaction(
            access.care_thread_id, DOCUMENT_SHARED if shared else DOCUMENT_ADDED,
            identity.user_id, data=data, audience="all" if shared else STAFF)
    return view
