"""Slots at practice size: 20 providers, 4 weeks, 2,000 existing appointments (target < 50 ms).

    python -m bench.appointments                 # SQLite, a fresh server process
    python -m bench.appointments --postgres URL  # PostgreSQL (an empty database)

Everything is set up through the public HTTP API of a real `carethread serve` process: a
practice, 20 providers with weekday hours in four time zones, 100 clients, a 30-minute type
with 15-minute starts and a 10-minute buffer, and 2,000 appointments booked by the team at
random free slots over the next four weeks. Then it times `GET /providers/{id}/slots` for four
weeks, for each of the 20 providers in turn (and the pure computation in-process, for the
share of the database read). Figures are printed and written to bench/results/appointments.json;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "UTC"]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workdir: Path, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(40),
           "BASE_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING",
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "8192", "ARGON2_PARALLELISM": "1"}
    log = open(workdir / "server.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(port)],
                            cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start; see " + str(workdir / "server.log"))


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def setup(http: httpx.AsyncClient, providers: int, clients: int, appointments: int,
                rng: random.Random) -> tuple[dict[str, str], list[str], str, datetime]:
    resp = await http.post("/organizations", json={"name": "Bench Practice", "owner": {
        "name": "Bench Owner", "email": f"owner-{secrets.token_hex(4)}@example.org",
        "password": "correct horse battery"}})
    resp.raise_for_status()
    headers = {"Authorization": "Bearer " + resp.json()["token"]}
    provider_ids = []
    for i in range(providers):
        resp = await http.post("/providers", headers=headers, json={
            "name": f"Provider {i}", "email": f"p{i}-{secrets.token_hex(4)}@example.org"})
        resp.raise_for_status()
        pid = resp.json()["user"]["id"]
        provider_ids.append(pid)
        resp = await http.put(f"/providers/{pid}/availability", headers=headers, json={
            "time_zone": ZONES[i % len(ZONES)],
            "weekly": [{"day": d, "start": "08:00", "end": "18:00"} for d in range(5)],
            "exceptions": [{"date": (datetime.now(UTC) + timedelta(days=9)).date().isoformat(),
                            "available": False}]})
        resp.raise_for_status()
    resp = await http.post("/appointment-types", headers=headers, json={
        "name": "Session", "minutes": 30, "slot_interval": 15, "buffer_after": 10,
        "location": "video", "bookable_by": "team", "horizon_days": 60})
    resp.raise_for_status()
    type_id = resp.json()["appointment_type"]["id"]
    client_ids = []
    for i in range(clients):
        resp = await http.post("/clients", headers=headers, json={
            "name": f"Client {i}", "send_invite": False})
        resp.raise_for_status()
        client_ids.append(resp.json()["client"]["id"])
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    end = start + timedelta(days=28)
    per_provider = appointments // providers
    booked = 0
    for pid in provider_ids:
        resp = await http.get(f"/providers/{pid}/slots", headers=headers, params={
            "type_id": type_id, "from": iso(start), "to": iso(end)})
        resp.raise_for_status()
        free = [s["start"] for s in resp.json()["slots"]]
        rng.shuffle(free)
        made = 0
        for slot in free:
            if made == per_provider:
                break
            resp = await http.post("/appointments", headers=headers, json={
                "provider_id": pid, "type_id": type_id, "start": slot,
                "client_id": rng.choice(client_ids)})
            if resp.status_code == 201:
                made += 1
            elif resp.status_code != 409:  # overlaps through the buffer are expected
                resp.raise_for_status()
        booked += made
    print(f"set up: {providers} providers, {clients} clients, {booked} appointments")
    return headers, provider_ids, type_id, start


async def measure(http: httpx.AsyncClient, headers: dict[str, str], provider_ids: list[str],
                  type_id: str, start: datetime, rounds: int) -> dict[str, Any]:
    end = start + timedelta(days=28)
    per_request: list[float] = []
    per_round: list[float] = []
    counts = []
    for _ in range(rounds):
        began = time.perf_counter()
        for pid in provider_ids:
            t0 = time.perf_counter()
            resp = await http.get(f"/providers/{pid}/slots", headers=headers, params={
                "type_id": type_id, "from": iso(start), "to": iso(end)})
            per_request.append(time.perf_counter() - t0)
            resp.raise_for_status()
            counts.append(len(resp.json()["slots"]))
        per_round.append(time.perf_counter() - began)

    baseline: list[float] = []  # the same server's cheapest authenticated read, for scale
    for _ in range(rounds * len(provider_ids)):
        t0 = time.perf_counter()
        (await http.get("/appointment-types", headers=headers)).raise_for_status()
        baseline.append(time.perf_counter() - t0)

    def ms(values: list[float], q: float) -> float:
        values = sorted(values)
        return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 2)

    return {
        "rounds": rounds,
        "slots_per_provider_mean": round(statistics.mean(counts), 1),
        "request_ms_p50": ms(per_request, 0.5),
        "request_ms_p95": ms(per_request, 0.95),
        "all_20_providers_ms_p50": ms(per_round, 0.5),
        "all_20_providers_ms_max": ms(per_round, 1.0),
        "baseline_types_request_ms_p50": ms(baseline, 0.5),
    }


def measure_compute(providers: int, appointments: int, rng: random.Random) -> dict[str, Any]:
    """The pure computation alone, at the same size (no database, no HTTP)."""
    from zoneinfo import ZoneInfo

    from server.appointments.slots import Busy, Schedule, SlotRules, WeeklyHours, slots

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rules = SlotRules(minutes=30, interval=15, buffer_after=10)
    work = []
    for i in range(providers):
        schedule = Schedule(ZoneInfo(ZONES[i % len(ZONES)]),
                            tuple(WeeklyHours(d, 8 * 60, 18 * 60) for d in range(5)))
        held = []
        for _ in range(appointments // providers):
            at = start + timedelta(minutes=15 * rng.randrange(0, 28 * 24 * 4))
            held.append((at, at + timedelta(minutes=40)))
        work.append((schedule, Busy(held)))
    runs = []
    for _ in range(20):
        began = time.perf_counter()
        for schedule, busy in work:
            slots(schedule, rules, busy, now=start, start=start, end=start + timedelta(days=28))
        runs.append(time.perf_counter() - began)
    return {"compute_all_20_providers_ms_p50": round(1000 * statistics.median(runs), 2)}


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.appointments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="an empty PostgreSQL database URL")
    parser.add_argument("--providers", type=int, default=20)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--appointments", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    rng = random.Random(16)
    with tempfile.TemporaryDirectory(prefix="bench-appointments-") as tmp:
        workdir = Path(tmp)
        database_url = args.postgres or f"sqlite:///{workdir / 'bench.db'}"
        proc, url = start_server(workdir, database_url)
        try:
            async with httpx.AsyncClient(base_url=url + "/api/v1", timeout=60) as http:
                began = time.perf_counter()
                headers, provider_ids, type_id, start = await setup(
                    http, args.providers, args.clients, args.appointments, rng)
                setup_s = round(time.perf_counter() - began, 1)
                figures = await measure(http, headers, provider_ids, type_id, start,
                                        args.rounds)
        finally:
            proc.terminate()
            proc.wait(10)
    figures.update(measure_compute(args.providers, args.appointments, rng))
    figures.update({"database": "postgresql" if args.postgres else "sqlite",
                    "providers": args.providers, "appointments": args.appointments,
                    "setup_seconds": setup_s, "target_ms": 50})
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"appointments-{figures['database']}.json").write_text(json.dumps(figures, indent=2))
    for key, value in figures.items():
        print(f"{key:32} {value}")


if __name__ == "__main__":
    asyncio.run(main())
