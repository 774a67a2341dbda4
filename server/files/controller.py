"""HTTP for files and client documents: parse, call the service, serialize."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.response import Response, Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_304_NOT_MODIFIED

from server.errors import InvalidInput
from server.files import documents, service
from server.identity import Identity
from server.runtime import Runtime
from server.settings import Settings

# Multipart framing around the file: boundaries, part headers, a long file name.
MULTIPART_OVERHEAD = 64 * 1024


class FileOut(msgspec.Struct):
    file: service.FileView


class DocumentIn(msgspec.Struct):
    file_id: uuid.UUID
    shared_with_client: bool = False
    title: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class DocumentOut(msgspec.Struct):
    document: documents.DocumentView


class DocumentsOut(msgspec.Struct):
    documents: list[documents.DocumentView]


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name (RFC 6266 / 8187)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _download_response(download: service.Download | None) -> Response[Any]:
    if download is None:
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED)
    media_type = download.content_type
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    headers = {
        "Content-Disposition": content_disposition(download.name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
        "ETag": download.etag,
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if download.size >= 0:
        headers["Content-Length"] = str(download.size)
    return Stream(download.chunks, media_type=media_type, headers=headers)


class FilesController(Controller):
    path = "/files"
    tags = ["files"]

    @post("/", status_code=HTTP_201_CREATED)
    async def upload(self, request: Request[Any, Any, Any], identity: Identity,
                     runtime: Runtime) -> FileOut:
        """Upload one file (multipart/form-data, part `file`). Over MAX_UPLOAD_BYTES: 413
        `payload_too_large`; a type not allowed (decided from the bytes): 415
        `unsupported_media_type`; over the practice's quota: 413 `quota_exceeded`."""
        form = await request.form()
        try:
            part = form.get("file")
            if not isinstance(part, UploadFile):
                raise InvalidInput("Send the file as the multipart part `file`.",
                                   extra={"field": "file"})
            view = await service.upload(identity, runtime.settings, part.file, part.filename)
        finally:
            for value in form.values():
                if isinstance(value, UploadFile):
                    await value.close()
        return FileOut(view)

    @get("/{file_id:str}")
    async def download(self, file_id: str, identity: Identity,
                       request: Request[Any, Any, Any]) -> Response[Any]:
        """The bytes, as an attachment; 404 for anyone who may not see the file."""
        return _download_response(await service.open_for(
            identity, file_id, if_none_match=request.headers.get("if-none-match")))

    @get("/{file_id:str}/thumbnail")
    async def thumbnail(self, file_id: str, identity: Identity,
                        request: Request[Any, Any, Any]) -> Response[Any]:
        """An image's thumbnail (JPEG or PNG, at most 480 px, no metadata)."""
        return _download_response(await service.open_for(
            identity, file_id, thumbnail=True,
            if_none_match=request.headers.get("if-none-match")))


class DocumentsController(Controller):
    path = "/api/v1/clients/{client_id:str}/documents"
    tags = ["files"]

    @get("/")
    async def list(self, client_id: str, identity: Identity) -> DocumentsOut:
        """The client's documents, newest first (the client: those shared with them)."""
        return DocumentsOut(await documents.list_documents(identity, client_id))

    @post("/", status_code=HTTP_201_CREATED)
    async def add(self, client_id: str, data: DocumentIn, identity: Identity) -> DocumentOut:
        """An uploaded file becomes a document of the client."""
        return DocumentOut(await documents.add_document(
            identity, client_id, file_id=data.file_id, title=data.title,
            shared_with_client=data.shared_with_client))


def files_router(settings: Settings) -> Router:
    """Under /api/v1; the upload's body limit follows MAX_UPLOAD_BYTES."""
    return Router(path="/api/v1", route_handlers=[FilesController],
                  request_max_body_size=settings.max_upload_bytes + MULTIPART_OVERHEAD)
