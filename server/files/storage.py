"""Where file bytes live: one small interface, a local folder or an S3-compatible store.

Blobs are named by their SHA-256 (`ab/cd/abcd...`), so the same bytes are stored once. Writes
go from a file on disk in chunks; reads are an async iterator of chunks: no whole file is ever
held in memory.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import anyio

from server.settings import Settings

CHUNK = 256 * 1024


def blob_key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class Storage(Protocol):
    async def put_file(self, sha256: str, source: Path) -> None:
        """Store the file at `source` under its hash (a no-op if those bytes are there);
        the source may be moved away."""

    async def reader(self, sha256: str) -> AsyncIterator[bytes]:
        """The blob's bytes, in chunks; FileNotFoundError (before any chunk) if missing."""

    async def delete(self, sha256: str) -> None:
        """Remove the blob; missing is fine."""

    async def exists(self, sha256: str) -> bool: ...


class LocalStorage:
    """A folder (by default beside the SQLite file): `<root>/ab/cd/<sha256>`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, sha256: str) -> Path:
        return self.root / blob_key(sha256)

    async def put_file(self, sha256: str, source: Path) -> None:
        target = self._path(sha256)

        def place() -> None:
            if target.exists():
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(source, target)  # staging is in the same folder tree
                return
            except OSError:
                pass
            tmp = target.with_name(f".{target.name}.{os.getpid()}.{id(source)}.tmp")
            with open(source, "rb") as src, open(tmp, "wb") as dst:
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, target)

        await anyio.to_thread.run_sync(place)

    async def reader(self, sha256: str) -> AsyncIterator[bytes]:
        fh = await anyio.open_file(self._path(sha256), "rb")

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await fh.read(CHUNK):
                    yield chunk
            finally:
                await fh.aclose()

        return chunks()

    async def delete(self, sha256: str) -> None:
        path = self._path(sha256)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def exists(self, sha256: str) -> bool:
        path = self._path(sha256)
        return await anyio.to_thread.run_sync(path.exists)


class S3Storage:
    """An S3-compatible object store through obstore (Rust, async; multipart for large files)."""

    def __init__(self, settings: Settings) -> None:
        from obstore.store import S3Store

        assert settings.s3_bucket
        options: dict[str, object] = {
            "region": settings.s3_region,
        }
        if settings.s3_endpoint_url:
            options["endpoint"] = settings.s3_endpoint_url
            options["virtual_hosted_style_request"] = False
        if settings.s3_access_key_id:
            options["access_key_id"] = settings.s3_access_key_id
        if settings.s3_secret_access_key:
            options["secret_access_key"] = settings.s3_secret_access_key
        client_options = {"allow_http": True} if (
            settings.s3_endpoint_url or "").startswith("http://") else {}
        self.store = S3Store(settings.s3_bucket, client_options=client_options,  # type: ignore[arg-type]
                             **options)  # type: ignore[arg-type]
        self.prefix = settings.s3_prefix

    def _key(self, sha256: str) -> str:
        key = blob_key(sha256)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put_file(self, sha256: str, source: Path) -> None:
        import obstore

        if await self.exists(sha256):
            return
        # Parts of 5 MiB, two at a time: an upload holds about 10 MiB, whatever its size.
        await obstore.put_async(self.store, self._key(sha256), source,
                                chunk_size=5 * 1024 * 1024, max_concurrency=2)

    async def reader(self, sha256: str) -> AsyncIterator[bytes]:
        import obstore

        result = await obstore.get_async(self.store, self._key(sha256))

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in result.stream(min_chunk_size=CHUNK):
                yield bytes(chunk)

        return chunks()

    async def delete(self, sha256: str) -> None:
        import obstore

        try:
            await obstore.delete_async(self.store, self._key(sha256))
        except FileNotFoundError:
            pass

    async def exists(self, sha256: str) -> bool:
        import obstore

        try:
            await obstore.head_async(self.store, self._key(sha256))
        except FileNotFoundError:
            return False
        return True


def make_storage(settings: Settings) -> Storage:
    if settings.s3_bucket:
        return S3Storage(settings)
    return LocalStorage(settings.files_dir)


_storage: Storage | None = None


def install(storage: Storage) -> None:
    global _storage
    _storage = storage


def current() -> Storage:
    assert _storage is not None, "storage is installed at startup"
    return _storage
