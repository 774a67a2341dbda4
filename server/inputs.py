"""The decoding layer: every JSON body, WebSocket frame and URL passes here first.

One rule for all text, on both engines: a NUL character (U+0000) is refused with
`400 validation_error` (over WebSocket: an `invalid_frame` error), because PostgreSQL cannot
store it in text and no person types it. JSON is decoded strictly (`"3"` is not a number,
`"false"` not a boolean), may start with a UTF-8 byte-order mark, and nesting too deep to decode
is refused like any other malformed body.
"""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Parameter
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)
from litestar.types.empty import Empty

from server.errors import InvalidInput

# Bounds of the integers the database holds (query parameters are checked against these).
MAX_BIGINT = 2**63 - 1  # seq columns
MAX_INT = 2**31 - 1  # integer columns (form versions)

NUL_DETAIL = "Text may not contain the NUL character (U+0000)."
DEPTH_DETAIL = "JSON is nested too deeply."

# An RFC 3339 date-time as query parameters take it (`from`, `to`): a full date (years 1900 to
# 9000), `T`, a time with seconds (a fraction optional) and `Z` or an offset. No Unix
# timestamps, no dates alone, no times without a zone; a leap second (`:60`) is refused, as
# Python cannot hold it.
RFC3339_PATTERN = (
    r"^(19[0-9]{2}|[2-8][0-9]{3}|9000)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_RFC3339 = re.compile(RFC3339_PATTERN)
RFC3339_HINT = "an RFC 3339 time with a zone, e.g. 2026-12-01T09:00:00Z"
RFC3339_NOTE = "RFC 3339 with a zone, e.g. 2026-12-01T09:00:00Z (years 1900-9000)"
# A query parameter that takes such a time: a string in the schema, with the pattern, and
# parsed by `parse_rfc3339` (a clear 400 naming the field for anything else).
InstantQuery = Annotated[str | None, Parameter(description=RFC3339_NOTE,
                                               schema_extra={"pattern": RFC3339_PATTERN})]


def parse_rfc3339(raw: str | None, field: str) -> datetime | None:
    """A query parameter's RFC 3339 date-time, in UTC; None when not given. Anything else
    (a Unix timestamp, a date alone, no zone, 30 February) is `400 validation_error` naming
    the field."""
    if raw is None:
        return None
    match = _RFC3339.fullmatch(raw)
    if match is None:
        raise InvalidInput(f"`{field}` must be {RFC3339_HINT}.", extra={"field": field})
    text = raw.upper().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python holds microseconds: a longer fraction is cut, not rounded
        digits = re.match(r"[0-9]+", rest)
        assert digits is not None
        text = f"{head}.{digits.group(0)[:6].ljust(6, '0')}{rest[digits.end():]}"
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(f"`{field}` is not a real time ({raw!r}): {RFC3339_HINT}.",
                           extra={"field": field}) from None

# `\u0000` inside a JSON string, not preceded by an escaping backslash (`\\u0000` is the text
# "\u0000"). A raw NUL byte is not valid JSON and the decoder refuses it anyway.
_NUL_ESCAPE_BYTES = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_NUL_ESCAPE_TEXT = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


class RefusedInput(ValueError):
    """Input no field may hold; `detail` says why."""


def has_nul(raw: str | bytes) -> bool:
    if isinstance(raw, bytes):
        return b"\\u0000" in raw and _NUL_ESCAPE_BYTES.search(raw) is not None
    return "\x00" in raw or ("\\u0000" in raw and _NUL_ESCAPE_TEXT.search(raw) is not None)


@lru_cache(maxsize=256)
def _decoder(target: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(target, strict=True)


def decode_json(raw: str | bytes, target: Any = Any) -> Any:
    """Strictly decode JSON into `target`.

    Raises RefusedInput (NUL, nesting) and msgspec's DecodeError/ValidationError.
    """
    if isinstance(raw, bytes):
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
    elif raw.startswith("\ufeff"):
        raw = raw[1:]
    if has_nul(raw):
        raise RefusedInput(NUL_DETAIL)
    try:
        return _decoder(target).decode(raw)
    except RecursionError:
        raise RefusedInput(DEPTH_DETAIL) from None


def _body_type(request: Request[Any, Any, Any]) -> Any:
    """The type a handler's `data` is declared with, if its body is JSON."""
    try:
        field = request.route_handler.parsed_fn_signature.parameters.get("data")
    except AttributeError:
        return Any
    if field is None:
        return Any
    media_type = getattr(field.kwarg_definition, "media_type", None)
    if media_type not in (None, RequestEncodingType.JSON):
        return Any
    return field.annotation


class _InvalidBody:
    """A body that failed strict decoding: no type accepts it."""

    __slots__ = ()


INVALID_BODY = _InvalidBody()


class CarethreadRequest(Request[Any, Any, Any]):
    """Litestar's request with our JSON decoding (see the module's docstring).

    Litestar decodes a body to plain values and then converts them leniently, as it must for
    query strings; a JSON body is typed, so it is decoded strictly into the handler's `data`
    type here, and the value handed on is what Litestar's conversion passes through.
    """

    async def json(self) -> Any:
        if self._json is not Empty:
            return self._json
        if self._connection_state.json is not Empty:
            self._json = self._connection_state.json
            return self._json
        body = await self.body()
        target = _body_type(self)
        try:
            value = decode_json(body or b"null", target)
        except RefusedInput as exc:
            raise self._invalid(str(exc)) from None
        except msgspec.ValidationError as exc:
            # Not raised here: Litestar checks a body's shape after authenticating, so a stranger
            # learns nothing about it (401 first). The marker fails Litestar's own check, and the
            # error handler answers with what was found here.
            self.state.body_errors = self._invalid(str(exc), _error_key(str(exc))).extra
            value = INVALID_BODY
            self._json = self._connection_state.json = value
            return value
        except msgspec.DecodeError as exc:
            raise self._invalid(str(exc)) from None
        except TypeError:  # a type msgspec cannot decode into: leave it to Litestar
            value = decode_json(body or b"null")
        self._json = self._connection_state.json = value
        return value

    def _invalid(self, message: str, key: str | None = None) -> ValidationException:
        error: dict[str, str] = {"message": message.split(" - ", 1)[0], "source": "body"}
        if key:
            error["key"] = key
        return ValidationException(
            detail=f"Validation failed for {self.method} {self.url.path}", extra=[error]
        )


def _error_key(message: str) -> str | None:
    """`$.owner.email` from msgspec's "... - at `$.owner.email`"."""
    match = re.search(r"at `\$\.?(.*)`$", message)
    return match.group(1) or None if match else None


def refuse_nul_in_url(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: a NUL in the path or the query string answers 400 validation_error."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        ):
            body = msgspec.json.encode({"detail": NUL_DETAIL, "code": "validation_error"})
            start: HTTPResponseStartEvent = {
                "type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]}
            end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body,
                                          "more_body": False}
            await send(start)
            await send(end)
            return
        await app(scope, receive, send)

    return middleware
