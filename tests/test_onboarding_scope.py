"""Every onboarding endpoint: strangers get 401, other practices 404, malformed bodies 4xx."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.helpers import add_client, new_practice

ENDPOINTS = [
    ("GET", "/clients/{client}", None),
    ("PATCH", "/clients/{client}", {"name": "Hijack"}),
    ("POST", "/clients/{client}/invitations", None),
    ("POST", "/clients/{client}/password-reset", None),
    ("PATCH", "/groups/{group}", {"name": "Hijack"}),
    ("POST", "/groups/{group}/invite-link", None),
    ("DELETE", "/groups/{group}", None),
    ("DELETE", "/tags/{tag}", None),
]

# A well-formed id that names nothing (fixed, so test ids are the same in every run).
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def practice(http: httpx.AsyncClient) -> dict[str, Any]:
    owner = await new_practice(http, "Scoped Practice")
    client = await add_client(http, owner, name="Scoped Client")
    group = (await http.post("/groups", json={"name": "G"}, headers=owner.headers)
             ).json()["group"]
    tag = (await http.post("/tags", json={"name": "T"}, headers=owner.headers)).json()["tag"]
    return {"owner": owner, "client": client["id"], "group": group["id"], "tag": tag["id"]}


async def test_another_practice_gets_not_found_and_changes_nothing(
    http: httpx.AsyncClient, practice: dict[str, Any]
) -> None:
    other = await new_practice(http, "Other Practice")
    for method, path, body in ENDPOINTS:
        url = path.format(**practice)
        resp = await http.request(method, url, json=body, headers=other.headers)
        assert resp.status_code == 404, (method, url, resp.text)
        assert resp.json()["code"] == "not_found"
    owner = practice["owner"]
    client = (await http.get(f"/clients/{practice['client']}", headers=owner.headers)).json()
    assert client["client"]["name"] == "Scoped Client"
    assert len((await http.get("/groups", headers=owner.headers)).json()["groups"]) == 1
    assert len((await http.get("/tags", headers=owner.headers)).json()["tags"]) == 1
    assert (await http.get("/clients", headers=other.headers)).json()["clients"] == []


async def test_strangers_are_unauthenticated(
    http: httpx.AsyncClient, practice: dict[str, Any]
) -> None:
    extra = [("GET", "/clients", None), ("POST", "/clients", {"name": "X"}),
             ("GET", "/groups", None), ("GET", "/tags", None),
             ("GET", "/practice/settings", None), ("POST", "/clients/import", None)]
    for method, path, body in ENDPOINTS + extra:
        resp = await http.request(method, path.format(**practice), json=body)
        assert resp.status_code == 401, (method, path)
        assert resp.json()["code"] == "unauthenticated"


async def test_unknown_ids_are_not_found(
    http: httpx.AsyncClient, practice: dict[str, Any]
) -> None:
    owner = practice["owner"]
    for ids in ({"client": str(uuid.uuid4()), "group": "nope", "tag": str(uuid.uuid4())},
                {"client": "not-a-uuid", "group": str(uuid.uuid4()), "tag": "x"}):
        for method, path, body in ENDPOINTS:
            resp = await http.request(method, path.format(**ids), json=body,
                                      headers=owner.headers)
            assert resp.status_code == 404, (method, path, resp.text)


@pytest.mark.parametrize(("method", "path", "body", "code"), [
    ("POST", "/clients", {}, "validation_error"),
    ("POST", "/clients", {"name": 3}, "validation_error"),
    ("POST", "/clients", {"name": "  "}, "validation_error"),
    ("POST", "/clients", {"name": "A", "email": "nope"}, "validation_error"),
    ("POST", "/clients", {"name": "A", "date_of_birth": "yesterday"}, "validation_error"),
    ("POST", "/clients", {"name": "A", "date_of_birth": "2999-01-01"}, "validation_error"),
    ("POST", "/clients", {"name": "A", "timezone": "Mars/Olympus"}, "validation_error"),
    ("POST", "/clients", {"name": "A", "primary_provider_id": "x"}, "validation_error"),
    ("POST", "/clients", {"name": "A", "primary_provider_id": UNKNOWN},
     "not_found"),
    ("POST", "/clients", {"name": "A", "group_id": UNKNOWN}, "not_found"),
    ("POST", "/clients", {"name": "A", "tag_ids": [UNKNOWN]}, "not_found"),
    ("POST", "/clients", {"name": "A", "care_team_ids": "all"}, "validation_error"),
    ("POST", "/clients", {"name": "A", "phone": "1" * 41}, "validation_error"),
    ("PATCH", "/clients/{client}", {"name": None}, "validation_error"),
    ("PATCH", "/clients/{client}", {"email": "bad"}, "validation_error"),
    ("PATCH", "/clients/{client}", {"group_id": 7}, "validation_error"),
    ("POST", "/groups", {"name": ""}, "validation_error"),
    ("POST", "/groups", {"name": "X", "kind": "vip"}, "validation_error"),
    ("POST", "/tags", {"name": "t" * 61}, "validation_error"),
    ("PATCH", "/practice/settings", {"welcome_enabled": "yes"}, "validation_error"),
    ("PATCH", "/practice/settings", {"assignment_mode": "random"}, "validation_error"),
    ("PATCH", "/practice/settings", {"welcome_text": "w" * 4001}, "validation_error"),
    ("POST", "/join/{group}", {"name": "A"}, "validation_error"),
    ("POST", "/password/forgot", {"email": 5}, "validation_error"),
    ("POST", "/password/reset", {"token": "x"}, "validation_error"),
    ("POST", "/sessions/switch", {"profile_id": "nope"}, "validation_error"),
])
async def test_malformed_bodies(
    http: httpx.AsyncClient, practice: dict[str, Any], method: str, path: str,
    body: dict[str, Any], code: str,
) -> None:
    owner = practice["owner"]
    resp = await http.request(method, path.format(**practice), json=body, headers=owner.headers)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["code"] == code, resp.text
    listed = (await http.get("/clients", headers=owner.headers)).json()["clients"]
    assert [c["name"] for c in listed] == ["Scoped Client"]


async def test_team_roles_on_settings_and_groups(
    http: httpx.AsyncClient, practice: dict[str, Any]
) -> None:
    owner = practice["owner"]
    from tests.helpers import new_bot

    bot = await new_bot(http, owner)
    # Bots are not the team: settings, groups and clients are staff business.
    assert (await http.patch("/practice/settings", json={"welcome_enabled": True},
                             headers=bot.headers)).status_code == 403
    assert (await http.get("/clients", headers=bot.headers)).status_code == 403
