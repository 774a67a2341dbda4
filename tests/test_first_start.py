"""What a newcomer's terminal shows: where to go, one line about the database, one log format,
one line per socket (at debug), the access log on request, and an API browser that works with
no internet."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx
import websockets

from tests.conftest import Backend, Server, server_env
from tests.helpers import new_practice
from tests.mailbox import Mailbox

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) [\w.]+: ")


def _lines(srv: Server) -> list[str]:
    assert srv.log_path is not None
    return srv.log_path.read_text().splitlines()


def _fresh(backend: Backend, tmp_path: Path) -> Backend:
    """The same engine in a new folder; on SQLite also a new, empty database file."""
    env = dict(backend.env)
    if backend.name == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'carethread.db'}"
    return Backend(backend.name, env, tmp_path)


def test_a_first_start_says_where_to_go_in_one_format(
    backend: Backend, mailbox: Mailbox, tmp_path: Path
) -> None:
    srv = Server(_fresh(backend, tmp_path), server_env(backend, mailbox))
    srv.start()
    try:
        time.sleep(0.3)
        lines = _lines(srv)
    finally:
        srv.stop()
    assert lines and all(LINE.match(line) for line in lines), "\n".join(lines)
    database = [line for line in lines if "carethread.db: database" in line]
    assert len(database) == 1, lines
    assert re.search(r"(applied \d+ new migrations?, up to date|up to date) \(\d+", database[0])
    assert not [line for line in lines if "migrations not yet run" in line or "Sqlite" in line]
    ready = [line for line in lines if "Carethread is running at" in line]
    assert len(ready) == 1, lines
    assert f"http://127.0.0.1:{srv.port}" in ready[0]
    assert "open it in a browser and create your practice" in ready[0]

    again = Server(_fresh(backend, tmp_path), server_env(backend, mailbox))
    again.start()
    again.stop()
    second = [line for line in _lines(again) if "carethread.db: database" in line]
    assert len(second) == 1 and "up to date" in second[0] and "applied" not in second[0]


async def test_sockets_log_one_line_each_at_debug_and_requests_on_request(
    backend: Backend, mailbox: Mailbox, tmp_path: Path
) -> None:
    srv = Server(_fresh(backend, tmp_path),
                 server_env(backend, mailbox, LOG_LEVEL="DEBUG", ACCESS_LOG="1"))
    srv.start()
    try:
        async with httpx.AsyncClient(base_url=srv.url + "/api/v1") as http:
            owner = await new_practice(http)
        async with websockets.connect(srv.ws_url, additional_headers=owner.headers) as ws:
            assert '"ready"' in await ws.recv()
        await asyncio.sleep(0.5)
        lines = _lines(srv)
    finally:
        srv.stop()
    assert all(LINE.match(line) for line in lines), "\n".join(lines)
    opened = [line for line in lines if f"socket open: user {owner.id}" in line]
    closed = [line for line in lines if f"socket closed: user {owner.id}" in line]
    assert len(opened) == 1 and len(closed) == 1, lines
    assert " DEBUG " in opened[0] and " DEBUG " in closed[0]
    assert not [line for line in lines if "[accepted]" in line or "connection open" in line]
    assert any('"POST /api/v1/organizations HTTP/1.1" 201' in line for line in lines), lines


def test_at_the_default_level_sockets_and_requests_stay_quiet(server: Server) -> None:
    with httpx.Client() as http:
        assert http.get(server.url + "/health").status_code == 200
    time.sleep(0.2)
    lines = _lines(server)
    assert not [line for line in lines if "socket open" in line or "[accepted]" in line]
    assert not [line for line in lines if '"GET /health' in line]


def test_the_api_browser_needs_no_internet(server: Server) -> None:
    with httpx.Client(base_url=server.url) as http:
        page = http.get("/schema")
        assert page.status_code == 200
        scripts = re.findall(r"<script src=\"([^\"]+)\"", page.text)
        assert scripts == ["/schema-assets/redoc.standalone.js"]
        assert "googleapis" not in page.text and "cdn." not in page.text
        script = http.get(scripts[0])
        assert script.status_code == 200 and len(script.content) > 500_000
        assert "Redoc" in script.text[:2000]
