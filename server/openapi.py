"""Making `/schema/openapi.json` tell the truth about errors and methods.

Litestar documents every 400 with its own error shape (`status_code`, `extra`) and no other 4xx;
the server answers `{detail, code, ...}` (server/errors.py) with the codes below. The schema is
corrected once, before it is first served. The `Allow` header of automatic
`OPTIONS` answers is corrected here too (Litestar lists only the methods of the handler that
created the route when several handlers share a path).
"""

from __future__ import annotations

import asyncio
import zoneinfo
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.accounts.service import EMAIL_PATTERN, WHITESPACE

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error answer: `detail` for people, `code` for programs "
                   "(docs/api.md §9). Schema errors add `errors`; some add `field`.",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "examples": ["validation_error", "not_found"]},
        "field": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {"type": "object", "additionalProperties": True},
        },
    },
    "additionalProperties": True,
}

DESCRIPTIONS = {
    400: "Bad input (`validation_error` and others): nothing changed",
    401: "Not logged in, or the session ended (`unauthenticated`); wrong password "
         "(`invalid_credentials`)",
    403: "Your role may not do this (`forbidden`), or a browser request without CSRF token",
    404: "No such thing for you (`not_found`): unknown, of another practice, or out of scope",
    409: "Conflicts with the current state (e.g. `email_taken`, `request_closed`)",
    410: "A link that was used, replaced or expired",
    413: "The body is too large (`payload_too_large`)",
    415: "The file is not of a type accepted here (`unsupported_media_type`)",
    429: "Too many attempts (`rate_limited`); see `Retry-After`",
}

# Codes that depend on a route's rules, beyond what its signature tells (docs/api.md §4, §11).
EXTRA_ERRORS: dict[tuple[str, str], tuple[int, ...]] = {
    ("POST", "/api/v1/organizations"): (409,),
    ("POST", "/api/v1/sessions"): (401, 404, 429),
    ("POST", "/api/v1/sessions/switch"): (429,),
    ("POST", "/api/v1/password/forgot"): (429,),
    ("POST", "/api/v1/password/reset"): (404, 410),
    ("POST", "/api/v1/password/change"): (429,),
    ("GET", "/api/v1/invitations/{token}"): (410,),
    ("POST", "/api/v1/invitations/accept"): (401, 404, 409, 410, 429),
    ("POST", "/api/v1/providers"): (409,),
    ("DELETE", "/api/v1/team/{user_id}"): (409,),
    ("POST", "/api/v1/clients"): (409,),
    ("PATCH", "/api/v1/clients/{client_id}"): (409,),
    ("POST", "/api/v1/clients/{client_id}/invitations"): (409,),
    ("POST", "/api/v1/clients/{client_id}/password-reset"): (409,),
    ("POST", "/api/v1/join/{code}"): (409, 429),
    ("POST", "/api/v1/threads/{thread_id}/members"): (409,),
    ("DELETE", "/api/v1/threads/{thread_id}/members/{user_id}"): (409,),
    ("GET", "/api/v1/appointments.ics"): (404,),  # a calendar token that is not valid
    ("GET", "/api/v1/notifications/unsubscribe"): (404,),
    ("POST", "/api/v1/notifications/unsubscribe"): (404,),
    ("POST", "/api/v1/groups"): (409,),
    ("PATCH", "/api/v1/groups/{group_id}"): (409,),
    ("POST", "/api/v1/tags"): (409,),
    ("POST", "/api/v1/form-requests"): (409,),
    ("PUT", "/api/v1/form-requests/{request_id}/draft"): (409,),
    ("POST", "/api/v1/form-requests/{request_id}/submit"): (409,),
    ("POST", "/api/v1/form-requests/{request_id}/calculate"): (409,),
    ("POST", "/api/v1/form-requests/{request_id}/cancel"): (409,),
    ("POST", "/api/v1/form-requests/{request_id}/remind"): (409,),
    ("GET", "/api/v1/form-requests/{request_id}/export"): (409,),
    ("POST", "/api/v1/appointment-types"): (409,),
    ("PATCH", "/api/v1/appointment-types/{type_id}"): (409,),
    ("POST", "/api/v1/appointments"): (409,),
    ("POST", "/api/v1/appointments/{appointment_id}/reschedule"): (409,),
    ("POST", "/api/v1/appointments/{appointment_id}/cancel"): (409,),
    ("POST", "/api/v1/booking/{code}"): (409, 429),
    ("POST", "/api/v1/files"): (415,),
    ("PUT", "/api/v1/me/avatar"): (415,),
    # From the wrong state (docs/api.md, programs and tasks); reached once typed answers let
    # schemathesis follow a created resource's id.
    ("POST", "/api/v1/programs/{program_id}/enrollments"): (409,),
    ("POST", "/api/v1/enrollments/{enrollment_id}/pause"): (409,),
    ("POST", "/api/v1/enrollments/{enrollment_id}/resume"): (409,),
    ("POST", "/api/v1/enrollments/{enrollment_id}/end"): (409,),
    ("POST", "/api/v1/enrollments/{enrollment_id}/modules/{module_id}/done"): (409,),
    ("POST", "/api/v1/tasks/{task_id}/complete"): (409,),
    ("POST", "/api/v1/tasks/{task_id}/cancel"): (409,),
}

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SCHEMA_PATH = "/schema"  # OpenAPIConfig(path=...) in server/app.py


