"""The bus is only the fast path: when it drops, delays or reorders publishes, every socket
still gets every event of its threads once, in order, filled from storage."""

from __future__ import annotations

import asyncio

from tests.conftest import app_client
from tests.helpers import all_events, invite_staff, new_practice, new_thread, say
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event

FAULTS = "drop=0.25,reorder=0.25,delay_ms=5,count=70,seed={seed}"


async def test_members_get_every_seq_once_in_order_when_the_bus_loses_and_reorders(
    start_server, mailbox: Mailbox
) -> None:
    srv = start_server(CARETHREAD_TEST_BUS_FAULTS=FAULTS.format(seed=11))
    async with app_client(srv.url) as http:
        owner = await new_practice(http)
        provider = await invite_staff(http, mailbox, owner)
        colleague = await invite_staff(http, mailbox, owner)
        first = await new_thread(http, owner, provider, colleague)
        second = await new_thread(http, owner, provider)
        socks = [await Socket.ready(srv.ws_url, p.token) for p in (owner, provider, colleague)]
        starts = {tid: max(e["seq"] for e in await all_events(http, owner, tid))
                  for tid in (first, second)}
        for sock in socks:
            await sock.send({"type": "sync", "cursors": dict(starts)})
            await sock.until(lambda f: f["type"] == "synced")

        async def chat(person, tid, tag: str) -> None:
            for i in range(20):
                await say(http, person, tid, f"{tag} {i}")

        # Three writers at once: the faulty bus sees ~60 publishes, most of them disturbed.
        await asyncio.gather(chat(owner, first, "a"), chat(provider, first, "b"),
                             chat(colleague, first, "c"), chat(owner, second, "d"))
        # Past the faults' budget, one clean event per thread lets every socket see its gap.
        last_first = (await say(http, colleague, first, "the end"))["seq"]
        last_second = (await say(http, provider, second, "the end"))["seq"]

        expected = {first: list(range(starts[first] + 1, last_first + 1)),
                    second: list(range(starts[second] + 1, last_second + 1))}
        for sock, threads in zip(socks, ([first, second], [first, second], [first]),
                                 strict=True):
            for tid in threads:
                await sock.until(is_event(thread_id=tid, seq=expected[tid][-1]), wait=20)
            await sock.drain(0.5)
            for tid in threads:
                assert sock.seqs(tid) == expected[tid]
            await sock.close()
