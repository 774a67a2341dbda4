"""A load generator worker: `python -m bench.loadgen SPEC.json`, driven over stdin/stdout.

The coordinator (bench/scenarios.py) starts one worker per core's worth of clients, pinned
away from the server where the machine allows. A worker opens its share of WebSocket clients
(the `websockets` library), prints `READY {...}`, then obeys one command per stdin line and
answers each with `RESULT {json}`:

    STEP <rate> <seconds> <warmup>   messaging: send at <rate>/s, then drain; per-step figures
    GO                               ping: a `ping` frame every 10 ms until the next line;
                                     reconnect: wait for the server restart, reconnect with
                                     backoff and sync
    STOP                             close every socket and exit

Every message body starts with its send time (time.monotonic(), which is one clock for every
process on Linux), so each receiving member computes receive - send itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from typing import Any

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection

BENCH_PREFIX = "bx"
CONNECT_CONCURRENCY = 64


class Ev(msgspec.Struct):
    thread_id: str = ""
    seq: int = 0
    kind: str = ""
    actor_id: str | None = None
    body: str | None = None
    client_id: str | None = None


class Frame(msgspec.Struct):
    type: str
    client_id: str | None = None
    event: Ev | None = None
    code: str | None = None


decode = msgspec.json.Decoder(Frame).decode


def emit(tag: str, payload: Any = None) -> None:
    line = tag if payload is None else f"{tag} {json.dumps(payload, separators=(',', ':'))}"
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def read_command() -> list[str]:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line.split() or ["STOP"]


async def open_socket(ws_url: str, token: str, open_timeout: float = 30) -> ClientConnection:
    return await websockets.connect(
        ws_url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None,
        compression=None, ping_interval=None, open_timeout=open_timeout, close_timeout=2,
    )


async def connect_ready(ws_url: str, token: str) -> ClientConnection:
    conn = await open_socket(ws_url, token)
    first = decode(await asyncio.wait_for(conn.recv(), 30))
    if first.type != "ready":
        await conn.close()
        raise RuntimeError(f"expected ready, got {first.type} {first.code}")
    return conn


async def connect_all(ws_url: str, tokens: list[str], retries: int = 3
                      ) -> tuple[list[ClientConnection | None], int, float]:
    """Open every socket, a bounded number at a time; (sockets, failures, seconds).

    Prints `PROGRESS {"connected": n, "failed": f}` every second meanwhile, so a coordinator
    that gives up waiting still knows how far it got."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    start = time.monotonic()
    counts = {"connected": 0, "failed": 0}

    async def one(token: str) -> ClientConnection | None:
        for attempt in range(retries):
            async with gate:
                try:
                    conn = await connect_ready(ws_url, token)
                    counts["connected"] += 1
                    return conn
                except Exception:
                    if attempt == retries - 1:
                        counts["failed"] += 1
                        return None
            await asyncio.sleep(0.2 * (attempt + 1))
        return None

    async def report() -> None:
        while True:
            await asyncio.sleep(1)
            emit("PROGRESS", {**counts, "seconds": round(time.monotonic() - start, 1)})

    reporter = asyncio.create_task(report())
    try:
        conns = await asyncio.gather(*(one(t) for t in tokens))
    finally:
        reporter.cancel()
    return list(conns), sum(c is None for c in conns), time.monotonic() - start


# --- messaging -------------------------------------------------------------------------------