def _handlers(app: Litestar) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    found[(method, route.path_format)] = handler
    return found


def error_codes(method: str, path: str, handler: Any) -> set[int]:
    """The 4xx answers a route can give."""
    params = handler.parsed_fn_signature.parameters
    codes = {400}  # any input, even a NUL in the query string
    if "identity" in params:
        codes |= {401, 403, 404}
    if "{" in path:
        codes.add(404)
    if method in _UNSAFE and ("data" in params or "request" in params):
        codes.add(413)
    codes |= set(EXTRA_ERRORS.get((method, path), ()))
    return codes


def correct_schema(app: Litestar) -> None:
    """Rewrite the generated schema's responses in place (Litestar caches and serves it)."""
    schema = _schema_dict(app)
    handlers = _handlers(app)
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            handler = handlers.get((method.upper(), path))
            if handler is None or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status in [s for s in responses if s.startswith("4")]:
                del responses[status]
            for code in sorted(error_codes(method.upper(), path, handler)):
                responses[str(code)] = {"description": DESCRIPTIONS[code],
                                        "content": {"application/json": {"schema": ref}}}
            if "204" in responses:  # no body, so no media type
                responses["204"].pop("content", None)
            for parameter in operation.get("parameters", []):
                _refine_parameter(parameter, handler)
    components = schema["components"]["schemas"]
    for name, component in components.items():
        if name != "Error":
            _refine(component, None, name)
    components["TimeZone"] = {"type": "string", "description": "An IANA time zone name",
                              "enum": sorted(zoneinfo.available_timezones())}


# What the services refuse, said in the schema (accounts.service.normalize_email /
# check_password / clean_name, forms.schema). The NUL rule of server/inputs.py holds for every
# string; it is said once, in docs/api.md, rather than as a pattern on each (which makes
# generating long valid strings from the schema very slow).
NOT_BLANK = f"^[^\\u0000]*[^{WHITESPACE}\\u0000][^\\u0000]*$"
# The service strips spaces around an email first.
EMAIL = f"^[{WHITESPACE}]*{EMAIL_PATTERN[1:-1]}[{WHITESPACE}]*$"
PROPERTY_RULES: dict[tuple[str, str], dict[str, Any]] = {
    ("OwnerIn", "password"): {"minLength": 8},
    ("AcceptInvitationIn", "password"): {"minLength": 8},
    ("ResetIn", "password"): {"minLength": 8},
    ("ChangePasswordIn", "new_password"): {"minLength": 8},
    ("JoinIn", "password"): {"minLength": 8},
    ("ForgotIn", "email"): {"pattern": ".*"},  # any text: the same answer for every email
    ("LoginIn", "email"): {"pattern": ".*"},  # a wrong one is only wrong credentials
    ("FormIn", "items"): {"minItems": 1},
    ("FormIn", "title"): {"pattern": NOT_BLANK},
    ("FormPatch", "title"): {"pattern": NOT_BLANK},
    ("FormPatch", "items"): {"minItems": 1},
}
_PATTERN_BY_NAME = {"name": NOT_BLANK, "email": EMAIL}


