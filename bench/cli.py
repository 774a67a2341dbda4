"""`python -m bench`: run the suite against Carethread's configurations and the baseline.

    python -m bench --smoke        ~10 s, SQLite only, tiny: keeps the suite working (exit 1 on
                                   any lost, duplicated or out-of-order delivery)
    python -m bench --quick        < 2 min: both configurations and the baseline, small sizes
    python -m bench                the full set (10,000 idle sockets, 5,000 reconnects, the knee
                                   and a py-spy profile at the knee)

Figures go to bench/results/latest.json (--out) and a short table to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import procstat, profiling, scenarios
from bench.fixtures import (
    ThreadPlan,
    User,
    append_messages,
    insert_threads,
    insert_users,
    open_store,
    plan_threads,
    plan_users,
)
from bench.generator import Workers
from bench.http import Http
from bench.servers import (
    CONFIGS,
    HOST,
    ROOT,
    Backing,
    BaselineServer,
    CarethreadServer,
    Config,
    pinning,
)

LOGIN_PASSWORD = "bench password 123"
RUNS = ROOT / "bench" / "runs"


@dataclass
class Sizes:
    users: int
    threads: int
    rate: float
    seconds: float
    warmup: float
    idle: int
    reconnect: int
    history: int
    history_repeats: int
    sync_threads: int
    sync_repeats: int
    logins: int
    knee: bool
    knee_start: float
    knee_seconds: float
    profile: bool


PRESETS = {
    "smoke": Sizes(users=20, threads=10, rate=40, seconds=2, warmup=0.5, idle=40, reconnect=20,
                   history=5_000, history_repeats=20, sync_threads=50, sync_repeats=3,
                   logins=5, knee=False, knee_start=0, knee_seconds=0, profile=False),
    "quick": Sizes(users=200, threads=150, rate=200, seconds=3, warmup=1, idle=300,
                   reconnect=200, history=200_000, history_repeats=50, sync_threads=500,
                   sync_repeats=10, logins=50, knee=False, knee_start=400, knee_seconds=4,
                   profile=False),
    "full": Sizes(users=1000, threads=1000, rate=2000, seconds=10, warmup=2, idle=10_000,
                  reconnect=5000, history=1_000_000, history_repeats=300, sync_threads=500,
                  sync_repeats=30, logins=50, knee=True, knee_start=100, knee_seconds=8,
                  profile=True),
}


def log(message: str) -> None:
    print(message, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes")
    mode.add_argument("--smoke", action="store_true", help="tiny, SQLite only, no baseline, "
                      "~15 s")
    parser.add_argument("--configs", help="comma list of: embedded, pg_redis "
                        "(default both; smoke: embedded)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline server")
    parser.add_argument("--only", help="comma list of scenarios: messaging, knee, idle, "
                        "reconnect, history, sync, login_lag (default all of the preset)")
    for name in ("users", "threads", "idle", "reconnect", "history", "logins", "sync_threads"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int)
    for name in ("rate", "seconds", "warmup", "knee_start", "knee_seconds"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=float)
    parser.add_argument("--knee", action="store_true", default=None,
                        help="raise the rate (x1.4 a step) until delivery p99 > --knee-p99")
    parser.add_argument("--knee-p99", type=float, default=100.0, metavar="MS",
                        help="the knee's delivery p99 limit (default 100; issue 10 asks 50)")
    parser.add_argument("--knee-refine", type=int, default=0, metavar="N",
                        help="then halve the gap between the last rate held and the first "
                        "that failed N times (the x1.4 steps are coarse)")
    parser.add_argument("--profile", action="store_true", default=None,
                        help="py-spy the server at the knee (needs --knee)")
    parser.add_argument("--gen-procs", type=int, help="load generator processes (default: the "
                        "cores left after pinning the server, at least 1)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server/generator")
    parser.add_argument("--server-root", type=Path, default=ROOT,
                        help="run the server from this checkout (e.g. a git worktree)")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra server environment (repeatable)")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get(
        "BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--out", type=Path, help="JSON output (default "
                        "bench/results/latest.json; smoke: bench/results/smoke.json)")
    parser.add_argument("--label", default="", help="a note stored with the results")
    parser.add_argument("--save", metavar="NAME", help="also keep the JSON as "
                        "bench/runs/NAME.json, a folder under version control: every figure "
                        "that bench/RESULTS.md quotes comes from a file there")
    parser.add_argument("--scenario-seconds", type=float, help="a scenario that has not "
                        "settled by then is recorded as unsettled, with what it measured, and "
                        "the run goes on (default: smoke 120, quick 300, full 900)")
    return parser.parse_args(argv)


def sizes_from(args: argparse.Namespace) -> tuple[str, Sizes]:
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    sizes = Sizes(**vars(PRESETS[mode]))
    for name in vars(sizes):
        value = getattr(args, name, None)
        if value is not None:
            setattr(sizes, name, value)
    return mode, sizes


def git_state(root: Path) -> dict[str, Any]:
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(root), *cmd], capture_output=True,
                                  text=True, timeout=10).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""
    # rstrip, not strip: a porcelain line starts with its status columns (" M server/...").
    dirty = [line[3:] for line in run("status", "--porcelain", "--", "server", "migrations",
                                      "pyproject.toml").splitlines() if line.strip()]
    return {"commit": run("rev-parse", "HEAD"), "server_dirty": bool(dirty),
            "dirty_files": dirty}


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.mode, self.sizes = sizes_from(args)
        default_configs = "embedded" if args.smoke else "embedded,pg_redis"
        self.configs = [CONFIGS[c.strip()] for c in (args.configs or default_configs).split(",")]
        self.only = set(args.only.split(",")) if args.only else None
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        self.dir = ROOT / "bench" / "results" / f"run-{stamp}-{self.mode}"
        self.out = args.out or ROOT / "bench" / "results" / (
            "smoke.json" if args.smoke else "latest.json")
        self.failures: list[str] = []
        self.unsettled: list[str] = []
        self.scenario_seconds = args.scenario_seconds or {"smoke": 120.0, "quick": 300.0}.get(
            self.mode, 900.0)
        self.extra_env = dict(item.split("=", 1) for item in args.server_env)
        self.settle = {"smoke": 0.3, "quick": 1.0}.get(self.mode, 3.0)

    def wants(self, scenario: str) -> bool:
        if scenario == "knee" and not self.sizes.knee:
            return False
        return self.only is None or scenario in self.only

    def procs_for(self, server_procs: int) -> tuple[list[int] | None, list[int] | None, int]:
        server_cpus, gen_cpus = pinning(not self.args.no_pin, server_procs)
        gen_procs = self.args.gen_procs or max(1, len(gen_cpus or []) or 1)
        return server_cpus, gen_cpus, gen_procs

    def check(self, where: str, figures: dict[str, Any]) -> None:
        """Correctness is asserted, speed is only reported."""
        if "lost" in figures and (figures["lost"]
                                  or figures["duplicates"] or figures["order_errors"]
                                  or figures["errors"]):
            self.failures.append(f"{where}: lost {figures['lost']}, duplicates "
                                 f"{figures['duplicates']}, order errors "
                                 f"{figures['order_errors']}, errors {figures['errors']}")
        if "not_synced" in figures and (figures["not_synced"] or figures["events_missing"]
                                        or figures.get("events_duplicated")
                                        or figures.get("events_unexpected")):
            self.failures.append(f"{where}: {figures['not_synced']} clients not synced, "
                                 f"{figures['events_missing']} events missing, "
                                 f"{figures.get('events_duplicated')} duplicated, "
                                 f"{figures.get('events_unexpected')} unexpected")
        if "login_ok" in figures and figures["login_ok"] != figures["logins"]:
            self.failures.append(f"{where}: logins {figures['login_statuses']}")
        if figures.get("errors") and isinstance(figures["errors"], list):
            self.failures.append(f"{where}: {figures['errors']}")

    # --- Carethread ------------------------------------------------------------------------

    async def whole(self, name: str, part: Awaitable[dict[str, Any]]) -> dict[str, Any]:
        """One configuration (or baseline): a failure outside any scenario is recorded and the
        run goes on with the next one."""
        try:
            return await part
        except Exception as exc:
            reason = f"failed: {type(exc).__name__}: {exc}"
            self.unsettled.append(f"{name}: {reason}")
            log(f"  {name}: {reason}; going on")
            return {"settled": False, "unsettled": reason}

    async def run_config(self, config: Config) -> dict[str, Any]:
        s = self.sizes
        backing = Backing(config, self.dir / config.name, self.args.postgres_url,
                          self.args.redis_url)
        await backing.create()
        server_cpus, gen_cpus, gen_procs = self.procs_for(config.workers)
        server = CarethreadServer(backing, config.workers, cpus=server_cpus,
                                  server_root=self.args.server_root, extra_env=self.extra_env)
        out: dict[str, Any] = {
            "description": config.description, "server_processes": config.workers,
            "server_cpus": server_cpus, "generator_cpus": gen_cpus,
            "generator_processes": gen_procs,
        }
        store = None
        try:
            out["server_start_seconds"] = round(await server.start(), 2)
            org_id, owner = await create_owner(server.port)
            store = await open_store(backing.database_url)
            rng = random.Random(1)
            name = config.name

            async def idle() -> None:
                log(f"  {name}: idle, {s.idle} sockets")
                idle_users = plan_users(s.idle, "idle")
                await insert_users(store, org_id, idle_users)
                out["idle"] = await scenarios.idle(server, idle_users, gen_procs, gen_cpus,
                                                   self.dir, f"{name}-idle", settle=self.settle)
                out["idle"]["close_drain_seconds"] = await scenarios.quiesce(server)

            if self.wants("idle"):
                await self.guarded(out, "idle", name, server, idle)

            users = plan_users(s.users, "member")
            plans = plan_threads(users, s.threads, rng)
            await insert_users(store, org_id, users)
            await insert_threads(store, org_id, users, plans)

            async def messaging() -> None:
                await self.messaging(out, server, users, plans, gen_procs, gen_cpus, name,
                                     external=config.postgres)
                if not _get(out, "messaging.settled") and self.wants("messaging"):
                    # Overloaded at the target rate: drop the backlog before measuring more.
                    log(f"  {name}: restarting the overloaded server")
                    await server.stop()
                    await server.start(migrate=False)

            if self.wants("messaging") or self.wants("knee"):
                await self.guarded(out, "messaging", name, server, messaging)

            async def login_lag() -> None:
                log(f"  {name}: event-loop lag during {s.logins} logins")
                login_users = plan_users(s.logins, "login")
                await insert_users(store, org_id, login_users, password_hash=default_hash())
                out["login_lag"] = await scenarios.login_lag(
                    server, users[0].token, [u.email for u in login_users], LOGIN_PASSWORD,
                    gen_cpus, self.dir, f"{name}-ping")
                self.check(f"{name} login_lag", out["login_lag"])

            if self.wants("login_lag"):
                await self.guarded(out, "login_lag", name, server, login_lag)

            async def history() -> None:
                log(f"  {name}: history, filling a thread with {s.history:,} events")
                thread = ThreadPlan(id=str(uuid.uuid4()), members=[0])
                started = time.monotonic()
                await insert_threads(store, org_id, [owner], [thread])
                await store.fill_history(thread.id, owner.id, 2, s.history)
                fill = time.monotonic() - started
                out["history"] = await scenarios.history(server.port, owner.token, thread.id,
                                                         s.history, s.history_repeats)
                out["history"]["fill_seconds"] = round(fill, 1)

            if self.wants("history"):
                await self.guarded(out, "history", name, server, history)

            async def sync() -> None:
                log(f"  {name}: sync of {s.sync_threads} threads")
                syncer = plan_users(1, "syncer", roles=("provider",))[0]
                await insert_users(store, org_id, [syncer])
                pair = [syncer, owner]
                sync_plans = [ThreadPlan(id=str(uuid.uuid4()), members=[0, 1])
                              for _ in range(s.sync_threads)]
                await insert_threads(store, org_id, pair, sync_plans)
                await append_messages(store, pair, sync_plans, "one more", seq=2)
                out["sync"] = await scenarios.sync_threads(
                    server.ws_url, syncer.token, [p.id for p in sync_plans], 2, s.sync_repeats)
                self.check(f"{name} sync", out["sync"])

            if self.wants("sync"):
                await self.guarded(out, "sync", name, server, sync)

            async def reconnect() -> None:
                log(f"  {name}: restart with {s.reconnect} clients to reconnect and sync")
                rc_users = plan_users(s.reconnect, "reconnect")
                rc_plans = plan_threads(rc_users, max(1, s.reconnect // 2), rng)
                await insert_users(store, org_id, rc_users)
                await insert_threads(store, org_id, rc_users, rc_plans)
                out["reconnect"] = await scenarios.reconnect(
                    server, rc_users, rc_plans, store, gen_procs, gen_cpus, self.dir,
                    f"{name}-reconnect")
                self.check(f"{name} reconnect", out["reconnect"])

            if self.wants("reconnect"):
                await self.guarded(out, "reconnect", name, server, reconnect)
        finally:
            await server.stop()
            if store is not None:
                await store.close()
            await backing.drop()
        return out

    async def guarded(self, out: dict[str, Any], key: str, name: str, server: Any,
                      scenario: Callable[[], Awaitable[None]]) -> None:
        """Run one scenario within the run's time budget. One that does not settle (or fails)
        is recorded as such, with what it had measured and the server's state at that moment,
        and the run goes on with the next scenario on a restarted server."""
        budget = self.scenario_seconds
        task = asyncio.ensure_future(scenario())
        done, _ = await asyncio.wait({task}, timeout=budget)
        if task in done and task.exception() is None:
            return
        if task in done:
            exc = task.exception()
            reason = f"failed: {type(exc).__name__}: {exc}"
        else:
            reason = f"did not settle within {budget:.0f} s"
        partial = out.get(key) if isinstance(out.get(key), dict) else {}
        record: dict[str, Any] = {**(partial or {}), "settled": False, "unsettled": reason,
                                  "at_the_deadline": await self.snapshot(server)}
        if task not in done:
            task.cancel()  # the scenario's own cleanup (its load generators) runs now
            with contextlib.suppress(BaseException):
                await task
        out[key] = record
        self.unsettled.append(f"{name} {key}: {reason}")
        log(f"  {name}: {key} UNSETTLED ({reason}); going on")
        with contextlib.suppress(Exception):
            self.save_partial(self.result)
        await server.stop()
        await server.start(migrate=False)

    async def snapshot(self, server: Any) -> dict[str, Any]:
        """What the server and its load generators had reached: for an unsettled scenario."""
        pids = server.all_pids()
        meter = procstat.CpuMeter({"server": pids})
        meter.start()
        await asyncio.sleep(1)
        return {
            "server_rss_mb": round(server.rss() / 1e6, 1),
            "server_threads": {str(p): procstat.threads(p) for p in pids},
            "cpu_pct_of_one_core": meter.stop(),
            "generators": {w.name: w.progress_total() for w in Workers.running},
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }

    async def messaging(self, out: dict[str, Any], target: Any, users: list[User],
                        plans: list[ThreadPlan], gen_procs: int, gen_cpus: list[int] | None,
                        name: str, external: bool, check_order: bool = True) -> None:
        s = self.sizes
        log(f"  {name}: messaging, {len(users)} members in {len(plans)} threads, "
            f"{s.rate:.0f} msg/s for {s.seconds:.0f} s")
        run = scenarios.Messaging(target, users, plans, gen_procs, gen_cpus, self.dir,
                                  f"{name}-msg", check_order=check_order, external=external)
        try:
            out["messaging_connect"] = await run.start()
            if self.wants("knee"):
                log(f"  {name}: finding the knee from {s.knee_start:.0f} msg/s")
                out["knee"] = await scenarios.find_knee(run, s.knee_start, s.knee_seconds,
                                                        min(s.warmup, 2), log=log,
                                                        p99_limit=self.args.knee_p99,
                                                        refine=self.args.knee_refine)
                if self.sizes.profile and profiling.py_spy() is not None:
                    rate = out["knee"]["highest_rate_held"] or s.knee_start
                    out["profile"] = await self.profile(run, target, rate, name)
                await scenarios.quiesce(target)
            if self.wants("messaging"):  # the target rate may overload: after the knee
                out["messaging"] = await run.step(s.rate, s.seconds, s.warmup)
                self.check(f"{name} messaging", out["messaging"])
        finally:
            await run.stop()
        out["backlog_drain_seconds"] = await scenarios.quiesce(target)

    async def profile(self, run: scenarios.Messaging, target: Any, rate: float, name: str
                      ) -> dict[str, Any]:
        seconds = max(6.0, self.sizes.knee_seconds)
        log(f"  {name}: py-spy on the server at {rate:.0f} msg/s")
        pids = target.worker_pids()

        async def sample() -> None:
            await asyncio.sleep(1)
            paths.extend(await profiling.record(pids, seconds - 2, self.dir, name))

        paths: list[Path] = []
        step = await run.step(rate, seconds, 1, during=sample)
        summary = profiling.summarize(paths)
        text = profiling.render(summary)
        (self.dir / f"profile-{name}.summary.txt").write_text(text + "\n")
        log("\n".join("    " + line for line in text.splitlines()[:40]))
        return {"rate": rate, "step_under_profiler": step, "files": [str(p) for p in paths],
                "summary": summary}

    # --- baseline --------------------------------------------------------------------------

    async def run_baseline(self, procs: int) -> dict[str, Any]:
        s = self.sizes
        server_cpus, gen_cpus, gen_procs = self.procs_for(procs)
        rng = random.Random(1)
        users = plan_users(s.users, "member")
        plans = plan_threads(users, s.threads, rng)
        idle_users = plan_users(s.idle, "idle") if self.wants("idle") else []
        rc_users = plan_users(s.reconnect, "reconnect") if self.wants("reconnect") else []
        rc_plans = plan_threads(rc_users, max(1, s.reconnect // 2), rng) if rc_users else []
        everyone = users + idle_users + rc_users
        auth = {"tokens": {u.token: u.id for u in everyone},
                "threads": {p.id: [users[m].id for m in p.members] for p in plans}}
        auth["threads"].update({p.id: [rc_users[m].id for m in p.members] for p in rc_plans})
        server = BaselineServer(self.dir / "baseline", self.args.redis_url, procs, auth,
                                cpus=server_cpus)
        out: dict[str, Any] = {"description": f"websockets + Redis pub/sub fan-out, no storage, "
                               f"{procs} process(es)", "server_processes": procs,
                               "server_cpus": server_cpus, "generator_cpus": gen_cpus,
                               "generator_processes": gen_procs}
        name = f"baseline-{procs}p"
        try:
            await server.start()
            if self.wants("idle"):
                log(f"  {name}: idle, {s.idle} sockets")
                out["idle"] = await scenarios.idle(server, idle_users, gen_procs, gen_cpus,
                                                   self.dir, f"{name}-idle", settle=self.settle)
            if self.wants("messaging") or self.wants("knee"):
                await self.messaging(out, server, users, plans, gen_procs, gen_cpus, name,
                                     external=True, check_order=False)
            if self.wants("login_lag"):
                out["ping"] = await scenarios.ping_only(server, users[0].token, gen_cpus,
                                                        self.dir, f"{name}-ping")
            if self.wants("reconnect") and self.mode != "quick":
                log(f"  {name}: restart with {s.reconnect} clients to reconnect")
                out["reconnect"] = await scenarios.reconnect(
                    server, rc_users, rc_plans, None, gen_procs, gen_cpus, self.dir,
                    f"{name}-reconnect")
        finally:
            await server.stop()
        return out

    # --- everything ------------------------------------------------------------------------

    def save_partial(self, result: dict[str, Any]) -> None:
        """What is measured so far, in the run's folder, in case a later part fails."""
        (self.dir / "partial.json").write_text(json.dumps(result, indent=1, default=str))

    async def main(self) -> dict[str, Any]:
        self.dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        result: dict[str, Any] = {
            "started_at": datetime.now(UTC).isoformat(), "mode": self.mode,
            "command": " ".join([Path(sys.executable).name, "-m", "bench", *sys.argv[1:]]),
            "label": self.args.label, "machine": procstat.machine_description(),
            "git": git_state(self.args.server_root), "server_root": str(self.args.server_root),
            "sizes": vars(self.sizes), "server_settings": {
                **__import__("bench.servers", fromlist=["LOAD_SETTINGS"]).LOAD_SETTINGS,
                "LOG_LEVEL": "WARNING", **self.extra_env,
                "argon2": "defaults (time 3, 64 MiB, parallelism 4)"},
            "setup": "users, tokens and threads are written with SQL (bench/fixtures.py); "
                     "the owner is created through POST /organizations",
            "configs": {}, "baseline": {},
        }
        self.result = result
        for config in self.configs:
            log(f"== {config.name}: {config.description}")
            result["configs"][config.name] = await self.whole(
                config.name, self.run_config(config))
            self.save_partial(result)
        if not (self.args.no_baseline or self.mode == "smoke"):
            for procs in sorted({c.workers for c in self.configs}):
                log(f"== baseline, {procs} process(es)")
                result["baseline"][f"{procs}p"] = await self.whole(
                    f"baseline {procs}p", self.run_baseline(procs))
                self.save_partial(result)
        result["ratios"] = ratios(result)
        result["targets"] = targets(result)
        result["failures"] = self.failures
        result["unsettled"] = self.unsettled
        result["wall_seconds"] = round(time.monotonic() - started, 1)
        return result


