"""`GET /api/v1/ws`: authenticate the handshake, then hand the socket to a Connection."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar import WebSocket, websocket
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from server.accounts.service import authenticate
from server.auth import SESSION_COOKIE, bearer_token
from server.identity import Identity
from server.runtime import Runtime
from server.settings import Settings
from server.ws import frames
from server.ws.connection import Connection

log = logging.getLogger("carethread.ws")


def origin_allowed(settings: Settings, origin: str | None) -> bool:
    """Cookie sessions are a browser's; only our own origins may use them (CSWSH)."""
    if origin is None:
        return True  # not a browser: a browser always sends Origin on a WebSocket
    origin = origin.rstrip("/")
    return origin == settings.origin or origin in settings.allowed_origins


async def authenticate_socket(
    socket: WebSocket[Any, Any, Any], settings: Settings
) -> tuple[Identity | None, int, str]:
    token = bearer_token(socket.headers)
    if token is None:
        token = socket.cookies.get(SESSION_COOKIE)
        if token and not origin_allowed(settings, socket.headers.get("origin")):
            return None, frames.CLOSE_ORIGIN, "origin_not_allowed"
    if not token:
        return None, frames.CLOSE_UNAUTHENTICATED, "unauthenticated"
    identity = await authenticate(settings, token)
    if identity is None:
        return None, frames.CLOSE_UNAUTHENTICATED, "unauthenticated"
    forget_parsed_headers(socket)
    return identity, 0, ""


def forget_parsed_headers(socket: WebSocket[Any, Any, Any]) -> None:
    """Litestar caches the parsed headers and cookies for the connection's life (~2 kB per
    idle socket); only the handshake reads them. Dropped, they would be parsed again from the
    scope's raw headers (kept) if anything asked."""
    state = ScopeState.from_scope(socket.scope)
    state.headers = Empty
    state.cookies = Empty
    socket._cookies = Empty


@websocket("/api/v1/ws")
async def ws_endpoint(socket: WebSocket[Any, Any, Any], runtime: Runtime) -> None:
    """Real-time events and sends; see docs/api.md for the frames."""
    identity, close_code, error_code = await authenticate_socket(socket, runtime.settings)
    await socket.accept()
    if identity is None:
        detail = {
            "origin_not_allowed": "This origin may not open a socket with a cookie session.",
            "unauthenticated": "Log in first: a bearer token or the session cookie.",
        }[error_code]
        await socket.send_text(
            frames.encode({"type": "error", "code": error_code, "detail": detail}).decode()
        )
        await socket.close(code=close_code, reason=error_code)
        return
    # One line when a socket opens and one when it closes (uvicorn's are dropped: server/logs.py).
    opened = time.monotonic()
    log.debug("socket open: user %s", identity.user_id)
    try:
        await Connection(socket, identity, runtime).run()
    finally:
        log.debug("socket closed: user %s after %.1f s", identity.user_id,
                  time.monotonic() - opened)
