"""Who is calling: bearer tokens for apps and bots, the session cookie (with CSRF) for browsers."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie, Headers

from server.accounts.service import authenticate
from server.errors import Forbidden, Unauthenticated
from server.identity import Identity
from server.runtime import Runtime
from server.security import hash_token, sign
from server.settings import Settings

SESSION_COOKIE = "carethread_session"
CSRF_COOKIE = "carethread_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(settings: Settings, session_token: str) -> str:
    """Bound to the session, so a token planted by another site cannot match."""
    return sign(settings.secret_key, "csrf:" + hash_token(session_token))


def bearer_token(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def session_cookies(settings: Settings, token: str) -> list[Cookie]:
    common: dict[str, Any] = {
        "path": "/",
        "secure": settings.cookie_secure,
        "samesite": "lax",
        "max_age": settings.session_lifetime_seconds,
    }
    return [
        Cookie(key=SESSION_COOKIE, value=token, httponly=True, **common),
        Cookie(key=CSRF_COOKIE, value=csrf_token(settings, token), httponly=False, **common),
    ]


def clear_session_cookies(response: Response[Any]) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def token_from_request(request: Request[Any, Any, Any], settings: Settings) -> str:
    """The caller's token; a cookie-authenticated unsafe request must carry the CSRF header."""
    token = bearer_token(request.headers)
    if token:
        return token
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated("Log in first: send a bearer token or the session cookie.")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, csrf_token(settings, token)):
            raise Forbidden(
                f"Missing or wrong {CSRF_HEADER} header for a cookie session.", code="csrf_failed"
            )
    return token


async def current_identity(request: Request[Any, Any, Any], runtime: Runtime) -> Identity:
    token = token_from_request(request, runtime.settings)
    identity = await authenticate(runtime.settings, token)
    if identity is None:
        raise Unauthenticated("This session has ended or the token is not valid. Log in again.")
    return identity
