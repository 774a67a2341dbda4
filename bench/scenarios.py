"""The measurements: each takes a running target (Carethread or the baseline) and returns figures.

Latencies are in milliseconds, rates per second, memory in MB (10^6 bytes).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import websockets

from bench import procstat
from bench.fixtures import Store, ThreadPlan, User, append_messages
from bench.generator import Workers
from bench.http import Http
from bench.loadgen import connect_ready
from bench.servers import HOST

MB = 1_000_000


def pct(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of unsorted values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 3)


def summary(values: Sequence[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": pct(values, 50), "p99": pct(values, 99),
            "max": round(max(values), 3) if values else None}


def cpu_groups(target: Any, workers: Workers | None, external: bool) -> dict[str, list[int]]:
    groups = {"server": target.all_pids()}
    if hasattr(target, "hasher_pids"):
        groups["password_hashers"] = target.hasher_pids()
    if workers is not None:
        groups["generator"] = workers.pids
    if external:
        groups["postgres"] = procstat.postgres_pids(getattr(
            getattr(target, "backing", None), "db_name", None))
        groups["redis"] = procstat.pids_named("redis-server")
    return groups


def split(items: Sequence[Any], parts: int) -> list[list[Any]]:
    return [list(items[i::parts]) for i in range(parts)]


# --- messaging ---------------------------------------------------------------------------


class Messaging:
    """N members' sockets spread over generator processes; steps at offered rates."""

    def __init__(self, target: Any, users: Sequence[User], plans: Sequence[ThreadPlan],
                 procs: int, cpus: list[int] | None, workdir: Path, name: str,
                 check_order: bool = True, body_bytes: int = 100, external: bool = False
                 ) -> None:
        self.target = target
        self.plans = plans
        self.members = {p.id: len(p.members) for p in plans}
        self.external = external
        entries = [{"id": u.id, "token": u.token, "sends": [plans[t].id for t in u.threads]}
                   for u in users]
        specs = [{"mode": "messaging", "worker": i, "ws_url": target.ws_url, "users": part,
                  "check_order": check_order, "body_bytes": body_bytes, "seed": 7}
                 for i, part in enumerate(split(entries, procs))]
        self.workers = Workers(specs, workdir, cpus, name)

    async def start(self) -> dict[str, Any]:
        ready = await self.workers.start()
        return {"connected": sum(r["connected"] for r in ready),
                "connect_seconds": max(r["connect_seconds"] for r in ready)}

    async def step(self, rate: float, seconds: float, warmup: float,
                   during: Any = None) -> dict[str, Any]:
        meter = procstat.CpuMeter(cpu_groups(self.target, self.workers, self.external))
        meter.start()
        rss_before = self.target.rss()
        command = f"STEP {rate / len(self.workers.procs)} {seconds} {warmup}"
        if during is None:
            results = await self.workers.command(command)
        else:
            results, _ = await asyncio.gather(self.workers.command(command), during())
        cpu = meter.stop()
        lat = [x for r in results for x in r["lat_ms"]]
        ack = [x for r in results for x in r["ack_ms"]]
        recv: dict[str, int] = {}
        for r in results:
            for cid, n in r["recv"].items():
                recv[cid] = recv.get(cid, 0) + n
        sent = {cid: tid for r in results for cid, tid in r["sent_threads"].items()}
        expected = sum(self.members[tid] for tid in sent.values())
        # Only acked (stored) messages must reach every member; a message still unacked when
        # the drain deadline passed is late, not lost.
        acked_ids = {cid for r in results for cid in r["acked_ids"]}
        missing = sum(max(0, self.members[sent[cid]] - recv.get(cid, 0)) for cid in acked_ids
                      if cid in sent)
        settled = all(r["settled"] for r in results)
        # Unsettled (the server still had a backlog at the deadline): acked messages may still
        # be on their way, so what is missing is late, not known to be lost.
        lost = missing if settled else None
        delivered = sum(min(recv.get(cid, 0), self.members[tid]) for cid, tid in sent.items())
        send_wall = max(r["send_wall"] for r in results)
        errors: dict[str, int] = {}
        for r in results:
            for code, n in r["errors"].items():
                errors[code] = errors.get(code, 0) + n
        return {
            "offered_rate": rate,
            "seconds": seconds,
            "warmup": warmup,
            "sent": len(sent),
            "achieved_send_rate": round(len(sent) / send_wall, 1) if send_wall else None,
            "max_generator_send_lag_ms": round(
                1000 * max(r["max_send_lag_s"] for r in results), 1),
            "acked": sum(r["acked"] for r in results),
            "errors": errors,
            "expected_deliveries": expected,
            "delivered": delivered,
            "delivered_per_s": round(delivered / send_wall, 1) if send_wall else None,
            "recipients_per_message": round(
                sum(self.members[t] - 1 for t in sent.values()) / max(1, len(sent)), 2),
            "lost": lost,
            "acked_undelivered_at_deadline": None if settled else missing,
            "unacked_at_deadline": len(sent) - len(acked_ids) - sum(errors.values()),
            "settled": settled,
            "duplicates": sum(r["dups"] for r in results),
            "order_errors": sum(r["order_errors"] for r in results),
            "delivery_ms": summary(lat),
            "ack_ms": summary(ack),
            "cpu_pct_of_one_core": cpu,
            "generator_cpu_seconds": round(sum(r["cpu_seconds"] for r in results), 2),
            "server_rss_mb": round(self.target.rss() / MB, 1),
            "server_rss_mb_before": round(rss_before / MB, 1),
        }

    async def stop(self) -> None:
        await self.workers.stop()


