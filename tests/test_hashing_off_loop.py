"""Password hashing runs in worker threads: a flood of logins does not stall other requests."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.conftest import Server
from tests.helpers import login, new_practice


async def test_requests_are_served_while_fifty_logins_hash(
    http: httpx.AsyncClient, server: Server
) -> None:
    owner = await new_practice(http)
    assert owner.email
    started = time.monotonic()
    logins = [asyncio.create_task(login(http, owner.email)) for _ in range(50)]
    waits: list[float] = []
    async with httpx.AsyncClient(base_url=server.url) as other:
        while not all(task.done() for task in logins):
            sent = time.monotonic()
            assert (await other.get("/api/v1/me", headers=owner.headers)).status_code == 200
            waits.append(time.monotonic() - sent)
            await asyncio.sleep(0.05)
    flood = time.monotonic() - started
    assert all(task.result().status_code == 201 for task in logins)
    # Not a speed assertion but a shape one: on a loop blocked by hashing, a request waits
    # about as long as the flood; off the loop, it waits a small fraction of it.
    assert len(waits) >= 5
    assert max(waits) < flood / 5, (max(waits), flood)