class Messaging:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.worker = spec["worker"]
        self.users: list[dict[str, Any]] = spec["users"]  # {id, token, sends: [thread ids]}
        self.check_order = spec.get("check_order", True)
        pad = max(0, spec.get("body_bytes", 100) - 20)
        self.pad = ("x" * pad)
        self.rng = random.Random(spec.get("seed", 0) + self.worker)
        self.conns: list[ClientConnection] = []
        self.step = 0
        self.cutoff = float("inf")
        self._reset()

    def _reset(self) -> None:
        self.sent: dict[str, tuple[float, str]] = {}
        self.acked = 0
        self.acked_ids: list[str] = []
        self.ack_lat: list[float] = []
        self.lat: list[float] = []
        self.echo = 0
        self.dups = 0
        self.order_errors = 0
        self.errors: Counter[str] = Counter()
        self.recv: Counter[str] = Counter()
        self.last_frame = time.monotonic()

    async def connect(self) -> dict[str, Any]:
        conns, failed, seconds = await connect_all(self.spec["ws_url"],
                                                   [u["token"] for u in self.users])
        if failed:
            raise RuntimeError(f"{failed} of {len(conns)} sockets failed to open")
        self.conns = [c for c in conns if c is not None]
        self.readers = [asyncio.create_task(self._read(i, c)) for i, c in enumerate(self.conns)]
        return {"connected": len(self.conns), "connect_seconds": round(seconds, 3)}

    async def _read(self, index: int, conn: ClientConnection) -> None:
        me = self.users[index]["id"]
        seen: set[str] = set()
        cursors: dict[str, int] = {}
        try:
            async for raw in conn:
                now = time.monotonic()
                frame = decode(raw)
                kind = frame.type
                if kind == "event":
                    ev = frame.event
                    assert ev is not None
                    if self.check_order:
                        last = cursors.get(ev.thread_id)
                        if last is not None and ev.seq != last + 1:
                            self.order_errors += 1
                        cursors[ev.thread_id] = max(ev.seq, last or 0)
                    cid = ev.client_id
                    if ev.kind != "message" or not cid or not cid.startswith(BENCH_PREFIX):
                        continue
                    self.last_frame = now
                    if cid in seen:
                        self.dups += 1
                        continue
                    seen.add(cid)
                    self.recv[cid] += 1
                    if ev.actor_id == me:
                        self.echo += 1
                        continue
                    body = ev.body or ""
                    sent_at = float(body[:body.index(" ")])
                    if sent_at >= self.cutoff:
                        self.lat.append(now - sent_at)
                elif kind == "ack":
                    self.last_frame = now
                    entry = self.sent.get(frame.client_id or "")
                    if entry is not None:
                        self.acked += 1
                        self.acked_ids.append(frame.client_id or "")
                        if entry[0] >= self.cutoff:
                            self.ack_lat.append(now - entry[0])
                elif kind == "error":
                    self.last_frame = now
                    self.errors[frame.code or "?"] += 1
        except websockets.ConnectionClosed:
            self.errors["socket_closed"] += 1

    async def run_step(self, rate: float, seconds: float, warmup: float) -> dict[str, Any]:
        self.step += 1
        self._reset()
        pairs = [(i, tid) for i, u in enumerate(self.users) for tid in u["sends"]]
        cpu0, t0 = time.process_time(), time.monotonic()
        self.cutoff = t0 + warmup
        end = t0 + seconds
        n = 0
        prefix = f"{BENCH_PREFIX}{self.worker}.{self.step}."
        behind = 0.0
        while pairs:
            now = time.monotonic()
            if now >= end:
                break
            due = int((now - t0) * rate) - n
            behind = max(behind, due / rate if rate else 0)
            for _ in range(due):
                index, thread_id = self.rng.choice(pairs)
                cid = prefix + str(n)
                n += 1
                sent_at = time.monotonic()
                self.sent[cid] = (sent_at, thread_id)
                try:
                    await self.conns[index].send(
                        '{"type":"send","thread_id":"' + thread_id + '","client_id":"' + cid
                        + '","body":"' + f"{sent_at:.6f} " + self.pad + '"}'
                    )
                except websockets.ConnectionClosed:
                    self.errors["send_on_closed_socket"] += 1
            await asyncio.sleep(0.002)
        send_wall = time.monotonic() - t0
        deadline = time.monotonic() + self.spec.get("drain_seconds", 10)
        settled = False
        while time.monotonic() < deadline:
            settled = self.acked + sum(self.errors.values()) >= len(self.sent)
            if settled and time.monotonic() - self.last_frame > 0.5:
                break
            await asyncio.sleep(0.05)
        return {
            "rate": rate, "seconds": seconds, "warmup": warmup, "sent": len(self.sent),
            "send_wall": round(send_wall, 3), "wall": round(time.monotonic() - t0, 3),
            "max_send_lag_s": round(behind, 4),
            "acked": self.acked, "acked_ids": self.acked_ids, "settled": settled,
            "errors": dict(self.errors), "echo": self.echo,
            "dups": self.dups, "order_errors": self.order_errors,
            "ack_ms": [round(x * 1000, 3) for x in self.ack_lat],
            "lat_ms": [round(x * 1000, 3) for x in self.lat],
            "sent_threads": {cid: tid for cid, (_, tid) in self.sent.items()},
            "recv": dict(self.recv),
            "cpu_seconds": round(time.process_time() - cpu0, 3),
        }

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*(c.close() for c in self.conns), return_exceptions=True)


async def run_messaging(spec: dict[str, Any]) -> None:
    bench = Messaging(spec)
    emit("READY", await bench.connect())
    while True:
        command = await read_command()
        if command[0] == "STEP":
            rate, seconds, warmup = (float(x) for x in command[1:4])
            emit("RESULT", await bench.run_step(rate, seconds, warmup))
        else:
            break
    await bench.close()


# --- idle ------------------------------------------------------------------------------------


async def run_idle(spec: dict[str, Any]) -> None:
    conns, failed, seconds = await connect_all(spec["ws_url"], spec["tokens"])
    emit("READY", {"connected": len(conns) - failed, "failed": failed,
                   "connect_seconds": round(seconds, 3)})
    await read_command()
    alive = sum(1 for c in conns if c is not None and c.close_code is None)
    await asyncio.gather(*(c.close() for c in conns if c is not None), return_exceptions=True)
    emit("RESULT", {"alive_at_end": alive})


# --- reconnect -------------------------------------------------------------------------------


Got = Counter[tuple[str, int]]


def _note(frame: Frame, cursors: dict[str, int], got: Got) -> None:
    if frame.type == "event" and frame.event is not None:
        ev = frame.event
        cursors[ev.thread_id] = max(cursors.get(ev.thread_id, 0), ev.seq)
        got[(ev.thread_id, ev.seq)] += 1


