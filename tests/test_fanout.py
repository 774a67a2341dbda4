"""Two server processes behind one PostgreSQL and one Redis: members on either process chat,
and a Redis outage loses nothing that was acknowledged."""

from __future__ import annotations

import asyncio

from tests.conftest import Backend, RedisProcess, Server, app_client, server_env
from tests.helpers import all_events, invite_staff, new_practice, new_thread
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event


async def test_members_on_two_processes_chat_and_survive_a_redis_restart(
    cluster_backend: Backend, own_redis: RedisProcess, mailbox: Mailbox
) -> None:
    first = Server(cluster_backend, server_env(cluster_backend, mailbox))
    first.start()
    second = Server(cluster_backend, server_env(cluster_backend, mailbox))
    second.start(migrate=False)
    try:
        async with app_client(first.url) as http:
            owner = await new_practice(http)
            provider = await invite_staff(http, mailbox, owner)
            colleague = await invite_staff(http, mailbox, owner)
            tid = await new_thread(http, owner, provider, colleague)
            people = [owner, provider, colleague]
            socks = [
                await Socket.ready(first.ws_url, owner.token),
                await Socket.ready(second.ws_url, provider.token),
                await Socket.ready(second.ws_url, colleague.token),
            ]
            acked: list[dict[str, object]] = []

            async def send_round(tag: str) -> None:
                for i, sock in enumerate(socks):
                    cid = f"{tag}-{i}"
                    await sock.send({"type": "send", "thread_id": tid, "client_id": cid,
                                     "body": f"{tag} from {people[i].id}"})
                    ack = await sock.until(lambda f, c=cid: f["type"] == "ack"
                                           and f["client_id"] == c)
                    acked.append(ack["event"])

            await send_round("before")
            for sock in socks:
                await sock.until(is_event(thread_id=tid, seq=4))

            own_redis.stop()
            await send_round("during")  # stored and acked while the bus is down
            await asyncio.sleep(1)
            own_redis.start()
            # With no new traffic, every member still receives what the outage hid.
            during = max(int(str(e["seq"])) for e in acked)
            for sock in socks:
                await sock.until(is_event(thread_id=tid, seq=during), wait=15)
            await send_round("after")

            last = max(int(str(e["seq"])) for e in acked)
            for sock in socks:  # no reconnect: the servers heal from storage on their own
                await sock.until(is_event(thread_id=tid, seq=last), wait=20)
                await sock.drain()
            stored = await all_events(http, owner, tid)
            assert [e["seq"] for e in stored] == list(range(1, last + 1))
            assert {str(e["id"]) for e in acked} <= {e["id"] for e in stored}
            for sock in socks:
                assert sock.seqs(tid) == list(range(2, last + 1))
                assert [e["id"] for e in sock.events(tid)] == [e["id"] for e in stored[1:]]
                await sock.close()
    finally:
        first.stop()
        second.stop()
