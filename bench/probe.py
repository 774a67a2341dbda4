"""`python -m bench.probe`: time plain HTTP requests on one keep-alive connection.

Starts a Carethread server on PostgreSQL (a fresh database, dropped after), creates a practice
and a thread, and prints the p50 of GET /health, /api/v1/me, /api/v1/threads and a history page.
It is how the `--workers 2` TCP_NODELAY delay was found (see bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from pathlib import Path

from bench.cli import create_owner
from bench.fixtures import ThreadPlan, insert_threads, open_store
from bench.http import Http
from bench.servers import ROOT, Backing, CarethreadServer, Config


async def probe(args: argparse.Namespace) -> None:
    config = Config("probe", "", args.workers, True, args.redis)
    backing = Backing(config, ROOT / "bench" / "results" / "probe", args.postgres_url,
                      args.redis_url)
    await backing.create()
    server = CarethreadServer(backing, args.workers, server_root=args.server_root,
                              extra_env=dict(e.split("=", 1) for e in args.server_env))
    try:
        await server.start()
        org_id, owner = await create_owner(server.port)
        store = await open_store(backing.database_url)
        thread = ThreadPlan(id=str(uuid.uuid4()), members=[0])
        await insert_threads(store, org_id, [owner], [thread])
        await store.close()
        async with Http("127.0.0.1", server.port, owner.token) as http:
            for path in ["/health", "/api/v1/me", "/api/v1/threads",
                         f"/api/v1/threads/{thread.id}/events?limit=50"]:
                samples = []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    await http.request("GET", path, expect=200)
                    samples.append((time.perf_counter() - start) * 1000)
                samples.sort()
                print(f"workers={args.workers} redis={args.redis} {path.split('?')[0][:40]:40} "
                      f"p50 {samples[len(samples) // 2]:.1f} ms")
    finally:
        await server.stop()
        await backing.drop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.probe")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--server-root", type=Path, default=ROOT)
    parser.add_argument("--server-env", action="append", default=[])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    asyncio.run(probe(parser.parse_args()))


if __name__ == "__main__":
    main()
