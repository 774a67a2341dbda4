"""Files the tests upload: a phone photo with a GPS location, a PDF, disguised executables."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Backend
from tests.helpers import Person

GPS_IFD = 0x8825
MAKE = 0x010F


def photo_with_location(width: int = 640, height: int = 480, color: tuple[int, int, int] = (
        200, 120, 40)) -> bytes:
    """A JPEG as a phone writes it: camera make and a GPS position in its EXIF."""
    from PIL import Image

    img = Image.new("RGB", (width, height), color)
    exif = Image.Exif()
    exif[MAKE] = "PhoneCam"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png_image(width: int = 64, height: int = 64) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 160, 90, 255)).save(out, "PNG")
    return out.getvalue()


def pdf_bytes(text: str = "Lab results") -> bytes:
    body = (f"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
            f"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n% {text}\n"
            "trailer <</Root 1 0 R>>\n%%EOF\n")
    return body.encode()


# A Windows executable and a Linux one: what "photo.png" must not be able to smuggle in.
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200 + \
    b"This program cannot be run in DOS mode." + b"\x00" * 300
LINUX_ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 400


async def upload(http: httpx.AsyncClient, person: Person, name: str, data: bytes,
                 content_type: str = "application/octet-stream") -> httpx.Response:
    return await http.post("/files", files={"file": (name, data, content_type)},
                           headers=person.headers)


async def uploaded(http: httpx.AsyncClient, person: Person, name: str, data: bytes,
                   content_type: str = "application/octet-stream") -> dict[str, Any]:
    resp = await upload(http, person, name, data, content_type)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["file"])


def files_dir(backend: Backend) -> Path:
    """Where the server keeps files on this backend (beside SQLite, or the working folder)."""
    if backend.name == "sqlite":
        return backend.workdir / "carethread.db.files"
    return backend.workdir / "carethread-files"


def stored_blobs(backend: Backend) -> set[str]:
    root = files_dir(backend)
    if not root.exists():
        return set()
    return {p.name for p in root.glob("??/??/*") if p.is_file() and not p.name.startswith(".")}


def staging_leftovers(backend: Backend) -> list[Path]:
    staging = files_dir(backend) / ".staging"
    return list(staging.iterdir()) if staging.exists() else []