def _is_plain_string(node: dict[str, Any]) -> bool:
    """A string schema (maybe nullable) that no format, enum or pattern already pins down."""
    if any(key in node for key in ("pattern", "format", "enum", "const")):
        return False
    kinds = node.get("type")
    if kinds == "string" or (isinstance(kinds, list) and "string" in kinds):
        return True
    options = node.get("oneOf") or node.get("anyOf") or []
    return any(isinstance(o, dict) and o.get("type") == "string"
               and not any(k in o for k in ("pattern", "format", "enum", "const"))
               for o in options)


def _set_on_strings(node: dict[str, Any], key: str, value: Any) -> None:
    """On a string schema, or on the string branch of a nullable one."""
    options = [o for o in node.get("oneOf") or node.get("anyOf") or []
               if isinstance(o, dict) and o.get("type") == "string"]
    for target in options or [node]:
        target[key] = value


def _refine(node: Any, name: str | None, component: str | None = None) -> None:
    if not isinstance(node, dict):
        return
    if _is_plain_string(node) and name in _PATTERN_BY_NAME:
        _set_on_strings(node, "pattern", _PATTERN_BY_NAME[name])
    if name in ("timezone", "time_zone"):
        node["anyOf"] = [{"$ref": "#/components/schemas/TimeZone"}, *(
            [{"type": "null"}] if {"type": "null"} in node.get("oneOf", []) else [])]
        node.pop("oneOf", None)
        node.pop("type", None)
    for prop, sub in node.get("properties", {}).items():
        _refine(sub, prop)
        if component is not None:
            for key, value in PROPERTY_RULES.get((component, prop), {}).items():
                if key == "pattern":
                    _set_on_strings(sub, key, value)
                else:
                    sub[key] = value
    for key in ("items", "additionalProperties"):
        _refine(node.get(key), None)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in node.get(key, []):
            if isinstance(sub, dict) and sub.get("type") != "string":
                _refine(sub, None)


def _refine_parameter(parameter: dict[str, Any], handler: Any) -> None:
    schema = parameter.get("schema")
    if not isinstance(schema, dict):
        return
    # Litestar leaves out a bound of 0 and writes big ones as floats (2**63 - 1 rounds up):
    # the integers as declared.
    field = handler.parsed_fn_signature.parameters.get(parameter["name"])
    definition = getattr(field, "kwarg_definition", None)
    for key, bound in (("minimum", getattr(definition, "ge", None)),
                       ("maximum", getattr(definition, "le", None))):
        if isinstance(bound, int):
            schema[key] = bound


def _schema_dict(app: Litestar) -> dict[str, Any]:
    from litestar._openapi.plugin import OpenAPIPlugin

    plugin = app.plugins.get(OpenAPIPlugin)
    schema: dict[str, Any] = plugin.provide_openapi_schema()
    return schema


def openapi_truth(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: the schema is corrected before it is first served (in a worker thread:
    building it takes about a second), and `OPTIONS` answers list every method of the path."""
    methods_by_path: dict[str, str] = {}
    corrected = asyncio.Event()
    correcting = asyncio.Lock()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["path"].startswith(SCHEMA_PATH) and not corrected.is_set():
            async with correcting:
                if not corrected.is_set():
                    await asyncio.to_thread(correct_schema, scope["litestar_app"])
                    corrected.set()
        if scope.get("method") != "OPTIONS":
            await app(scope, receive, send)
            return
        if not methods_by_path:
            for route in scope["litestar_app"].routes:
                if isinstance(route, HTTPRoute):
                    methods_by_path[route.path_format] = ", ".join(sorted(route.methods))
        allow = methods_by_path.get(scope.get("path_template") or "")

        async def send_with_allow(message: Message) -> None:
            if allow and message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                headers.append((b"allow", allow.encode()))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_allow)

    return middleware
