"""A member's socket, as a mobile app would hold it: the `websockets` client, frames as dicts."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


class Socket:
    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.frames: list[dict[str, Any]] = []
        self._seen = 0
        self._claimed: set[int] = set()

    @classmethod
    async def open(cls, ws_url: str, token: str | None = None, **kwargs: Any) -> Socket:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers.update(kwargs.pop("headers", {}))
        conn = await websockets.connect(ws_url, additional_headers=headers,
                                        max_size=None, **kwargs)
        return cls(conn)

    @classmethod
    async def ready(cls, ws_url: str, token: str, **kwargs: Any) -> Socket:
        sock = await cls.open(ws_url, token, **kwargs)
        frame = await sock.next()
        assert frame["type"] == "ready", frame
        return sock

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.conn.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def next(self, wait: float = 10) -> dict[str, Any]:
        """The next frame in arrival order (frames read by until() included)."""
        if self._seen < len(self.frames):
            self._seen += 1
            return self.frames[self._seen - 1]
        raw = await asyncio.wait_for(self.conn.recv(), wait)
        frame = json.loads(raw)
        self.frames.append(frame)
        self._seen += 1
        return frame

    async def until(self, match: Callable[[dict[str, Any]], bool], wait: float = 10
                    ) -> dict[str, Any]:
        """The first frame, received earlier or arriving now, that matches and that no earlier
        `until` returned. Every frame is kept in `frames`."""
        deadline = time.monotonic() + wait
        index = 0
        while True:
            while index < len(self.frames):
                if index not in self._claimed and match(self.frames[index]):
                    self._claimed.add(index)
                    return self.frames[index]
                index += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching frame within {wait}s")
            raw = await asyncio.wait_for(self.conn.recv(), remaining)
            self.frames.append(json.loads(raw))

    async def drain(self, quiet: float = 0.3) -> None:
        """Read whatever arrives until the socket is quiet for `quiet` seconds."""
        while True:
            try:
                await self.next(quiet)
            except TimeoutError:
                return

    def events(self, thread_id: str | None = None) -> list[dict[str, Any]]:
        return [f["event"] for f in self.frames if f["type"] == "event"
                and (thread_id is None or f["event"]["thread_id"] == thread_id)]

    def seqs(self, thread_id: str) -> list[int]:
        return [e["seq"] for e in self.events(thread_id)]

    async def close(self) -> None:
        await self.conn.close()

    async def closed_with(self, wait: float = 10) -> int | None:
        """Wait for the server to close the socket; its close code."""
        try:
            async with asyncio.timeout(wait):
                while True:
                    raw = await self.conn.recv()
                    self.frames.append(json.loads(raw))
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None


def is_event(kind: str | None = None, thread_id: str | None = None, seq: int | None = None
             ) -> Callable[[dict[str, Any]], bool]:
    def match(frame: dict[str, Any]) -> bool:
        if frame["type"] != "event":
            return False
        event = frame["event"]
        return ((kind is None or event["kind"] == kind)
                and (thread_id is None or event["thread_id"] == thread_id)
                and (seq is None or event["seq"] == seq))
    return match
