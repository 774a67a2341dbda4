"""Running the app under uvicorn, one process or several sharing one listening socket."""

from __future__ import annotations

import os
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from server.settings import Settings


class TCPConfig(uvicorn.Config):
    """uvicorn's shared listening socket (`--workers` > 1) reports protocol 0, so asyncio never
    sets TCP_NODELAY on the connections it accepts, and Nagle's algorithm waits for the peer's
    delayed ACK: ~40 ms on every small response. Re-wrapping the socket makes the kernel report
    IPPROTO_TCP (bench/RESULTS.md: /health on a keep-alive connection, 44 ms -> 0.2 ms)."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            return socket.socket(fileno=sock.detach())
        return sock


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    config = TCPConfig(
        "server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False,  # costs hundreds of KB per connection
        log_level=os.environ.get("LOG_LEVEL", "info").lower(),
        access_log=os.environ.get("ACCESS_LOG", "0") == "1",
        lifespan="on",
    )
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()
