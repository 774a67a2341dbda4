"""Password hashing runs in separate, lower-priority processes: a flood of logins does not
stall other requests."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx

from tests.conftest import Server
from tests.helpers import login, new_practice


async def test_requests_are_served_while_fifty_logins_hash(
    http: httpx.AsyncClient, server: Server
) -> None:
    owner = await new_practice(http)
    assert owner.email
    started = time.monotonic()
    # The flood's own requests may queue a long time on a busy machine (the hashing is niced):
    # only the other requests' waits are measured.
    flood_client = httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=300)
    logins = [asyncio.create_task(login(flood_client, owner.email)) for _ in range(50)]
    waits: list[float] = []
    async with flood_client, httpx.AsyncClient(base_url=server.url, timeout=60) as other:
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


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat fields after the command name (index 0 = state)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    kids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return kids


async def test_the_hashing_runs_in_nicer_processes_than_the_server(
    http: httpx.AsyncClient, server: Server
) -> None:
    owner = await new_practice(http)
    assert owner.email and server.proc is not None
    results = await asyncio.gather(*(login(http, owner.email) for _ in range(8)))
    assert all(r.status_code == 201 for r in results)
    ticks = os.sysconf("SC_CLK_TCK")
    server_nice = int(_stat(server.proc.pid)[16])
    hashers = [(pid, int(s[16]), (int(s[11]) + int(s[12])) / ticks)
               for pid in _children(server.proc.pid) for s in [_stat(pid)]]
    nicer = [(pid, cpu) for pid, nice, cpu in hashers if nice >= server_nice + 10]
    # The CPU time of eight default argon2id verifications (and a sign-up) was spent there.
    assert nicer, hashers
    assert sum(cpu for _, cpu in nicer) > 0.2, hashers
