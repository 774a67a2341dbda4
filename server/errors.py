"""Every error answers `{detail, code}`; this module holds the codes and the handlers."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger("carethread.errors")


class AppError(Exception):
    """A failure the caller can act on; `code` is for programs, `detail` for people."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.headers = headers or {}
        self.extra = extra or {}


class InvalidInput(AppError):
    status_code = 400
    code = "validation_error"


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"


class InvalidCredentials(AppError):
    status_code = 401
    code = "invalid_credentials"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"

    def __init__(self, detail: str = "Not found.", **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Gone(AppError):
    status_code = 410
    code = "gone"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"


_CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _body(detail: str, code: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail, "code": code}
    if extra:
        body.update(extra)
    return body


def app_error_handler(_: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    return Response(
        _body(exc.detail, exc.code, exc.extra),
        status_code=exc.status_code,
        headers=exc.headers,
        media_type=MediaType.JSON,
    )


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, ValidationException) or (status == 400 and exc.extra):
        errors = exc.extra if isinstance(exc.extra, list) else None
        # What the strict decoding of the body found (server/inputs.py), said plainly.
        errors = getattr(request.state, "body_errors", None) or errors
        body = _body(str(exc.detail), "validation_error", {"errors": errors} if errors else None)
    elif status >= 500:
        log.error("server error: %s", exc.detail)
        body = _body("Internal server error.", "internal_error")
    else:
        body = _body(str(exc.detail), _CODE_BY_STATUS.get(status, "error"))
        if status == 400:
            body["code"] = "validation_error"
    return Response(body, status_code=status, headers=exc.headers, media_type=MediaType.JSON)


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return Response(
        _body("Internal server error.", "internal_error"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type=MediaType.JSON,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    AppError: app_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
