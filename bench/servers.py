"""The servers under test: Carethread (`python -m server serve`) and the baseline fan-out server,
with their databases, Redis namespaces and CPU pinning."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import procstat
from bench.http import wait_healthy

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def pinning(enabled: bool, server_procs: int) -> tuple[list[int] | None, list[int] | None]:
    """(server cpus, generator cpus): separate cores where the machine has enough of them.

    A single-process server gets core 0 and the generator the rest. With more server
    processes than the machine can spare (2 workers + PostgreSQL + Redis on 2 cores), nothing
    is pinned and every process's CPU is reported instead.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if not enabled or len(cpus) < server_procs + 1:
        return None, None
    return cpus[:server_procs], cpus[server_procs:]


@dataclass
class Config:
    """One way of running Carethread."""

    name: str
    description: str
    workers: int
    postgres: bool
    redis: bool


CONFIGS = {
    "embedded": Config("embedded", "SQLite + in-memory bus, 1 process (the defaults)", 1,
                       False, False),
    "pg_redis": Config("pg_redis", "PostgreSQL + Redis, 2 server processes", 2, True, True),
}


@dataclass
class Backing:
    """The database and Redis namespace one configuration runs on, made fresh per run."""

    config: Config
    workdir: Path
    postgres_admin_url: str
    redis_url: str
    database_url: str = ""
    namespace: str = ""
    db_name: str | None = None

    async def create(self) -> None:
        self.namespace = f"ctbench-{uuid.uuid4().hex[:10]}"
        if self.config.postgres:
            import asyncpg

            self.db_name = f"carethread_bench_{uuid.uuid4().hex[:12]}"
            conn = await asyncpg.connect(self.postgres_admin_url, timeout=5)
            try:
                await conn.execute(f'CREATE DATABASE "{self.db_name}"')
            finally:
                await conn.close()
            self.database_url = self.postgres_admin_url.rsplit("/", 1)[0] + "/" + self.db_name
        else:
            self.workdir.mkdir(parents=True, exist_ok=True)
            self.database_url = f"sqlite:///{self.workdir / 'carethread.db'}"

    async def drop(self) -> None:
        if self.db_name:
            import asyncpg

            conn = await asyncpg.connect(self.postgres_admin_url, timeout=5)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            finally:
                await conn.close()
        await drop_namespace(self.redis_url, self.namespace)

    def env(self) -> dict[str, str]:
        env = {"DATABASE_URL": self.database_url, "REDIS_NAMESPACE": self.namespace}
        if self.config.redis:
            env["REDIS_URL"] = self.redis_url
        return env


async def drop_namespace(redis_url: str, namespace: str) -> None:
    if not namespace:
        return
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{namespace}*", count=1000)]
        if keys:
            await redis.delete(*keys)
    except Exception:
        pass
    finally:
        await redis.aclose()


# Load tests send far more than a person types: lift the per-socket frame rate limit.
LOAD_SETTINGS = {
    "WS_MESSAGES_PER_SECOND": "100000",
    "WS_BURST": "100000",
}