def held(step: dict[str, Any], p99_limit: float) -> bool:
    """A step held when nothing was lost and p99 stayed under the limit."""
    p99 = step["delivery_ms"]["p99"]
    return (p99 is not None and p99 <= p99_limit and step["lost"] == 0
            and step["duplicates"] == 0 and not step["errors"]
            and step["acked"] == step["sent"] and step["settled"]
            and (step["achieved_send_rate"] or 0) >= 0.95 * step["offered_rate"])


async def find_knee(run: Messaging, start_rate: float, seconds: float, warmup: float,
                    p99_limit: float = 100, factor: float = 1.4, max_rate: float = 50_000,
                    log: Any = print, refine: int = 0) -> dict[str, Any]:
    """Raise the offered rate until p99 delivery passes the limit; the highest rate that held.
    With `refine`, then bisect that many times between it and the first rate that failed."""
    steps = []
    rate = start_rate
    best = None
    going_down = False
    while 5 <= rate <= max_rate:
        step = await run.step(rate, seconds, warmup)
        ok = held(step, p99_limit)
        step["held"] = ok
        steps.append(step)
        log(f"    knee: R={rate:.0f}/s p50={step['delivery_ms']['p50']} "
            f"p99={step['delivery_ms']['p99']} lost={step['lost']} "
            f"late={step['unacked_at_deadline']} "
            f"achieved={step['achieved_send_rate']} {'held' if ok else 'FAILED'}")
        if ok and going_down:
            best = rate  # the first rate that holds on the way down
            break
        if not ok:
            if best is not None:
                break
            going_down = True  # even the start failed: look below it
            rate = round(rate / 2)
            await quiesce(run.target)  # let the backlog of the failed step go
            continue
        best = rate
        rate = round(rate * factor, -1)
    failed = min((s["offered_rate"] for s in steps
                  if not s["held"] and best is not None and s["offered_rate"] > best),
                 default=None)
    for _ in range(refine):
        if best is None or failed is None or failed - best < 20:
            break
        await quiesce(run.target)
        rate = round((best + failed) / 2, -1)
        step = await run.step(rate, seconds, warmup)
        step["held"] = ok = held(step, p99_limit)
        steps.append(step)
        log(f"    knee (refine): R={rate:.0f}/s p50={step['delivery_ms']['p50']} "
            f"p99={step['delivery_ms']['p99']} lost={step['lost']} "
            f"late={step['unacked_at_deadline']} {'held' if ok else 'FAILED'}")
        if ok:
            best = rate
        else:
            failed = rate
    return {"p99_limit_ms": p99_limit, "highest_rate_held": best,
            "steps": [{k: v for k, v in s.items()} for s in steps]}


