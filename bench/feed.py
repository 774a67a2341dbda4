"""`python -m bench.feed`: the provider's newsfeed at realistic size, on both configurations.

A practice where one provider has 500 clients with 100,000 feed entries between them (metrics,
journal entries, forms), beside a second provider with 100 clients and 20,000 entries of their
own (so the first provider's feed has to leave those out). Rows are written straight into the
database, as the services write them (thread event + feed row per activity); what is measured is
`GET /api/v1/feed` over HTTP: the first page, the next page (its cursor), a page deep in the
feed, and the owner's whole-practice first page. Figures, not assertions.

    python -m bench.feed            500 clients, 100,000 entries, 300 requests per figure
    python -m bench.feed --quick    100 clients, 10,000 entries, 100 requests
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from server.feed.service import position_of

from bench.cli import create_owner
from bench.fixtures import User, insert_users, open_store, plan_users
from bench.http import Http
from bench.scenarios import summary
from bench.servers import CONFIGS, HOST, ROOT, Backing, CarethreadServer

KINDS = [("metric", "metric.logged"), ("journal", "journal.entry"), ("form", "form.completed")]


async def seed(store: Any, org_id: str, provider: User, clients: list[User], entries: int,
               rng: random.Random, start: datetime) -> None:
    """Clients with care threads, and `entries` activities spread over 90 days."""
    stamp = datetime.now(UTC)
    threads = {c.id: str(uuid.uuid4()) for c in clients}
    await store.executemany(
        "INSERT INTO thread (id, organization, title, kind, last_seq, created_by, created_at) "
        "VALUES (?, ?, NULL, 'care', 0, NULL, ?)",
        [(threads[c.id], org_id, stamp) for c in clients])
    await store.executemany(
        "INSERT INTO client (id, organization, primary_provider, care_thread, invite_state, "
        "created_at) VALUES (?, ?, ?, ?, 'accepted', ?)",
        [(c.id, org_id, provider.id, threads[c.id], stamp) for c in clients])
    seqs = dict.fromkeys(threads.values(), 0)
    span = 90 * 86400
    moments = sorted(rng.random() * span for _ in range(entries))
    batch_events: list[tuple[Any, ...]] = []
    batch_feed: list[tuple[Any, ...]] = []

    async def flush() -> None:
        await store.executemany(
            "INSERT INTO thread_event (id, thread, seq, kind, actor, body, data, client_id, "
            "audience, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?, NULL, 'all', ?)",
            batch_events)
        await store.executemany(
            "INSERT INTO feed_item (id, organization, client, category, event, actor, position, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch_feed)
        batch_events.clear()
        batch_feed.clear()

    for offset in moments:
        client = rng.choice(clients)
        thread = threads[client.id]
        seqs[thread] += 1
        category, kind = rng.choices(KINDS, weights=[6, 3, 1])[0]
        when = start + timedelta(seconds=offset)
        event_id = str(uuid.uuid4())
        data = {"type": "mood", "value": rng.randint(1, 5), "unit": "{score}",
                "client_id": client.id} if category == "metric" else {
            "kind": "food", "text": "Oatmeal and berries", "client_id": client.id}
        batch_events.append((event_id, thread, seqs[thread], kind, client.id, json.dumps(data),
                             when))
        batch_feed.append((str(uuid.uuid4()), org_id, client.id, category, event_id, client.id,
                           position_of(when), when))
        if len(batch_events) >= 5000:
            await flush()
    if batch_events:
        await flush()
    await store.executemany("UPDATE thread SET last_seq = ? WHERE id = ?",
                            [(seq, tid) for tid, seq in seqs.items()])


async def measure(port: int, token: str, path_of: Any, repeats: int) -> dict[str, Any]:
    """Latency (ms) of `repeats` sequential requests; `path_of(i)` names each one."""
    times: list[float] = []
    async with Http(HOST, port, token) as http:
        for i in range(min(10, repeats)):  # warm-up
            await http.request("GET", path_of(i), expect=200)
        for i in range(repeats):
            began = time.perf_counter()
            await http.request("GET", path_of(i), expect=200)
            times.append((time.perf_counter() - began) * 1000)
    return summary(times)


async def run_config(name: str, clients: int, entries: int, repeats: int, workdir: Path,
                     postgres_url: str, redis_url: str, keep: bool = False) -> dict[str, Any]:
    config = CONFIGS[name]
    backing = Backing(config, workdir / name, postgres_url, redis_url)
    await backing.create()
    server = CarethreadServer(backing, workers=1, server_root=ROOT)
    result: dict[str, Any] = {"config": name, "description": config.description}
    try:
        await server.start()
        org_id, owner = await create_owner(server.port)
        rng = random.Random(15)
        provider, other = plan_users(2, f"prov-{name}", roles=("provider",))
        mine = plan_users(clients, f"client-{name}", roles=("client",))
        theirs = plan_users(max(1, clients // 5), f"other-{name}", roles=("client",))
        store = await open_store(backing.database_url)
        began = time.monotonic()
        try:
            await insert_users(store, org_id, [provider, other, *mine, *theirs])
            start = datetime.now(UTC) - timedelta(days=91)
            await seed(store, org_id, provider, mine, entries, rng, start)
            await seed(store, org_id, other, theirs, max(1, entries // 5), rng, start)
            await store.execute("ANALYZE")
        finally:
            await store.close()
        result["seed_seconds"] = round(time.monotonic() - began, 1)
        result["clients"], result["entries"] = clients, entries
        result["noise"] = {"clients": len(theirs), "entries": max(1, entries // 5)}

        async with Http(HOST, server.port, provider.token) as http:
            _, first = await http.request("GET", "/api/v1/feed?limit=30", expect=200)
            assert len(first["items"]) == 30, first
            assert all(i["client_id"] in {c.id for c in mine} for i in first["items"])
            cursor = first["next_cursor"]
            deep = cursor
            for _ in range(50):  # a page 50 pages (1,500 items) down
                _, page = await http.request(
                    "GET", f"/api/v1/feed?limit=30&cursor={deep}", expect=200)
                deep = page["next_cursor"]
        # The floor on this machine: an authenticated request that reads one row.
        result["me_ms"] = await measure(server.port, provider.token, lambda i: "/api/v1/me",
                                        repeats)
        result["first_page_ms"] = await measure(
            server.port, provider.token, lambda i: "/api/v1/feed?limit=30", repeats)
        result["next_page_ms"] = await measure(
            server.port, provider.token, lambda i: f"/api/v1/feed?limit=30&cursor={cursor}",
            repeats)
        result["deep_page_ms"] = await measure(
            server.port, provider.token, lambda i: f"/api/v1/feed?limit=30&cursor={deep}",
            repeats)
        result["metric_filter_first_page_ms"] = await measure(
            server.port, provider.token, lambda i: "/api/v1/feed?limit=30&kind=form", repeats)
        result["owner_first_page_ms"] = await measure(
            server.port, owner.token, lambda i: "/api/v1/feed?limit=30", repeats)
    finally:
        await server.stop()
        if keep:
            print(f"kept {backing.database_url}; provider token {provider.token}")
        else:
            await backing.drop()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feed", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--configs", default="embedded,pg_redis")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--keep", action="store_true", help="keep the databases (to study)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "feed.json"))
    args = parser.parse_args(argv)
    clients, entries, repeats = (100, 10_000, 100) if args.quick else (500, 100_000, 300)

    async def run() -> list[dict[str, Any]]:
        results = []
        tmp = tempfile.mkdtemp(prefix="ctbench-feed-")
        try:
            for name in args.configs.split(","):
                results.append(await run_config(name, clients, entries, repeats, Path(tmp),
                                                args.postgres, args.redis, args.keep))
        finally:
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
        return results

    results = asyncio.run(run())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"when": datetime.now(UTC).isoformat(), "results": results},
                              indent=2))
    print(f"{'config':<10} {'figure':<28} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for r in results:
        for key in ("me_ms", "first_page_ms", "next_page_ms", "deep_page_ms",
                    "metric_filter_first_page_ms", "owner_first_page_ms"):
            s = r[key]
            print(f"{r['config']:<10} {key:<28} {s['p50']:>8} {s['p99']:>8} {s['max']:>8}")
    print(f"(seeding: {', '.join(str(r['seed_seconds']) + ' s' for r in results)}; "
          f"{clients} clients, {entries} entries; written to {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