async def create_owner(port: int) -> tuple[str, User]:
    """A practice and its owner, through the API."""
    email = f"owner-{uuid.uuid4().hex[:8]}@bench.carethread.test"
    async with Http(HOST, port) as http:
        _, body = await http.request("POST", "/api/v1/organizations", {
            "name": "Bench Practice",
            "owner": {"name": "Bench Owner", "email": email, "password": LOGIN_PASSWORD},
        }, expect=201)
    user = body["user"]
    return body["organization"]["id"], User(id=user["id"], token=body["token"], role="owner",
                                            account_id="", email=email)


_HASH: str | None = None


def default_hash() -> str:
    """An argon2id hash with the server's default parameters (no rehash at login)."""
    global _HASH
    if _HASH is None:
        from argon2 import PasswordHasher

        _HASH = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(
            LOGIN_PASSWORD)
    return _HASH


# --- derived figures ---------------------------------------------------------------------------


def _get(data: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


RATIO_FIGURES = [
    ("delivery p50", "messaging.delivery_ms.p50", "messaging.delivery_ms.p50"),
    ("delivery p99", "messaging.delivery_ms.p99", "messaging.delivery_ms.p99"),
    ("ack p50", "messaging.ack_ms.p50", "messaging.ack_ms.p50"),
    ("ack p99", "messaging.ack_ms.p99", "messaging.ack_ms.p99"),
    ("server CPU % at the same rate", "messaging.cpu_pct_of_one_core.server",
     "messaging.cpu_pct_of_one_core.server"),
    ("knee (highest rate held)", "knee.highest_rate_held", "knee.highest_rate_held"),
    ("RSS per idle connection", "idle.rss_kb_per_connection", "idle.rss_kb_per_connection"),
    ("reconnect: all synced after ready", "reconnect.all_synced_after_ready_s",
     "reconnect.all_synced_after_ready_s"),
    ("idle pong p50", "login_lag.pong_ms_idle.p50", "ping.pong_ms_idle.p50"),
]


def baseline_for(result: dict[str, Any], config: dict[str, Any]) -> dict[str, Any] | None:
    """The baseline run with as many processes as `config` (None: not run, or the
    configuration failed as a whole)."""
    procs = config.get("server_processes")
    found: dict[str, Any] | None = result.get("baseline", {}).get(f"{procs}p") if procs else None
    return found


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    """Each Carethread figure divided by the baseline's with the same process count."""
    out: dict[str, Any] = {}
    for name, config in result["configs"].items():
        base = baseline_for(result, config)
        if not base:
            continue
        rows = {}
        for label, mine, theirs in RATIO_FIGURES:
            a, b = _get(config, mine), _get(base, theirs)
            rows[label] = {"carethread": a, "baseline": b,
                           "ratio": round(a / b, 2) if a is not None and b else None}
        out[name] = rows
    return out


def _steps(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    steps = list(_get(cfg, "knee.steps") or [])
    return steps + ([cfg["messaging"]] if cfg.get("messaging") else [])


def _knee_targets(result: dict[str, Any], emb: dict[str, Any], pg: dict[str, Any]
                  ) -> list[dict[str, Any]]:
    """Issue 10's message-path targets: the knees (at the run's p99 limit), the ratio to the
    two-process baseline, latency near 1,000 msg/s, and nothing lost at any rate."""
    rows: list[dict[str, Any]] = []
    pg_knee = _get(pg, "knee.highest_rate_held")
    limit = _get(pg, "knee.p99_limit_ms") or _get(emb, "knee.p99_limit_ms")
    strict = limit is not None and limit <= 50
    if pg_knee is not None:
        base = _get(baseline_for(result, pg) or {}, "knee.highest_rate_held")
        share = round(pg_knee / base, 2) if base else None
        rows.append({
            "target": "PostgreSQL + Redis, 2 processes: knee (p99 < 50 ms) >= 2,000 msg/s and "
                      ">= 40 % of the 2-process baseline's",
            "measured": f"{pg_knee} msg/s at p99 <= {limit} ms; baseline 2p {base} msg/s "
                        f"(ratio {share})",
            "met": (pg_knee >= 2000 and (share is None or share >= 0.4)) if strict else None,
        })
    near = [s for s in _get(pg, "knee.steps") or [] if 900 <= s["offered_rate"] <= 1200]
    if near:
        step = near[0]
        p50, p99 = step["delivery_ms"]["p50"], step["delivery_ms"]["p99"]
        rows.append({
            "target": "PostgreSQL + Redis: delivery p50 / p99 at 1,000 msg/s < 5 / < 30 ms",
            "measured": f"at {step['offered_rate']:.0f} msg/s: p50 {p50} ms, p99 {p99} ms",
            "met": p50 is not None and p99 is not None and p50 < 5 and p99 < 30,
        })
    emb_knee = _get(emb, "knee.highest_rate_held")
    if emb_knee is not None:
        rows.append({
            "target": "embedded (SQLite, 1 process): knee (p99 < 50 ms) >= 1,000 msg/s",
            "measured": f"{emb_knee} msg/s at p99 <= {limit} ms; baseline 1p "
                        f"{_get(baseline_for(result, emb) or {}, 'knee.highest_rate_held')} msg/s",
            "met": emb_knee >= 1000 if strict else None,
        })
    for cname, cfg in (("embedded", emb), ("pg_redis", pg)):
        steps = _steps(cfg)
        if steps:
            bad = [sum(s[k] or 0 for s in steps) for k in ("lost", "duplicates", "order_errors")]
            rows.append({
                "target": f"lost / duplicated / out of order 0 / 0 / 0 at every rate ({cname})",
                "measured": f"{bad[0]} / {bad[1]} / {bad[2]} over {len(steps)} steps",
                "met": bad == [0, 0, 0],
            })
    return rows


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 10's targets (and the first harness's history, sync and lag), measured, never
    asserted."""
    rows: list[dict[str, Any]] = []
    for cname, cfg in result["configs"].items():
        for key, value in cfg.items():
            if isinstance(value, dict) and value.get("unsettled"):
                rows.append({"target": f"{key} ({cname})",
                             "measured": f"UNSETTLED: {value['unsettled']}", "met": None})

    def settled(cfg: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in cfg.items() if not (isinstance(v, dict) and v.get("unsettled"))}

    pg = settled(result["configs"].get("pg_redis", {}))
    emb = settled(result["configs"].get("embedded", {}))
    rows += _knee_targets(result, emb, pg)
    for cname, cfg in (("embedded", emb), ("pg_redis", pg)):
        base = baseline_for(result, cfg) or {}
        idle = cfg.get("idle")
        if idle:
            kb = idle["rss_kb_per_connection"]
            rows.append({
                "target": f"10,000 idle authenticated sockets, < 30 kB each over the empty "
                          f"process ({cname})",
                "measured": f"{idle['connections']} sockets on {idle['server_processes']} "
                            f"process(es): {kb} kB/socket, {idle['rss_mb']} MB in all "
                            f"(baseline {_get(base, 'idle.rss_kb_per_connection')} kB)",
                "met": (kb is not None and kb < 30) if idle["connections"] >= 10_000 else None,
            })
        rc = cfg.get("reconnect")
        if rc:
            value = rc["all_synced_after_ready_s"]
            ref = _get(base, "reconnect.all_synced_after_ready_s")
            ratio = round(value / ref, 2) if value is not None and ref else None
            rows.append({
                "target": f"5,000 clients reconnect and sync after a restart: < 10 s from "
                          f"/health, within 2x the baseline's ({cname})",
                "measured": f"{rc['synced']}/{rc['clients']} synced {value} s after the "
                            f"server answered ({rc['all_synced_after_stop_s']} s after the "
                            f"restart began); baseline {ref} s, ratio {ratio}",
                "met": (value is not None and value < 10 and rc["not_synced"] == 0
                        and (ratio is None or ratio <= 2))
                if rc["clients"] >= 5000 else None,
            })
        hist = cfg.get("history")
        if hist:
            p50 = hist["newest"]["p50"]
            rows.append({
                "target": f"history page of 50 from a 1,000,000-event thread < 5 ms ({cname})",
                "measured": f"{hist['thread_events']:,} events: newest p50 {p50} ms / p99 "
                            f"{hist['newest']['p99']} ms; middle p50 "
                            f"{hist['middle_before']['p50']} ms",
                "met": (p50 < 5) if hist["thread_events"] >= 1_000_000 else None,
            })
        sync = cfg.get("sync")
        if sync:
            p50 = sync["one_new_event_each"]["p50"]
            rows.append({
                "target": f"sync of 500 threads < 50 ms ({cname})",
                "measured": f"{sync['threads']} threads, one new event each: p50 {p50} ms, "
                            f"p99 {sync['one_new_event_each']['p99']} ms; up to date p50 "
                            f"{sync['up_to_date']['p50']} ms",
                "met": (p50 < 50) if sync["threads"] >= 500 else None,
            })
        lag = cfg.get("login_lag")
        if lag:
            p99 = lag["pong_ms_during_logins"]["p99"]
            rows.append({
                "target": f"event-loop lag p99 < 10 ms during 50 concurrent logins ({cname})",
                "measured": f"pong p99 {p99} ms (p50 {lag['pong_ms_during_logins']['p50']}, "
                            f"max {lag['pong_ms_during_logins']['max']}) over "
                            f"{lag['logins_seconds']} s of {lag['logins']} logins",
                "met": (p99 is not None and p99 < 10) if lag["logins"] >= 50 else None,
            })
    return rows


# --- output ------------------------------------------------------------------------------------


def table(result: dict[str, Any]) -> str:
    columns = [(f"carethread {n}", c) for n, c in result["configs"].items()]
    columns += [(f"baseline {n}", b) for n, b in result["baseline"].items()]
    rows = [
        ("server processes", "server_processes"),
        ("offered msg/s", "messaging.offered_rate"),
        ("achieved msg/s", "messaging.achieved_send_rate"),
        ("recipients/msg", "messaging.recipients_per_message"),
        ("delivery p50 ms", "messaging.delivery_ms.p50"),
        ("delivery p99 ms", "messaging.delivery_ms.p99"),
        ("delivery max ms", "messaging.delivery_ms.max"),
        ("ack p50 ms", "messaging.ack_ms.p50"),
        ("ack p99 ms", "messaging.ack_ms.p99"),
        ("delivered events/s", "messaging.delivered_per_s"),
        ("lost", "messaging.lost"),
        ("late: unacked at deadline", "messaging.unacked_at_deadline"),
        ("late: acked, undelivered", "messaging.acked_undelivered_at_deadline"),
        ("duplicated", "messaging.duplicates"),
        ("order errors", "messaging.order_errors"),
        ("server CPU %core", "messaging.cpu_pct_of_one_core.server"),
        ("generator CPU %core", "messaging.cpu_pct_of_one_core.generator"),
        ("postgres CPU %core", "messaging.cpu_pct_of_one_core.postgres"),
        ("redis CPU %core", "messaging.cpu_pct_of_one_core.redis"),
        ("knee msg/s (p99 limit)", "knee.highest_rate_held"),
        ("idle sockets", "idle.connections"),
        ("idle RSS MB", "idle.rss_mb"),
        ("idle kB/socket", "idle.rss_kb_per_connection"),
        ("reconnect clients", "reconnect.clients"),
        ("all synced after ready s", "reconnect.all_synced_after_ready_s"),
        ("all synced after stop s", "reconnect.all_synced_after_stop_s"),
        ("history events", "history.thread_events"),
        ("history newest p50 ms", "history.newest.p50"),
        ("history newest p99 ms", "history.newest.p99"),
        ("history middle p50 ms", "history.middle_before.p50"),
        ("sync N threads", "sync.threads"),
        ("sync 1 new each p50 ms", "sync.one_new_event_each.p50"),
        ("sync up to date p50 ms", "sync.up_to_date.p50"),
        ("pong idle p50 ms", "login_lag.pong_ms_idle.p50"),
        ("pong during logins p99", "login_lag.pong_ms_during_logins.p99"),
        ("pong during logins max", "login_lag.pong_ms_during_logins.max"),
        ("login p50 ms", "login_lag.login_ms.p50"),
    ]
    width = 26
    lines = ["".ljust(width) + "".join(name.rjust(20) for name, _ in columns)]
    for label, path in rows:
        values = []
        for name, data in columns:
            value = _get(data, path)
            if value is None and name.startswith("baseline") and path.startswith("login_lag"):
                value = _get(data, path.replace("login_lag.", "ping."))
            values.append("-" if value is None else f"{value}")
        if all(v == "-" for v in values):
            continue
        lines.append(label.ljust(width) + "".join(v.rjust(20) for v in values))
    lines.append("")
    for row in result["targets"]:
        mark = {True: "MET ", False: "MISS", None: "n/a "}[row["met"]]
        lines.append(f"[{mark}] {row['target']}\n        {row['measured']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = Run(args)
    log(f"bench {run.mode}: results in {run.out}, logs in {run.dir}")
    result = asyncio.run(run.main())
    run.out.parent.mkdir(parents=True, exist_ok=True)
    run.out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    (run.dir / "result.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    print()
    print(table(result))
    print(f"\n{result['wall_seconds']} s; figures in {run.out}")
    if run.args.save:
        RUNS.mkdir(exist_ok=True)
        saved = RUNS / f"{run.args.save}.json"
        saved.write_text(json.dumps(result, indent=1, default=str) + "\n")
        print(f"kept in {saved.relative_to(ROOT)} (commit it with the figures it backs)")
    if result["git"].get("server_dirty"):
        print("\nWARNING: the server ran from a working tree with uncommitted changes to "
              f"server/ or migrations/ ({', '.join(result['git']['dirty_files'][:8])}); these "
              "figures are not those of the commit named in the JSON")
    if run.unsettled:
        print("\nUNSETTLED (recorded with what was measured):\n  " + "\n  ".join(run.unsettled))
    if run.failures:
        print("\nCORRECTNESS FAILURES:\n  " + "\n  ".join(run.failures))
        return 1
    return 0