async def _sync(conn: ClientConnection, cursors: dict[str, int], got: Got) -> None:
    """Send one sync; note every event (thread, seq) that arrives before `synced`."""
    await conn.send(json.dumps({"type": "sync", "cursors": cursors}))
    while True:
        frame = decode(await asyncio.wait_for(conn.recv(), 60))
        if frame.type == "synced":
            return
        _note(frame, cursors, got)


async def run_reconnect(spec: dict[str, Any]) -> None:
    """Clients that hold cursors, lose the server, reconnect with backoff and sync.

    What counts is what each client holds at the end, by (thread, seq): every expected event
    once, nothing else. A sync only counts as final on the restarted server: the coordinator
    says `STOPPED <monotonic time>` once every old process has exited (and before it stores
    the messages the clients must fetch), so a connection that opened earlier went to an old
    worker still shutting down, which cannot have had those messages. Such a client reconnects
    once the old server is gone and syncs again from its cursors (every sync's events count,
    so a duplicate or a foreign event shows).
    """
    clients: list[dict[str, Any]] = spec["clients"]  # {token, cursors, expect: [thread ids]}
    conns, failed, seconds = await connect_all(spec["ws_url"], [c["token"] for c in clients])
    for client, conn in zip(clients, conns, strict=True):
        if conn is not None:
            await _sync(conn, client["cursors"], Counter())
    emit("READY", {"connected": len(conns) - failed, "failed": failed,
                   "connect_seconds": round(seconds, 3)})
    await read_command()  # GO: the coordinator restarts the server now
    deadline = time.monotonic() + spec.get("timeout", 120)
    base, cap = spec.get("backoff", 0.1), spec.get("backoff_cap", 1.0)
    rng = random.Random(os.getpid())
    gate = asyncio.Semaphore(spec.get("concurrency", 256))
    stopped = asyncio.Event()
    stopped_at = [float("inf")]

    async def commands() -> None:
        while True:
            command = await read_command()
            if command[0] == "STOPPED":
                stopped_at[0] = float(command[1])
                stopped.set()
                return
            if command[0] == "STOP":
                return

    listener = asyncio.create_task(commands())

    async def follow(client: dict[str, Any], conn: ClientConnection | None) -> dict[str, Any]:
        cursors: dict[str, int] = dict(client["cursors"])
        got: Got = Counter()
        if conn is not None:
            await conn.wait_closed()  # the old server closes it
        lost_at = time.monotonic()
        delay, attempts, early = base, 0, 0
        synced_at = None
        while time.monotonic() < deadline:
            await asyncio.sleep(rng.uniform(0, delay))  # full jitter
            attempts += 1
            try:
                async with gate:
                    fresh = await connect_ready(spec["ws_url"], client["token"])
                    opened_at = time.monotonic()
                    await _sync(fresh, cursors, got)
                done = time.monotonic()
                await fresh.close()
            except Exception:
                delay = min(delay * 2, cap)
                continue
            # Final only on the restarted server: wait until the old one is known to be gone.
            await stopped.wait()
            if opened_at > stopped_at[0]:
                synced_at = done
                break
            early += 1  # an old worker still shutting down answered: sync again, from cursors
            delay = base
        expected = {(tid, 2) for tid in client["expect"]}
        return {"lost_at": lost_at, "synced_at": synced_at, "attempts": attempts,
                "early_syncs": early, "events": sum(got.values()),
                "missing": len(expected - set(got)),
                "duplicates": sum(n - 1 for n in got.values() if n > 1),
                "unexpected": sum(n for key, n in got.items() if key not in expected)}

    outcomes = await asyncio.gather(*(follow(c, k) for c, k in zip(clients, conns, strict=True)))
    listener.cancel()
    emit("RESULT", {key: [o[key] for o in outcomes] for key in outcomes[0]} if outcomes else {})


# --- ping ------------------------------------------------------------------------------------


async def run_ping(spec: dict[str, Any]) -> None:
    """Application-level ping every `every` seconds: the server loop's answer delay.

    `GO` starts pinging; the next line on stdin ends it and the samples are reported."""
    conn = await connect_ready(spec["ws_url"], spec["token"])
    emit("READY", {})
    while True:
        command = await read_command()
        if command[0] != "GO":
            break
        every = spec.get("every", 0.01)
        samples: list[tuple[float, float]] = []
        ended = asyncio.ensure_future(read_command())
        while not ended.done():
            start = time.monotonic()
            await conn.send('{"type":"ping"}')
            while decode(await asyncio.wait_for(conn.recv(), 30)).type != "pong":
                pass
            now = time.monotonic()
            samples.append((round(start, 6), round((now - start) * 1000, 3)))
            await asyncio.sleep(max(0.0, every - (now - start)))
        emit("RESULT", {"samples": samples})
    await conn.close()


MODES = {"messaging": run_messaging, "idle": run_idle, "reconnect": run_reconnect,
         "ping": run_ping}


def main() -> None:
    with open(sys.argv[1]) as fh:
        spec = json.load(fh)
    if spec.get("cpus"):
        os.sched_setaffinity(0, spec["cpus"])
    asyncio.run(MODES[spec["mode"]](spec))


if __name__ == "__main__":
    main()