@dataclass
class CarethreadServer:
    backing: Backing
    workers: int
    cpus: list[int] | None = None
    server_root: Path = ROOT
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(40))
    starts: int = 0
    ready_at: float = 0.0  # when /health first answered after the last start

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/api/v1/ws"

    @property
    def log_path(self) -> Path:
        return self.backing.workdir / f"server-{self.backing.config.name}-{self.port}.log"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"CI"}}
        env.update(self.backing.env())
        env.update({"SECRET_KEY": self.secret_key, "BASE_URL": f"http://{HOST}:{self.port}",
                    "LOG_LEVEL": "WARNING", **LOAD_SETTINGS, **self.extra_env})
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in [str(self.server_root), env.get("PYTHONPATH", "")] if p)
        return env

    async def start(self, migrate: bool = True) -> float:
        """Start and wait for /health; the seconds until it answered."""
        self.backing.workdir.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "server", "serve", "--host", HOST, "--port", str(self.port),
                "--workers", str(self.workers)]
        if not migrate:
            args.append("--no-migrate")
        cpus = self.cpus
        start = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args, cwd=self.backing.workdir, env=self.environment(), stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
            )
        try:
            await wait_healthy(HOST, self.port, timeout=90)
        except TimeoutError:
            raise RuntimeError(f"server did not start:\n{self.log_tail()}") from None
        self.ready_at = time.monotonic()
        if self.workers > 1:  # every worker up, not just the first
            deadline = time.monotonic() + 30
            while len(self.worker_pids()) < self.workers and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            for _ in range(self.workers * 4):
                await wait_healthy(HOST, self.port, timeout=30)
        self.starts += 1
        return time.monotonic() - start

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the workers, or the one process."""
        if self.proc is None:
            return []
        if self.workers == 1:
            return [self.proc.pid]
        return [p for p in procstat.children(self.proc.pid)
                if "resource_tracker" not in procstat.cmdline(p)]

    def all_pids(self) -> list[int]:
        if self.proc is None:
            return []
        return list(dict.fromkeys([self.proc.pid, *self.worker_pids()]))

    def hasher_pids(self) -> list[int]:
        """The password-hashing processes the workers start (server/security.py)."""
        return [p for w in self.worker_pids() for p in procstat.children(w)
                if "multiprocessing.spawn" in procstat.cmdline(p)]

    def rss(self) -> int:
        return sum(procstat.rss_bytes(p) for p in self.all_pids())

    async def stop(self, timeout: float = 20) -> float:
        """SIGTERM and wait (a graceful restart); SIGKILL after `timeout`. Seconds it took."""
        start = time.monotonic()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            while self.proc.poll() is None and time.monotonic() - start < timeout:
                await asyncio.sleep(0.02)
            if self.proc.poll() is None:
                for pid in self.worker_pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                self.proc.kill()
                self.proc.wait()
        return time.monotonic() - start

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class BaselineServer:
    """N processes of bench.baseline on one port (SO_REUSEPORT), fanning out through Redis."""

    workdir: Path
    redis_url: str
    procs: int
    auth: dict[str, Any]
    cpus: list[int] | None = None
    port: int = field(default_factory=free_port)
    namespace: str = field(default_factory=lambda: f"ctbench-base-{uuid.uuid4().hex[:8]}")
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ready_at: float = 0.0

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/api/v1/ws"

    async def start(self) -> float:
        import json

        self.workdir.mkdir(parents=True, exist_ok=True)
        auth_path = self.workdir / f"baseline-auth-{self.port}.json"
        auth_path.write_text(json.dumps(self.auth))
        env = dict(os.environ)
        if self.cpus:
            env["BENCH_CPUS"] = ",".join(str(c) for c in self.cpus)
        env["PYTHONPATH"] = os.pathsep.join(p for p in [str(ROOT), env.get("PYTHONPATH", "")]
                                            if p)
        start = time.monotonic()
        log = open(self.workdir / f"baseline-{self.port}.log", "ab")
        for _ in range(self.procs):
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "bench.baseline", "--port", str(self.port), "--redis",
                 self.redis_url, "--namespace", self.namespace, "--auth", str(auth_path)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            ))
        log.close()
        await wait_healthy(HOST, self.port, timeout=30)
        self.ready_at = time.monotonic()
        await asyncio.sleep(0.5 if self.procs > 1 else 0)  # the others bind too
        return time.monotonic() - start

    def worker_pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.poll() is None]

    def all_pids(self) -> list[int]:
        return self.worker_pids()

    def rss(self) -> int:
        return sum(procstat.rss_bytes(p) for p in self.worker_pids())

    async def stop(self, timeout: float = 10) -> float:
        start = time.monotonic()
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.processes = []
        await drop_namespace(self.redis_url, self.namespace)
        return time.monotonic() - start
