"""Shared steps for the 'reaching people away from the app' tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.helpers import Person

T = TypeVar("T")


class Clock:
    """The jobs' clock of the servers started with CLOCK_OFFSET_FILE=path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0.0
        path.write_text("0")

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self.path.write_text(str(self.offset))

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def later(self, seconds: float) -> str:
        return (self.now() + timedelta(seconds=seconds)).isoformat()


async def eventually(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool],
                     wait: float = 20, every: float = 0.1) -> T:
    """Poll until `done(value)`; return the last value either way (the test asserts on it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    value = await probe()
    while not done(value) and loop.time() < deadline:
        await asyncio.sleep(every)
        value = await probe()
    return value


async def schedule(http: httpx.AsyncClient, person: Person, thread_id: str, body: str,
                   send_at: str, client_id: str | None = None) -> httpx.Response:
    return await http.post(f"/threads/{thread_id}/messages",
                           json={"body": body, "client_id": client_id or uuid.uuid4().hex,
                                 "send_at": send_at}, headers=person.headers)


async def messages(http: httpx.AsyncClient, person: Person, thread_id: str
                   ) -> list[dict[str, Any]]:
    from tests.helpers import all_events

    # The welcome message (on by default) is the practice's, not part of these stories.
    return [e for e in await all_events(http, person, thread_id) if e["kind"] == "message"
            and not (e.get("data") or {}).get("automated")]
