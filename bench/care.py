"""Care between visits: the list endpoints at a realistic practice size (figures, not asserted).

    .venv/bin/python -m bench.care              # SQLite, 150 clients (about 2 minutes)
    .venv/bin/python -m bench.care --clients 40 # quicker
    DATABASE_URL=postgresql://... .venv/bin/python -m bench.care

Seeds through the public API one practice whose owner looks after every client: per client
12 tasks (a third overdue), 3 goals with 10 check-ins each, a shared care plan, and an
enrolment in one 20-module program with the clock moved on so half the modules have arrived.
Then times each read a screen makes: the team's overdue list (`GET /tasks?overdue=true`), a
client's tasks, goals, care plans, enrolments and Today, and the program's progress list
(`GET /programs/{id}/enrollments`, every client).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.servers import free_port

DAY = 86400


async def _seed_client(http: httpx.AsyncClient, headers: dict[str, str], i: int,
                       program_id: str) -> str:
    resp = await http.post("/clients", json={"name": f"Client {i}", "send_invite": False},
                           headers=headers)
    resp.raise_for_status()
    cid = resp.json()["client"]["id"]
    now = datetime.now(UTC)
    for t in range(12):
        due = now + timedelta(days=(t % 3) - 1, hours=1)  # a third in the past
        (await http.post(f"/clients/{cid}/tasks", json={
            "title": f"Task {t}", "due_at": due.isoformat(),
            "repeat": "daily" if t % 4 == 0 else None}, headers=headers)).raise_for_status()
    for g in range(3):
        resp = await http.post(f"/clients/{cid}/goals", json={
            "title": f"Goal {g}", "metric": "steps" if g == 0 else None, "target": 8000 if g == 0
            else 3, "period": "day"}, headers=headers)
        resp.raise_for_status()
        gid = resp.json()["goal"]["id"]
        for k in range(10):
            (await http.post(f"/goals/{gid}/check-ins", json={"value": 500 + k},
                             headers=headers)).raise_for_status()
    resp = await http.post(f"/clients/{cid}/care-plans", json={
        "title": "Plan", "sections": [{"title": f"S{s}", "body": "Some **text**.\n\n- a\n- b"}
                                      for s in range(6)]}, headers=headers)
    resp.raise_for_status()
    (await http.post(f"/care-plans/{resp.json()['care_plan']['id']}/share",
                     headers=headers)).raise_for_status()
    (await http.post(f"/programs/{program_id}/enrollments", json={"client_ids": [cid]},
                     headers=headers)).raise_for_status()
    return str(cid)


async def _time(http: httpx.AsyncClient, path: str, headers: dict[str, str], repeats: int
                ) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        resp = await http.get(path, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        resp.raise_for_status()
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
            "bytes": len(resp.content)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-care-"))
    clock = workdir / "clock"
    clock.write_text("0")
    port = free_port()
    env = {**os.environ, "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
           "CLOCK_OFFSET_FILE": str(clock), "CARE_POLL_SECONDS": "0.5",
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "8192", "ARGON2_PARALLELISM": "1"}
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'carethread.db'}")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "serve", "--port", str(port), cwd=workdir, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/v1",
                                     timeout=60) as http:
            for _ in range(600):
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            resp = await http.post("/organizations", json={"name": "Bench", "owner": {
                "name": "Owner", "email": f"owner-{secrets.token_hex(4)}@example.org",
                "password": "correct horse battery"}})
            resp.raise_for_status()
            headers = {"Authorization": f"Bearer {resp.json()['token']}"}
            resp = await http.post("/programs", json={"title": "Twenty days", "modules": [
                {"day": d, "title": f"Day {d}", "body": "Read **this**."} for d in range(20)]},
                headers=headers)
            resp.raise_for_status()
            program_id = resp.json()["program"]["id"]
            started = time.perf_counter()
            ids: list[str] = []
            for batch in range(0, args.clients, 8):
                ids += await asyncio.gather(*[
                    _seed_client(http, headers, i, program_id)
                    for i in range(batch, min(batch + 8, args.clients))])
            clock.write_text(str(9 * DAY + 60))  # days 0-9 arrive
            await asyncio.sleep(5 + args.clients * 0.05)
            seeded = time.perf_counter() - started
            one = ids[len(ids) // 2]
            figures = {
                "GET /tasks?overdue=true": await _time(http, "/tasks?overdue=true&limit=500",
                                                       headers, args.repeats),
                "GET /clients/{id}/tasks": await _time(http, f"/clients/{one}/tasks", headers,
                                                       args.repeats),
                "GET /clients/{id}/goals": await _time(http, f"/clients/{one}/goals", headers,
                                                       args.repeats),
                "GET /clients/{id}/care-plans": await _time(
                    http, f"/clients/{one}/care-plans", headers, args.repeats),
                "GET /clients/{id}/enrollments": await _time(
                    http, f"/clients/{one}/enrollments", headers, args.repeats),
                "GET /clients/{id}/today": await _time(http, f"/clients/{one}/today", headers,
                                                       args.repeats),
                "GET /programs/{id}/enrollments": await _time(
                    http, f"/programs/{program_id}/enrollments", headers,
                    max(3, args.repeats // 5)),
            }
    finally:
        proc.terminate()
        await proc.wait()
    return {"database": env["DATABASE_URL"].split(":")[0], "clients": args.clients,
            "tasks": args.clients * 12, "seed_seconds": round(seeded, 1), "reads": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=30)
    result = asyncio.run(run(parser.parse_args()))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
