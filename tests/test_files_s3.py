"""The same files in an S3-compatible object store: a real S3-protocol server (moto's server
mode, started by the test) holds the bytes; nothing lands in the local folder."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Backend, Server, app_client, free_port
from tests.files_helpers import (
    GPS_IFD,
    files_dir,
    pdf_bytes,
    photo_with_location,
    upload,
    uploaded,
)
from tests.helpers import new_practice, new_thread


class S3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.bucket = f"carethread-{uuid.uuid4().hex[:8]}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        self.client().create_bucket(Bucket=self.bucket)

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="test-key", aws_secret_access_key="test-secret")

    def keys(self) -> set[str]:
        listing = self.client().list_objects_v2(Bucket=self.bucket)
        return {o["Key"] for o in listing.get("Contents", [])}

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def s3() -> Iterator[S3Server]:
    pytest.importorskip("moto.server")
    server = S3Server()
    server.start()
    yield server
    server.stop()


def s3_env(s3: S3Server, **extra: str) -> dict[str, str]:
    return {"S3_BUCKET": s3.bucket, "S3_ENDPOINT_URL": s3.url, "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": "test-key", "S3_SECRET_ACCESS_KEY": "test-secret",
            "S3_PREFIX": "practice-files", **extra}


@pytest.mark.timeout(360)  # an S3 server and a Carethread server start on a loaded machine
async def test_files_live_in_the_object_store(
    s3: S3Server, backend: Backend, start_server: Any, tmp_path: Any,
) -> None:
    clock = tmp_path / "clock"
    clock.write_text("0")
    srv: Server = start_server(**s3_env(s3, CLOCK_OFFSET_FILE=str(clock),
                                        FILE_CLEANUP_POLL_SECONDS="0.2"))
    local_before = set(files_dir(backend).rglob("*")) if files_dir(backend).exists() else set()
    async with app_client(srv.url) as http:
        owner = await new_practice(http)
        tid = await new_thread(http, owner)
        # Over 5 MiB: more than one part of a multipart upload to the store.
        big = pdf_bytes("x") + bytes(range(256)) * (22 * 1024)
        doc = await uploaded(http, owner, "scan.pdf", big)
        photo = await uploaded(http, owner, "plate.jpg", photo_with_location())
        sha = hashlib.sha256(big).hexdigest()
        keys = s3.keys()
        assert f"practice-files/{sha[:2]}/{sha[2:4]}/{sha}" in keys
        assert len(keys) == 3  # the document, the photo and its thumbnail
        resp = await _send(http, owner, tid, [doc["id"], photo["id"]])
        assert resp.status_code == 201, resp.text
        got = await http.get(f"/files/{doc['id']}", headers=owner.headers)
        assert got.status_code == 200 and got.content == big
        assert got.headers["content-disposition"].startswith("attachment;")
        import io

        from PIL import Image

        served = await http.get(f"/files/{photo['id']}", headers=owner.headers)
        assert GPS_IFD not in Image.open(io.BytesIO(served.content)).getexif()
        thumb = await http.get(f"/files/{photo['id']}/thumbnail", headers=owner.headers)
        assert thumb.status_code == 200
        # An oversize or disguised upload leaves nothing in the bucket.
        bad = await upload(http, owner, "evil.png", b"MZ" + b"\x00" * 500, "image/png")
        assert bad.status_code == 415
        assert s3.keys() == keys
        # Unattached uploads leave the store after a day.
        lone_bytes = f"lone {uuid.uuid4()}".encode()
        await uploaded(http, owner, "lone.txt", lone_bytes)
        lone_sha = hashlib.sha256(lone_bytes).hexdigest()
        lone_key = f"practice-files/{lone_sha[:2]}/{lone_sha[2:4]}/{lone_sha}"
        assert lone_key in s3.keys()
        clock.write_text(str(25 * 3600))
        for _ in range(50):
            if lone_key not in s3.keys():
                break
            await asyncio.sleep(0.2)
        assert s3.keys() == keys
    local_after = set(files_dir(backend).rglob("*")) if files_dir(backend).exists() else set()
    assert {p for p in local_after - local_before if p.is_file()} == set()


async def _send(http: httpx.AsyncClient, owner: Any, tid: str, ids: list[str]
                ) -> httpx.Response:
    return await http.post(f"/threads/{tid}/messages", json={
        "body": "", "client_id": uuid.uuid4().hex, "attachments": ids}, headers=owner.headers)
