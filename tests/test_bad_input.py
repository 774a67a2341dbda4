"""Malformed requests get a 4xx with a machine-readable code, and change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import PASSWORD, login, new_practice, unique_email

GOOD_OWNER = {"name": "Olivia", "email": "EMAIL", "password": PASSWORD}

ORGANIZATION_BODIES: list[tuple[str, Any, int, str]] = [
    ("not json", b"{nope", 400, "validation_error"),
    ("a list", [], 400, "validation_error"),
    ("empty object", {}, 400, "validation_error"),
    ("name of wrong type", {"name": 5, "owner": GOOD_OWNER}, 400, "validation_error"),
    ("owner missing", {"name": "A"}, 400, "validation_error"),
    ("password missing", {"name": "A", "owner": {"name": "O", "email": "EMAIL"}}, 400,
     "validation_error"),
    ("blank name", {"name": "   ", "owner": GOOD_OWNER}, 400, "validation_error"),
    ("oversize name", {"name": "n" * 201, "owner": GOOD_OWNER}, 400, "validation_error"),
    ("bad email", {"name": "A", "owner": {**GOOD_OWNER, "email": "no-at-sign"}}, 400,
     "validation_error"),
    ("short password", {"name": "A", "owner": {**GOOD_OWNER, "password": "short"}}, 400,
     "validation_error"),
    ("oversize password", {"name": "A", "owner": {**GOOD_OWNER, "password": "p" * 1025}}, 400,
     "validation_error"),
    ("null owner", {"name": "A", "owner": None}, 400, "validation_error"),
]


def _fill(body: Any, email: str) -> Any:
    if isinstance(body, dict):
        return {k: _fill(v, email) for k, v in body.items()}
    return email if body == "EMAIL" else body


@pytest.mark.parametrize(("case", "body", "status", "code"), ORGANIZATION_BODIES,
                         ids=[c[0] for c in ORGANIZATION_BODIES])
async def test_malformed_signup_is_refused_and_creates_nothing(
    http: httpx.AsyncClient, case: str, body: Any, status: int, code: str
) -> None:
    email = unique_email("malformed")
    if isinstance(body, bytes):
        resp = await http.post("/organizations", content=body,
                               headers={"Content-Type": "application/json"})
    else:
        resp = await http.post("/organizations", json=_fill(body, email))
    assert resp.status_code == status, resp.text
    assert resp.json()["code"] == code
    assert resp.json()["detail"]
    # Nothing was created: the email is still free.
    assert (await login(http, email)).json()["code"] == "invalid_credentials"


async def test_an_oversize_body_is_refused(http: httpx.AsyncClient) -> None:
    resp = await http.post("/organizations", content=b'{"name": "' + b"x" * 300_000 + b'"}',
                           headers={"Content-Type": "application/json"})
    assert resp.status_code == 413
    assert resp.json()["code"] == "payload_too_large"


@pytest.mark.parametrize(("path", "body"), [
    ("/sessions", {"email": 1, "password": "x"}),
    ("/sessions", {"email": "a@b.co"}),
    ("/sessions", {"email": "a@b.co", "password": "x", "profile_id": "not-a-uuid"}),
    ("/invitations/accept", {"token": "", "password": PASSWORD}),
    ("/invitations/accept", {"token": ["t"], "password": PASSWORD}),
    ("/invitations/accept", {"token": "t" * 201, "password": PASSWORD}),
    ("/providers", {"name": "X", "email": "x@y.org", "role": "owner"}),
    ("/providers", {"name": "X", "email": "not an email"}),
    ("/providers", {"name": "", "email": "x@y.org"}),
    ("/bots", {"name": 12}),
    ("/bots", {}),
])
async def test_malformed_bodies_elsewhere(
    http: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    owner = await new_practice(http)
    resp = await http.post(path, json=body, headers=owner.headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "validation_error"


async def test_unknown_routes_and_methods_answer_with_codes(http: httpx.AsyncClient) -> None:
    resp = await http.get("/no-such-thing")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    resp = await http.put("/sessions", json={})
    assert resp.status_code == 405 and resp.json()["code"] == "method_not_allowed"
