"""Real services for the tests: carethread server processes, SQLite or PostgreSQL, Redis, SMTP.

Every test that takes `server` runs twice: against SQLite with the in-memory bus, and against
PostgreSQL with Redis. Without PostgreSQL or Redis those runs skip, with the reason; under
CI=true they fail instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mailbox import Mailbox

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ASYNCIO_INI = ("asyncio_mode", "asyncio_default_fixture_loop_scope",
               "asyncio_default_test_loop_scope")


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """The browser run disables pytest-asyncio (`-p no:asyncio`); its options in pyproject.toml
    are then declared here, so pytest does not warn about them as unknown."""
    if pluginmanager.is_blocked("asyncio"):
        for name in ASYNCIO_INI:
            parser.addini(name, "pytest-asyncio's (disabled in this run)")


def need(service: str, reason: str) -> None:
    """Skip for a newcomer, fail in CI."""
    message = f"{service} is not available ({reason})"
    if IN_CI:
        pytest.fail(message + "; CI requires it", pytrace=False)
    pytest.skip(message + "; start it to run these tests")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_admin(sql: str) -> None:
    async def run() -> None:
        import asyncpg

        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def _redis_ping() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()


@dataclass
class Backend:
    name: str
    env: dict[str, str]
    workdir: Path


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())
    box.start()
    yield box
    box.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Backend]:
    workdir = tmp_path_factory.mktemp(request.param)
    env = {"SECRET_KEY": secrets.token_urlsafe(40)}
    if request.param == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'carethread.db'}"
        yield Backend("sqlite", env, workdir)
        return
    name = f"carethread_test_{uuid.uuid4().hex[:12]}"
    try:
        _postgres_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        need("PostgreSQL", f"{POSTGRES_URL}: {exc}")
    try:
        _redis_ping()
    except Exception as exc:
        need("Redis", f"{REDIS_URL}: {exc}")
    env["DATABASE_URL"] = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    env["REDIS_URL"] = REDIS_URL
    env["REDIS_NAMESPACE"] = f"ct-test-{uuid.uuid4().hex[:8]}"
    try:
        yield Backend("postgres", env, workdir)
    finally:
        try:
            _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:
            pass


@dataclass
class Server:
    """A `carethread serve` process on a free port."""

    backend: Backend
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws"

    def start(self, migrate: bool = True) -> None:
        self.log_path = self.backend.workdir / f"server-{self.port}.log"
        args = [sys.executable, "-m", "server", "serve", "--port", str(self.port)]
        if not migrate:
            args.append("--no-migrate")
        env = {**os.environ, **self.env}
        env.pop("CI", None)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args, cwd=self.backend.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer /health:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def server_env(backend: Backend, mailbox: Mailbox, **extra: str) -> dict[str, str]:
    return {
        **backend.env,
        "SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}",
        "SMTP_TLS": "none",
        "OUTBOX_POLL_SECONDS": "0.5",
        "BASE_URL": "http://carethread.test",
        "ALLOWED_ORIGINS": "http://carethread.test",
        "LOG_LEVEL": "INFO",
        # Unread-message emails would land in other tests' mailboxes once a session runs past
        # the delay (or a test moves the clock); the tests of that feature set their own.
        "NOTIFY_DELAY_SECONDS": "31536000000",
        # Many server processes share one PostgreSQL (max_connections 100) while tests run in
        # parallel: a pool of 20 each ran it out once in CI.
        "DB_POOL_SIZE": "6",
        **extra,
    }


@pytest.fixture(scope="session")
def server(backend: Backend, mailbox: Mailbox) -> Iterator[Server]:
    srv = Server(backend, server_env(backend, mailbox))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def start_server(server: Server, backend: Backend, mailbox: Mailbox) -> Iterator[Any]:
    """Start extra servers on the session's database (migrations already ran)."""
    started: list[Server] = []

    def start(**extra: str) -> Server:
        srv = Server(backend, server_env(backend, mailbox, **extra))
        srv.start(migrate=False)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    """An app's client: bearer tokens only, so it drops the cookies login sets."""
    async with app_client(server.url) as client:
        yield client


def app_client(url: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url + "/api/v1", timeout=30)

    async def forget_cookies(response: httpx.Response) -> None:
        client.cookies.clear()

    client.event_hooks["response"].append(forget_cookies)
    return client


@dataclass
class RedisProcess:
    """A Redis of the test's own, so it can be stopped and restarted mid-conversation."""

    binary: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    import shutil

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        need("redis-server", "no redis-server binary to start a private Redis")
    redis_proc = RedisProcess(binary)
    redis_proc.start()
    yield redis_proc
    redis_proc.stop()


@pytest.fixture
def cluster_backend(tmp_path: Path, own_redis: RedisProcess) -> Iterator[Backend]:
    """PostgreSQL plus a private Redis: what several server processes share."""
    name = f"carethread_test_{uuid.uuid4().hex[:12]}"
    try:
        _postgres_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        need("PostgreSQL", f"{POSTGRES_URL}: {exc}")
    env = {
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": POSTGRES_URL.rsplit("/", 1)[0] + "/" + name,
        "REDIS_URL": own_redis.url,
    }
    try:
        yield Backend("cluster", env, tmp_path)
    finally:
        try:
            _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:
            pass
