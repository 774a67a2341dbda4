"""What the machine can do: a minimal fan-out server, `python -m bench.baseline`.

It speaks just enough of Carethread's WebSocket protocol for the same load generator (bearer
handshake, `ready`, `send` -> `ack` + `event` to every member, `sync` -> `synced`, `ping` ->
`pong`), and does the least a fan-out server can: no storage, no validation beyond JSON, each
event encoded once and published to every member's channel through Redis pub/sub, like
Carethread's bus, over the same two connections (`server/redis_pubsub.py`) and on the same
event loop (uvloop), so the comparison is of what the server does, not of how it talks to
Redis. Several processes share the port (SO_REUSEPORT). Users and threads come from a JSON
file: {"tokens": {token: user_id}, "threads": {thread_id: [user_id, ...]}}.

A listening connection that Redis drops (an overloaded subscriber passes Redis's output
buffer limit) is opened again: what was published meanwhile is lost, as the baseline stores
nothing, but later rates are measured on a working server (it used to stay deaf for the rest
of the run, so every step after its first overload lost thousands of messages).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import uuid
from collections import Counter
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import msgspec
import uvloop
from redis.asyncio import Redis
from server.redis_pubsub import Publisher, PubSubConnection
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

encode = msgspec.json.Encoder().encode
decode = msgspec.json.decode


class Fanout:
    def __init__(self, redis_url: str, namespace: str, auth: dict[str, Any]) -> None:
        self.redis = Redis.from_url(redis_url)
        self.listener = PubSubConnection(self.redis)
        self.publisher = Publisher(self.redis)
        # As in Carethread's bus: one task publishes what queued meanwhile, in one write.
        self.outbox: list[tuple[bytes, bytes]] = []
        self.queued = asyncio.Event()
        self.prefix = f"{namespace}:u."
        self.tokens: dict[str, str] = auth["tokens"]
        self.threads: dict[str, list[str]] = auth["threads"]
        self.local: dict[str, set[ServerConnection]] = {}
        self.seqs: Counter[str] = Counter()
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        await self.listener.connect()
        self.pump_task = asyncio.create_task(self.pump())
        self.publish_task = asyncio.create_task(self.publish_loop())

    async def publish_loop(self) -> None:
        while True:
            await self.queued.wait()
            self.queued.clear()
            batch, self.outbox = self.outbox, []
            with contextlib.suppress(Exception):  # lost: the baseline stores nothing
                await self.publisher.publish(batch)

    async def pump(self) -> None:
        start = len(self.prefix)
        while True:
            try:
                messages = await self.listener.messages()
            except Exception:  # any failure of the connection: open another
                await asyncio.sleep(0.05)
                with contextlib.suppress(Exception):
                    await self.listener.connect()
                continue
            for channel, data in messages:
                for conn in list(self.local.get(channel[start:], ())):
                    try:
                        await conn.send(data, text=True)
                    except Exception:
                        pass

    def health(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path == "/health":
            return connection.respond(HTTPStatus.OK, "ok\n")
        return None

    async def handler(self, conn: ServerConnection) -> None:
        header = conn.request.headers.get("Authorization", "") if conn.request else ""
        user = self.tokens.get(header.partition(" ")[2].strip())
        if user is None:
            await conn.send(encode({"type": "error", "code": "unauthenticated"}).decode())
            await conn.close(4401, "unauthenticated")
            return
        async with self.lock:
            first = user not in self.local
            self.local.setdefault(user, set()).add(conn)
            if first:
                await self.listener.subscribe([self.prefix + user])
        try:
            await conn.send(encode({"type": "ready", "user_id": user}).decode())
            async for raw in conn:
                await self.handle(conn, user, raw)
        except Exception:
            pass
        finally:
            async with self.lock:
                conns = self.local.get(user)
                if conns is not None:
                    conns.discard(conn)
                    if not conns:
                        del self.local[user]
                        await self.listener.unsubscribe([self.prefix + user])

    async def handle(self, conn: ServerConnection, user: str, raw: str | bytes) -> None:
        frame = decode(raw)
        kind = frame.get("type")
        if kind == "send":
            thread_id = frame["thread_id"]
            members = self.threads.get(thread_id)
            if members is None:
                await conn.send(encode({"type": "error", "code": "not_found",
                                        "client_id": frame.get("client_id")}).decode())
                return
            self.seqs[thread_id] += 1
            event = {
                "id": str(uuid.uuid4()), "thread_id": thread_id, "seq": self.seqs[thread_id],
                "kind": "message", "actor_id": user,
                "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "body": frame["body"], "client_id": frame["client_id"],
            }
            payload = encode({"type": "event", "event": event})  # encoded once
            self.outbox.extend(((self.prefix + member).encode(), payload) for member in members)
            self.queued.set()
            await conn.send(encode({"type": "ack", "client_id": frame["client_id"],
                                    "event": event}).decode())
        elif kind == "sync":
            await conn.send('{"type":"synced"}')
        elif kind == "ping":
            await conn.send('{"type":"pong"}')


async def amain(args: argparse.Namespace) -> None:
    with open(args.auth) as fh:
        auth = json.load(fh)
    fanout = Fanout(args.redis, args.namespace, auth)
    await fanout.start()
    async with serve(fanout.handler, args.host, args.port, reuse_port=True, compression=None,
                     max_size=65536, process_request=fanout.health, backlog=4096,
                     ping_interval=None):  # no keepalive closes under overload
        await asyncio.get_running_loop().create_future()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--auth", required=True)
    args = parser.parse_args()
    if os.environ.get("BENCH_CPUS"):
        os.sched_setaffinity(0, [int(c) for c in os.environ["BENCH_CPUS"].split(",")])
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(amain(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
