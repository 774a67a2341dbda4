"""What a file is, decided from its bytes; location data stripped; thumbnails.

Everything here is synchronous and runs in a worker thread (`anyio.to_thread`), never on the
event loop. Files are read and written in chunks.
"""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype

CHUNK = 256 * 1024
SNIFF_BYTES = 8192
THUMBNAIL_SIZE = (480, 480)
MAX_IMAGE_PIXELS = 60_000_000  # larger images are stored but get no thumbnail

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
# The allow-list: decided from the bytes, never from the name or the Content-Type header.
ALLOWED_TYPES = IMAGE_TYPES | frozenset({
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "text/plain",
    "text/csv",
})


class Rejected(Exception):
    """The bytes are not an allowed type (415), or too many of them (413)."""

    def __init__(self, reason: str, too_large: bool = False) -> None:
        super().__init__(reason)
        self.too_large = too_large


def sniff(head: bytes, name: str) -> str | None:
    """The content type of a file from its first bytes, if it is on the allow-list."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime if kind.mime in ALLOWED_TYPES else None
    if not head or _looks_like_text(head):
        if head.startswith(b"#!"):
            return None  # a script is an executable, whatever its name
        return "text/csv" if name.lower().endswith(".csv") else "text/plain"
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return False
        text = head[: exc.start].decode("utf-8")
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\r\n\f")
    return controls == 0


@dataclass
class Staged:
    path: Path
    sha256: str
    size: int
    content_type: str


def stage(src: IO[bytes], name: str, dest: Path, max_bytes: int) -> Staged:
    """Copy an upload to `dest` in chunks: sniff its type, strip location data from images,
    hash and count what is kept. Raises Rejected."""
    head = src.read(SNIFF_BYTES)
    content_type = sniff(head, name)
    if content_type is None:
        raise Rejected("This type of file is not accepted.")
    digest = hashlib.sha256()
    size = 0

    def reader() -> bytes:
        nonlocal head
        if head:
            chunk, head = head, b""
            return chunk
        return src.read(CHUNK)

    with open(dest, "wb") as out:
        def write(data: bytes) -> None:
            nonlocal size
            size += len(data)
            if size > max_bytes:
                raise Rejected("The file is larger than allowed.", too_large=True)
            digest.update(data)
            out.write(data)

        if content_type == "image/jpeg":
            _copy_jpeg(reader, write)
        elif content_type == "image/png":
            _copy_png(reader, write)
        else:
            while chunk := reader():
                write(chunk)
    if content_type == "image/webp":
        size, sha = _strip_webp(dest)
        if size > max_bytes:
            raise Rejected("The file is larger than allowed.", too_large=True)
        return Staged(dest, sha, size, content_type)
    return Staged(dest, digest.hexdigest(), size, content_type)


class _Stream:
    """Exact reads over a chunked reader."""

    def __init__(self, read: Callable[[], bytes]) -> None:
        self._read = read
        self._buf = b""

    def take(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self._read()
            if not chunk:
                break
            self._buf += chunk
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def rest(self) -> bytes:
        out, self._buf = self._buf, b""
        return out or self._read()


def _copy_jpeg(read: Callable[[], bytes], write: Callable[[bytes], None]) -> None:
    """Copy a JPEG segment by segment, without GPS data and XMP; image data byte for byte."""
    stream = _Stream(read)
    if stream.take(2) != b"\xff\xd8":
        raise Rejected("Not a JPEG image.")
    write(b"\xff\xd8")
    while True:
        marker = stream.take(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            write(marker)
            break
        while marker[1] == 0xFF:  # fill bytes
            marker = b"\xff" + stream.take(1)
        code = marker[1]
        if code in (0xD8, 0x01) or 0xD0 <= code <= 0xD7:
            write(marker)
            continue
        if code in (0xDA, 0xD9):  # start of scan: the rest is image data
            write(marker)
            break
        length_bytes = stream.take(2)
        if len(length_bytes) < 2:
            raise Rejected("A damaged JPEG image.")
        (length,) = struct.unpack(">H", length_bytes)
        payload = stream.take(length - 2)
        if code == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            payload = _exif_without_gps(payload)
        elif code == 0xE1 and payload.startswith(b"http://ns.adobe.com/"):
            continue  # XMP may carry a location too
        write(marker + struct.pack(">H", len(payload) + 2) + payload)
    while chunk := stream.rest():
        write(chunk)


def _exif_without_gps(payload: bytes) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    try:
        exif.load(payload)
    except Exception:
        return b"Exif\x00\x00"  # unreadable EXIF: keep nothing of it
    if 0x8825 not in exif:
        return payload
    del exif[0x8825]
    return exif.tobytes()


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _copy_png(read: Callable[[], bytes], write: Callable[[bytes], None]) -> None:
    """Copy a PNG chunk by chunk, without eXIf and XMP text chunks."""
    stream = _Stream(read)
    if stream.take(8) != PNG_SIGNATURE:
        raise Rejected("Not a PNG image.")
    write(PNG_SIGNATURE)
    while True:
        header = stream.take(8)
        if len(header) < 8:
            write(header)
            break
        length, kind = struct.unpack(">I4s", header)
        drop = kind == b"eXIf"
        if kind in (b"iTXt", b"tEXt", b"zTXt"):
            peek = stream.take(min(length, 17))
            drop = peek.startswith(b"XML:com.adobe.xmp")
            rest_len = length - len(peek)
        else:
            peek, rest_len = b"", length
        if not drop:
            write(header + peek)
        remaining = rest_len + 4  # data and CRC
        while remaining > 0:
            part = stream.take(min(remaining, CHUNK))
            if not part:
                return
            remaining -= len(part)
            if not drop:
                write(part)
        if kind == b"IEND":
            break


def _strip_webp(path: Path) -> tuple[int, str]:
    """Rewrite a WebP without its EXIF and XMP chunks (if it has any); size and hash."""
    with open(path, "rb") as fh:
        header = fh.read(12)
        chunks: list[tuple[bytes, int, int]] = []  # fourcc, offset of data, size
        while True:
            head = fh.read(8)
            if len(head) < 8:
                break
            fourcc, size = struct.unpack("<4sI", head)
            chunks.append((fourcc, fh.tell(), size))
            fh.seek(size + (size & 1), io.SEEK_CUR)
    if header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        raise Rejected("Not a WebP image.")
    if any(c[0] in (b"EXIF", b"XMP ") for c in chunks):
        tmp = path.with_name(path.name + ".clean")
        with open(path, "rb") as src, open(tmp, "wb") as out:
            kept = [c for c in chunks if c[0] not in (b"EXIF", b"XMP ")]
            total = 4 + sum(8 + size + (size & 1) for _, _, size in kept)
            out.write(b"RIFF" + struct.pack("<I", total) + b"WEBP")
            for fourcc, offset, size in kept:
                src.seek(offset)
                out.write(struct.pack("<4sI", fourcc, size))
                remaining = size + (size & 1)
                first = True
                while remaining > 0:
                    body = src.read(min(remaining, CHUNK))
                    if not body:
                        break
                    if first and fourcc == b"VP8X" and body:
                        # clear the EXIF (0x08) and XMP (0x04) flags
                        body = bytes([body[0] & ~0x0C]) + body[1:]
                    first = False
                    remaining -= len(body)
                    out.write(body)
        tmp.replace(path)
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


@dataclass
class Thumbnail:
    path: Path | None
    content_type: str | None
    width: int
    height: int


def check_image(path: Path, thumb_path: Path) -> Thumbnail:
    """Decode an image (a file that only looks like one is refused) and write its thumbnail,
    without any metadata. Very large images get no thumbnail."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as img:
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                return Thumbnail(None, None, width, height)
            img.load()
            img.seek(0)
            shown = ImageOps.exif_transpose(img) or img
            shown.thumbnail(THUMBNAIL_SIZE)
            if shown.mode in ("RGBA", "LA", "P"):
                shown = shown.convert("RGBA")
                shown.save(thumb_path, format="PNG", optimize=True)
                kind = "image/png"
            else:
                shown = shown.convert("RGB")
                shown.save(thumb_path, format="JPEG", quality=80)
                kind = "image/jpeg"
            if img.getexif().get(0x0112) in (5, 6, 7, 8):  # shown turned by 90 degrees
                width, height = height, width
            return Thumbnail(thumb_path, kind, width, height)
    except Image.DecompressionBombError:
        return Thumbnail(None, None, 0, 0)
    except Exception as exc:
        raise Rejected("The image could not be read.") from exc


def file_sha256(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