async def quiesce(target: Any, limit: float = 180) -> float:
    """Wait until the server's CPU falls under 10% of a core (its backlog is done)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        meter = procstat.CpuMeter({"server": target.all_pids()})
        meter.start()
        await asyncio.sleep(0.5)
        if meter.stop()["server"] < 10:
            break
    return round(time.monotonic() - start, 1)


# --- idle connections --------------------------------------------------------------------


async def idle(target: Any, users: Sequence[User], procs: int, cpus: list[int] | None,
               workdir: Path, name: str, settle: float = 3) -> dict[str, Any]:
    """RSS of the server with C authenticated sockets open and quiet."""
    rss_before = target.rss()
    per_proc_before = {p: procstat.rss_bytes(p) for p in target.all_pids()}
    specs = [{"mode": "idle", "ws_url": target.ws_url, "tokens": part}
             for part in split([u.token for u in users], procs)]
    workers = Workers(specs, workdir, cpus, name)
    try:
        ready = await workers.start()
        connected = sum(r["connected"] for r in ready)
        await asyncio.sleep(settle)
        meter = procstat.CpuMeter({"server": target.all_pids()})
        meter.start()
        await asyncio.sleep(settle)
        cpu = meter.stop()
        rss_after = target.rss()
        per_proc = {p: procstat.rss_bytes(p) for p in target.all_pids()}
        ended = await workers.command("STOP")
    finally:
        await workers.stop()
    return {
        "connections": connected,
        "failed": sum(r["failed"] for r in ready),
        "connect_seconds": max(r["connect_seconds"] for r in ready),
        "connects_per_s": round(connected / max(r["connect_seconds"] for r in ready), 1),
        "alive_at_end": sum(r["alive_at_end"] for r in ended),
        "server_processes": len(target.worker_pids()),
        "rss_mb_before": round(rss_before / MB, 1),
        "rss_mb": round(rss_after / MB, 1),
        "rss_mb_per_process": [round(per_proc[p] / MB, 1) for p in per_proc],
        "rss_mb_per_process_before": [round(v / MB, 1) for v in per_proc_before.values()],
        "rss_kb_per_connection": round((rss_after - rss_before) / max(1, connected) / 1000, 1),
        "idle_server_cpu_pct": cpu["server"],
    }


# --- reconnect after a restart -----------------------------------------------------------


async def reconnect(target: Any, users: Sequence[User], plans: Sequence[ThreadPlan],
                    store: Store | None, procs: int, cpus: list[int] | None, workdir: Path,
                    name: str) -> dict[str, Any]:
    """K clients hold cursors; the server restarts; while it is down one message per thread is
    stored, which each client's sync must bring. Time until every client has synced.

    Checked by content: each synced client must hold exactly the (thread, seq 2) events of its
    threads, once. Syncs answered by an old worker that was still shutting down (before the
    messages were stored) are counted (`early_syncs`) but are not final: the client syncs again
    on the restarted server (see bench/loadgen.py run_reconnect)."""
    clients = [{"token": u.token, "cursors": {plans[t].id: 1 for t in u.threads},
                "expect": [plans[t].id for t in u.threads] if store is not None else []}
               for u in users]
    specs = [{"mode": "reconnect", "ws_url": target.ws_url, "clients": part}
             for part in split(clients, procs)]
    workers = Workers(specs, workdir, cpus, name)
    try:
        ready = await workers.start()
        workers.send("GO")
        await asyncio.sleep(0.2)
        t_stop = time.monotonic()
        stop_seconds = await target.stop()
        # Every old process has exited: a connection opened before now went to one of them.
        workers.send(f"STOPPED {time.monotonic()}")
        if store is not None:
            await append_messages(store, users, plans,
                                  "stored while the server was down", seq=2)
        t_start = time.monotonic()
        if hasattr(target, "backing"):
            await target.start(migrate=False)
        else:
            await target.start()
        t_ready = target.ready_at  # /health first answered
        results = await workers._collect("RESULT")
    finally:
        await workers.stop()

    def each(key: str) -> list[Any]:
        return [x for r in results for x in r.get(key, [])]

    synced = each("synced_at")
    done = [s for s in synced if s is not None]
    final = [i for i, s in enumerate(synced) if s is not None]
    missing, dups, unexpected = each("missing"), each("duplicates"), each("unexpected")
    return {
        "clients": len(clients),
        "initial_connect_seconds": max(r["connect_seconds"] for r in ready),
        "initial_failed": sum(r["failed"] for r in ready),
        "synced": len(done),
        "not_synced": len(synced) - len(done),
        "events_replayed": sum(each("events")),
        "events_expected": sum(len(c["expect"]) for c in clients),
        # Only clients that synced on the restarted server can have lost something.
        "events_missing": sum(missing[i] for i in final),
        "events_duplicated": sum(dups),
        "events_unexpected": sum(unexpected),
        "early_syncs": sum(each("early_syncs")),
        "server_stop_seconds": round(stop_seconds, 2),
        "server_start_seconds": round(t_ready - t_start, 2),
        "all_synced_after_ready_s": round(max(done) - t_ready, 2) if done else None,
        "all_synced_after_stop_s": round(max(done) - t_stop, 2) if done else None,
        "client_synced_after_ready_s": summary([s - t_ready for s in done]),
        "attempts": summary(each("attempts")),
    }


# --- history and sync --------------------------------------------------------------------


async def history(port: int, token: str, thread_id: str, last_seq: int, repeats: int
                  ) -> dict[str, Any]:
    """GET pages of 50 over one keep-alive connection: newest, middle, forward from a cursor."""
    pages = {
        "newest": f"/api/v1/threads/{thread_id}/events?limit=50",
        "middle_before": f"/api/v1/threads/{thread_id}/events?before={last_seq // 2}&limit=50",
        "after_cursor": f"/api/v1/threads/{thread_id}/events?after={last_seq - 500}&limit=50",
        "oldest": f"/api/v1/threads/{thread_id}/events?after=0&limit=50",
    }
    out: dict[str, Any] = {"thread_events": last_seq}
    async with Http(HOST, port, token) as http:
        for name, path in pages.items():
            for _ in range(5):  # warm the connection and caches
                await http.request("GET", path, expect=200)
            samples = []
            for _ in range(repeats):
                start = time.perf_counter()
                _, body = await http.request("GET", path, expect=200)
                samples.append((time.perf_counter() - start) * 1000)
            assert len(body["events"]) == 50, body
            out[name] = summary(samples)
    return out


async def sync_threads(ws_url: str, token: str, thread_ids: Sequence[str], behind: int,
                       repeats: int) -> dict[str, Any]:
    """One `sync` naming every thread, as a new connection's first frame: behind by one event
    each, and already up to date. (A connection never sends an event twice, so each sample
    uses a fresh one; only the sync itself is timed.)"""
    out: dict[str, Any] = {"threads": len(thread_ids)}
    for label, cursor, expect in (("one_new_event_each", behind - 1, len(thread_ids)),
                                  ("up_to_date", behind, 0)):
        samples = []
        for _ in range(repeats + 2):
            conn = await connect_ready(ws_url, token)
            try:
                frame = json.dumps({"type": "sync", "cursors": {t: cursor for t in thread_ids}})
                start = time.perf_counter()
                await conn.send(frame)
                events = 0
                while True:
                    reply = json.loads(await asyncio.wait_for(conn.recv(), 60))
                    if reply["type"] == "synced":
                        break
                    events += reply["type"] == "event"
                samples.append((time.perf_counter() - start) * 1000)
            finally:
                await conn.close()
            if events != expect:
                out.setdefault("errors", []).append(f"{label}: {events} events != {expect}")
        out[label] = summary(samples[2:])
    return out


# --- event-loop lag during logins --------------------------------------------------------


async def login_lag(target: Any, ping_token: str, emails: Sequence[str], password: str,
                    cpus: list[int] | None, workdir: Path, name: str, quiet: float = 1.0
                    ) -> dict[str, Any]:
    """A socket pings every 10 ms; 50 logins (real argon2 verification) start at once."""
    workers = Workers([{"mode": "ping", "ws_url": target.ws_url, "token": ping_token,
                        "every": 0.01}], workdir, cpus, name)
    logins: list[float] = []
    statuses: list[int] = []
    window: list[float] = []

    async def one(email: str) -> None:
        async with Http(HOST, target.port) as http:
            start = time.monotonic()
            status, _ = await http.request("POST", "/api/v1/sessions",
                                           {"email": email, "password": password})
            logins.append((time.monotonic() - start) * 1000)
            statuses.append(status)

    async def storm() -> None:
        await asyncio.sleep(quiet)
        window.append(time.monotonic())
        await asyncio.gather(*(one(e) for e in emails))
        window.append(time.monotonic())

    try:
        await workers.start()
        workers.send("GO")
        await storm()
        await asyncio.sleep(0.3)
        results = await workers.command("END")
    finally:
        await workers.stop()
    samples = results[0]["samples"]
    start, end = window
    during = [rtt for t, rtt in samples if start <= t <= end]
    before = [rtt for t, rtt in samples if t < start]
    return {
        "logins": len(emails),
        "login_ok": sum(s == 201 for s in statuses),
        "login_statuses": sorted(set(statuses)),
        "logins_seconds": round(end - start, 2),
        "login_ms": summary(logins),
        "pong_ms_during_logins": summary(during),
        "pong_ms_idle": summary(before),
    }


async def ping_only(target: Any, token: str, cpus: list[int] | None, workdir: Path, name: str,
                    seconds: float = 3) -> dict[str, Any]:
    workers = Workers([{"mode": "ping", "ws_url": target.ws_url, "token": token,
                        "every": 0.01}], workdir, cpus, name)
    try:
        await workers.start()
        workers.send("GO")
        await asyncio.sleep(seconds)
        results = await workers.command("END")
    finally:
        await workers.stop()
    return {"pong_ms_idle": summary([rtt for _, rtt in results[0]["samples"]])}


async def ws_ok(ws_url: str, token: str) -> bool:
    try:
        conn = await connect_ready(ws_url, token)
    except (OSError, websockets.WebSocketException):
        return False
    await conn.close()
    return True
