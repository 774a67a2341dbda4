"""A real HTTP receiver for webhooks and Web Push, run by the test on a free port."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.conftest import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int


Behaviour = Callable[["Receiver", web.Request, bytes], Awaitable[int]]


async def ok(_: Receiver, __: web.Request, ___: bytes) -> int:
    return 200


@dataclass
class Receiver:
    """Answers every POST with what `behaviour` returns, and keeps what it received."""

    behaviour: Behaviour = ok
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = await self.behaviour(self, request, body)
        self.received.append(Received(request.path, dict(request.headers), body,
                                      time.monotonic(), status))
        return web.Response(status=status)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait(self, path: str, count: int, wait: float = 20,
                   status: int | None = None) -> list[Received]:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            got = [r for r in self.on(path) if status is None or r.status == status]
            if len(got) >= count:
                return got
            await asyncio.sleep(0.05)
        return [r for r in self.on(path) if status is None or r.status == status]


async def running(behaviour: Behaviour = ok) -> Any:
    receiver = Receiver(behaviour)
    await receiver.start()
    return receiver
