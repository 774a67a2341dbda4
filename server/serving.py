"""Running the app under uvicorn, one process or several sharing one listening socket."""

from __future__ import annotations

import logging
import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from server import logs
from server.settings import Settings
from server.ws.protocol import LeanWebSocketsProtocol

log = logging.getLogger("carethread")


class TCPConfig(uvicorn.Config):
    """uvicorn's shared listening socket (`--workers` > 1) reports protocol 0, so asyncio never
    sets TCP_NODELAY on the connections it accepts, and Nagle's algorithm waits for the peer's
    delayed ACK: ~40 ms on every small response. Re-wrapping the socket makes the kernel report
    IPPROTO_TCP (bench/RESULTS.md: /health on a keep-alive connection, 44 ms -> 0.2 ms).

    WebSockets use uvicorn's websockets-sansio protocol, minus what it kept per idle socket
    (`server/ws/protocol.py`), unless `ws` names another."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        if kwargs.get("ws", "auto") == "auto":
            kwargs["ws"] = LeanWebSocketsProtocol
        super().__init__(app, **kwargs)

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            return socket.socket(fileno=sock.detach())
        return sock


def address(host: str, port: int) -> str:
    """Where a browser on this machine reaches the server."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class ReadyServer(uvicorn.Server):
    """Says where to go once the app has started (uvicorn's own line names no next step)."""

    url = ""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            log.info("Carethread is running at %s: open it in a browser and create your "
                     "practice (Ctrl+C stops it)", self.url)


def serve(settings: Settings, host: str, port: int, workers: int, *, level: str = "INFO",
          access_log: bool = False) -> None:
    config = TCPConfig(
        "server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False,  # costs hundreds of KB per connection
        log_config=logs.config(level),
        log_level=level.lower(),
        access_log=access_log,
        lifespan="on",
        loop=settings.event_loop,
    )
    url = address(host, port)
    if config.workers > 1:
        sock = config.bind_socket()
        log.info("Carethread is running at %s with %d workers: open it in a browser and "
                 "create your practice (Ctrl+C stops it)", url, config.workers)
        Multiprocess(config, sockets=[sock]).run()
    else:
        server = ReadyServer(config)
        server.url = url
        server.run()
