"""A broadcast to thousands of clients: time to the last event, and chat latency meanwhile.

    .venv/bin/python -m bench.broadcast                      # 5,000 clients, SQLite (embedded)
    .venv/bin/python -m bench.broadcast --config pg_redis    # PostgreSQL + Redis, 2 processes
    .venv/bin/python -m bench.broadcast --clients 500        # quicker

A practice imports N clients into one group (the owner is everyone's primary provider, so the
owner's socket receives every care thread's events). A bot and the owner chat in a thread of
their own: the bot sends `--chat-rate` messages a second over its socket and the owner's socket
times each one's arrival. Chat latency is measured for a few seconds before the broadcast, then
while the broadcast goes out. Figures go to stdout and `bench/results/broadcast-<config>.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import connect_ready
from bench.scenarios import summary
from bench.servers import CONFIGS, HOST, Backing, CarethreadServer

ROOT = Path(__file__).resolve().parent.parent


class Owner:
    """The owner's socket: counts broadcast messages and times chat messages."""

    def __init__(self) -> None:
        self.broadcast_events = 0
        self.last_broadcast_at = 0.0
        self.chat_seen: dict[str, float] = {}

    async def read(self, conn: Any) -> None:
        async for raw in conn:
            frame = json.loads(raw)
            if frame.get("type") != "event":
                continue
            event = frame["event"]
            if event.get("kind") != "message":
                continue
            if (event.get("data") or {}).get("broadcast_id"):
                self.broadcast_events += 1
                self.last_broadcast_at = time.monotonic()
            elif event.get("client_id"):
                self.chat_seen.setdefault(event["client_id"], time.monotonic())


async def chat(bot_conn: Any, thread_id: str, rate: float, seconds: float,
               sent: dict[str, float]) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        client_id = uuid.uuid4().hex
        sent[client_id] = time.monotonic()
        await bot_conn.send(json.dumps({"type": "send", "thread_id": thread_id,
                                        "client_id": client_id, "body": "ping"}))
        await asyncio.sleep(1 / rate)


def latencies(sent: dict[str, float], seen: dict[str, float]) -> dict[str, Any]:
    values = [(seen[c] - t) * 1000 for c, t in sent.items() if c in seen]
    figures = summary(values)
    figures["lost"] = len(sent) - len(values)
    return figures


async def run(args: argparse.Namespace) -> dict[str, Any]:
    config = CONFIGS[args.config]
    workdir = Path(tempfile.mkdtemp(prefix="ct-broadcast-"))
    backing = Backing(config, workdir, args.postgres_url, args.redis_url)
    await backing.create()
    server = CarethreadServer(backing, config.workers, extra_env={
        "SCHEDULED_POLL_SECONDS": "0.5", "NOTIFY_DELAY_SECONDS": "31536000",
        "PASSWORD_HASH_CONCURRENCY": "1"})
    await server.start()
    base = f"http://{HOST}:{server.port}/api/v1"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=600) as http:
            made = (await http.post("/organizations", json={
                "name": "Bench Practice", "owner": {"name": "Olive Owner",
                                                    "email": f"o-{uuid.uuid4().hex[:8]}@ex.org",
                                                    "password": "bench password 1"}})).json()
            token = made["token"]
            auth = {"Authorization": f"Bearer {token}"}
            group = (await http.post("/groups", json={"name": "Everyone"}, headers=auth)
                     ).json()["group"]
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["name", "group"])
            for i in range(args.clients):
                writer.writerow([f"Client {i:05d}", "Everyone"])
            t0 = time.monotonic()
            resp = await http.post("/clients/import?dry_run=false", content=out.getvalue(),
                                   headers={**auth, "Content-Type": "text/csv"})
            assert resp.status_code == 201, resp.text[:500]
            import_s = time.monotonic() - t0
            bot = (await http.post("/bots", json={"name": "Chatter"}, headers=auth)).json()
            thread = (await http.post("/threads", json={"member_ids": [bot["user"]["id"]]},
                                      headers=auth)).json()["thread"]

            owner = Owner()
            owner_conn = await connect_ready(server.ws_url, token)
            bot_conn = await connect_ready(server.ws_url, bot["token"])
            reader = asyncio.create_task(owner.read(owner_conn))
            drain = asyncio.create_task(_drain(bot_conn))

            before: dict[str, float] = {}
            await chat(bot_conn, thread["id"], args.chat_rate, args.warmup, before)
            await asyncio.sleep(1)

            during: dict[str, float] = {}
            t0 = time.monotonic()
            resp = await http.post("/broadcasts", json={
                "body": "Hello {client_first_name}, news from {practice_name}.",
                "group_id": group["id"]}, headers=auth)
            post_ms = (time.monotonic() - t0) * 1000
            assert resp.status_code == 201, resp.text
            broadcast = resp.json()["broadcast"]
            chatter = asyncio.create_task(chat(bot_conn, thread["id"], args.chat_rate,
                                               args.timeout, during))
            deadline = t0 + args.timeout
            while owner.broadcast_events < args.clients and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            last_event_s = (owner.last_broadcast_at or time.monotonic()) - t0
            chatter.cancel()
            done_s = None
            while time.monotonic() < deadline:
                state = (await http.get(f"/broadcasts/{broadcast['id']}", headers=auth)
                         ).json()["broadcast"]
                if state["status"] == "done":
                    done_s = time.monotonic() - t0
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(1)
            reader.cancel()
            drain.cancel()
            await owner_conn.close()
            await bot_conn.close()
            return {
                "config": config.name, "clients": args.clients, "import_s": round(import_s, 2),
                "post_broadcast_ms": round(post_ms, 1),
                "events_received": owner.broadcast_events,
                "time_to_last_event_s": round(last_event_s, 2),
                "time_to_done_s": round(done_s, 2) if done_s is not None else None,
                "events_per_s": round(owner.broadcast_events / last_event_s, 1)
                if last_event_s > 0 else None,
                "chat_latency_ms_before": latencies(before, owner.chat_seen),
                "chat_latency_ms_during": latencies(
                    {c: t for c, t in during.items() if t <= t0 + last_event_s},
                    owner.chat_seen),
                "chat_rate_per_s": args.chat_rate,
            }
    finally:
        await server.stop()
        await backing.drop()


async def _drain(conn: Any) -> None:
    async for _ in conn:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", choices=sorted(CONFIGS), default="embedded")
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--chat-rate", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get(
        "BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args))
    out = ROOT / "bench" / "results" / f"broadcast-{args.config}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
