"""A minimal HTTP/1.1 keep-alive client on asyncio streams: no dependency beyond the stdlib.

Enough for JSON APIs on 127.0.0.1: Content-Length or chunked bodies, one request at a time.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class HttpError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Http:
    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        self.host, self.port, self.token = host, port, token
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
            self._reader = self._writer = None

    async def __aenter__(self) -> Http:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def request(self, method: str, path: str, body: Any = None,
                      token: str | None = None, expect: int | None = None) -> tuple[int, Any]:
        """(status, decoded JSON or None). With `expect`, another status raises HttpError."""
        for attempt in (1, 2):
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            try:
                status, payload = await self._exchange(method, path, body, token or self.token)
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()  # a dropped keep-alive connection: retry once on a new one
                if attempt == 2:
                    raise
        if expect is not None and status != expect:
            raise HttpError(status, payload)
        return status, payload

    async def _exchange(self, method: str, path: str, body: Any, token: str | None
                        ) -> tuple[int, Any]:
        assert self._reader is not None and self._writer is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                f"Content-Length: {len(data)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        if token:
            head.append(f"Authorization: Bearer {token}")
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await self._writer.drain()
        status_line = await self._reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while True:
            line = await self._reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            raw = b""
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self._reader.readexactly(size + 2)
                if size == 0:
                    break
                raw += chunk[:-2]
        else:
            raw = await self._reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        payload = json.loads(raw) if raw and "json" in headers.get("content-type", "") else None
        return status, payload


async def wait_healthy(host: str, port: int, timeout: float = 60) -> float:
    """Poll GET /health until it answers 200; the time it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        try:
            async with Http(host, port) as http:
                status, _ = await asyncio.wait_for(http.request("GET", "/health"), 2)
                if status == 200:
                    return loop.time() - start
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            pass
        if loop.time() - start > timeout:
            raise TimeoutError(f"no /health on {host}:{port} within {timeout}s")
        await asyncio.sleep(0.02)
