"""What one idle authenticated socket holds in the server: `python -m bench.sockmem`.

Runs Carethread in this process (uvicorn configured as `carethread serve` does, SQLite, the
in-memory bus) under tracemalloc, opens N sockets from a load generator process (so the
clients' memory is not counted), and compares snapshots before and after:

    python -m bench.sockmem --sockets 1000                  # top allocation sites per socket
    python -m bench.sockmem --sockets 1000 --ws wsproto     # another uvicorn WebSocket protocol
    python -m bench.sockmem --sockets 1000 --ws websockets-sansio   # uvicorn's stock protocol
                                         # (default: server/ws/protocol.py, as `carethread serve`)

Prints the Python heap per socket (tracemalloc), RSS per socket, tasks per socket and the
allocation sites that grew most, each per socket; --json writes the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

FRAMES = 12


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sockmem", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--ws", default=None, help="uvicorn ws protocol (default: as serving.py)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--no-trace", action="store_true",
                        help="RSS and tasks only (tracemalloc itself costs memory and time)")
    return parser.parse_args(argv)


def rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="ct-sockmem-"))
    os.environ.update({
        "DATABASE_URL": f"sqlite:///{workdir / 'carethread.db'}",
        "SECRET_KEY": secrets.token_urlsafe(40), "LOG_LEVEL": "WARNING",
        "WS_MESSAGES_PER_SECOND": "100000", "WS_BURST": "100000",
    })
    os.environ.pop("REDIS_URL", None)
    import uvicorn
    from server import db, serving
    from server.settings import get_settings

    from bench.cli import create_owner
    from bench.fixtures import insert_users, open_store, plan_users
    from bench.generator import Workers
    from bench.servers import HOST, free_port

    settings = get_settings()
    await db.migrate(settings)
    port = free_port()
    kwargs: dict[str, Any] = {}
    if args.ws:
        kwargs["ws"] = args.ws
    config = serving.TCPConfig("server.app:create_app", factory=True, host=HOST, port=port,
                               ws_max_size=settings.max_frame_bytes,
                               ws_per_message_deflate=False, log_level="warning",
                               access_log=False, lifespan="on", **kwargs)
    server = uvicorn.Server(config)
    serving_task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    org_id, _ = await create_owner(port)
    users = plan_users(args.sockets, "idle")
    store = await open_store(os.environ["DATABASE_URL"])
    await insert_users(store, org_id, users)
    await store.close()
    # Warm up every code path once (first socket, first query) before the baseline snapshot.
    warm = Workers([{"mode": "idle", "ws_url": f"ws://{HOST}:{port}/api/v1/ws",
                     "tokens": [users[0].token]}], workdir, None, "warm")
    await warm.start()
    await warm.command("STOP")
    await warm.stop()
    await asyncio.sleep(0.5)

    gc.collect()
    tasks_before = len(asyncio.all_tasks())
    rss_before = rss()
    if not args.no_trace:  # from here on only: tracing the imports would take minutes
        tracemalloc.start(FRAMES)
    before = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
    workers = Workers([{"mode": "idle", "ws_url": f"ws://{HOST}:{port}/api/v1/ws",
                        "tokens": [u.token for u in users[1:]]}], workdir, None, "sockmem")
    ready = await workers.start()
    connected = sum(r["connected"] for r in ready)
    await asyncio.sleep(2)
    gc.collect()
    tasks_after = len(asyncio.all_tasks())
    rss_after = rss()
    after = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
    await workers.command("STOP")
    await workers.stop()
    server.should_exit = True
    await serving_task

    out: dict[str, Any] = {
        "sockets": connected, "ws_protocol": args.ws or "auto (as carethread serve)",
        "rss_kb_per_socket": round((rss_after - rss_before) / max(1, connected) / 1000, 1),
        "tasks_per_socket": round((tasks_after - tasks_before) / max(1, connected), 2),
        "python": sys.version.split()[0], "traced": before is not None,
    }
    if before is not None and after is not None:
        ignore = [tracemalloc.Filter(False, tracemalloc.__file__),
                  tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
        diff = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
        grown = sum(d.size_diff for d in diff)
        out["python_heap_kb_per_socket"] = round(grown / max(1, connected) / 1000, 2)
        by_file = after.filter_traces(ignore).compare_to(before.filter_traces(ignore),
                                                          "filename")
        out["by_file_bytes_per_socket"] = [
            {"file": _short(str(d.traceback[0].filename)),
             "bytes": round(d.size_diff / max(1, connected)),
             "blocks": round(d.count_diff / max(1, connected), 2)}
            for d in by_file[:args.top] if d.size_diff > 0]
        out["top_lines_bytes_per_socket"] = [
            {"where": f"{_short(d.traceback[0].filename)}:{d.traceback[0].lineno}",
             "bytes": round(d.size_diff / max(1, connected)),
             "blocks": round(d.count_diff / max(1, connected), 2)}
            for d in diff[:args.top] if d.size_diff > 0]
    return out


def _short(path: str) -> str:
    for marker in ("site-packages/", "lib/python3.11/", "/hbench/", "/carethread/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    out = asyncio.run(measure(args))
    out["seconds"] = round(time.monotonic() - started, 1)
    print(f"{out['sockets']} idle authenticated sockets, ws={out['ws_protocol']}: "
          f"RSS {out['rss_kb_per_socket']} kB/socket, {out['tasks_per_socket']} tasks/socket"
          + (f", Python heap {out['python_heap_kb_per_socket']} kB/socket (tracemalloc)"
             if "python_heap_kb_per_socket" in out else ""))
    for row in out.get("by_file_bytes_per_socket", []):
        print(f"  {row['bytes']:>7} B  {row['blocks']:>6} blocks  {row['file']}")
    print("  top lines:")
    for row in out.get("top_lines_bytes_per_socket", []):
        print(f"  {row['bytes']:>7} B  {row['blocks']:>6} blocks  {row['where']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
