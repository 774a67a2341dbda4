"""The OpenAPI schema names the shape of every answer of the API.

An app that reads `/schema/openapi.json` (a generated client, schemathesis) learns what
`POST /clients`, `GET /me` or `GET /appointments` answer from it, so no 2xx JSON body may fall
back to an untyped object (`{"type": "object", "additionalProperties": {}}`, what Litestar says
for a `dict[str, Any]`), at the top or anywhere inside. One object is open by design and says
so: an event's `data`, whose shape depends on its `kind` (docs/api.md lists them). Fast: the
app is built, never served.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import ROOT

API = "/api/v1"
# Open on purpose, each with a description in the schema: (component, property).
OPEN_BY_DESIGN = {"EventRecord.data"}
# A route of each domain: a renamed path cannot make the test pass by matching nothing.
DOMAINS = [
    r"/clients", r"/clients/import", r"/clients/\{client_id\}",
    r"/clients/\{client_id\}/(invitations|password-reset)",
    r"/providers", r"/groups(/.*)?", r"/tags(/.*)?", r"/team(/.*)?", r"/invitations(/.*)?",
    r"/join/.*", r"/me", r"/me/avatar", r"/sessions(/.*)?", r"/password/.*", r"/practice/settings",
    r"/organizations", r"/bots",
    r"/threads(/.*)?", r"/search", r"/feed(/.*)?", r"/forms(/.*)?", r"/form-requests(/.*)?",
    r"/intake-flows", r"/audit", r"/appointment-types(/.*)?", r"/appointments(/.*)?",
    r"/appointment-settings(/.*)?", r"/booking/.*", r"/providers/.*", r"/metric-types",
    r"/clients/\{client_id\}/(metrics|metric-types|metric-settings|journal)(/.*)?",
    r"/journal/.*", r"/me/calendar-feed",
]

BUILD = (
    "import json; from server.app import create_app; "
    "print(json.dumps(create_app().openapi_schema.to_schema()))"
)


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The schema as the server would serve it, built in a process of its own (building the
    app installs process-wide hooks this test process should not keep)."""
    db = tmp_path_factory.mktemp("schema") / "x.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": "s" * 48}
    run = subprocess.run([sys.executable, "-c", BUILD], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-4000:]
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def _untyped_spots(schema: dict[str, Any], node: Any, where: str,
                   seen: set[str]) -> list[str]:
    """Every place under `node` that is an object with no named properties."""
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _untyped_spots(schema, schema["components"]["schemas"][name], name, seen)
    if where in OPEN_BY_DESIGN and node.get("description"):
        return []
    found = []
    if (node.get("type") == "object" and not node.get("properties")
            and node.get("additionalProperties") in ({}, True, None)):
        found.append(where)
    for key in ("properties",):
        for prop, sub in (node.get(key) or {}).items():
            found += _untyped_spots(schema, sub, f"{where}.{prop}", seen)
    for key in ("items", "additionalProperties"):
        found += _untyped_spots(schema, node.get(key), f"{where}[]", seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in node.get(key) or []:
            found += _untyped_spots(schema, sub, where, seen)
    return found


def _answers(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`METHOD path status` → the JSON schema of that 2xx answer, for every API route."""
    answers = {}
    for path, item in schema["paths"].items():
        if not path.startswith(API + "/"):
            continue
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                for media, content in (response.get("content") or {}).items():
                    if status.startswith("2") and "json" in media:
                        answers[f"{method.upper()} {path} {status}"] = content.get("schema", {})
    return answers


def test_every_answer_of_the_api_has_a_named_shape(
        schema: dict[str, Any]) -> None:
    answers = _answers(schema)
    # Each domain pattern still names a route: a renamed path cannot make this pass vacuously.
    for domain in DOMAINS:
        assert any(re.fullmatch(API + domain, key.split()[1]) for key in answers), domain
    untyped = {key: spots for key, body in answers.items()
               if (spots := _untyped_spots(schema, body, "body", set()))}
    assert not untyped, f"answers without a named shape: {untyped}"


def test_the_client_and_the_user_are_described_field_by_field(schema: dict[str, Any]) -> None:
    """docs/api.md §3: the shapes outside apps rely on, with `null` where it can be."""
    components = schema["components"]["schemas"]
    answers = _answers(schema)

    def fields(key: str, *path: str) -> dict[str, Any]:
        node = answers[key]
        for step in path:
            node = components[node["$ref"].rsplit("/", 1)[-1]]["properties"][step]
            if "items" in node:
                node = node["items"]
            node = next((n for n in node.get("oneOf", [node]) if "$ref" in n), node)
        component = components[node["$ref"].rsplit("/", 1)[-1]]
        return component

    client = fields(f"GET {API}/clients/{{client_id}} 200", "client")
    assert {"id", "name", "email", "phone", "date_of_birth", "timezone", "status", "invitation",
            "primary_provider", "care_team", "group", "tags", "care_thread_id",
            "created_at"} <= set(client["properties"])
    assert set(client["required"]) >= {"email", "group", "care_thread_id"}

    user = fields(f"GET {API}/me 200", "user")
    assert {"id", "name", "role", "organization_id", "status", "email"} <= set(
        user["properties"])
    profile = fields(f"POST {API}/sessions 201", "profiles")
    assert "organization_name" in profile["required"]

    dry_run = fields(f"POST {API}/clients/import 200")
    assert set(dry_run["required"]) == {"dry_run", "rows", "errors"}  # the rest per kind of run
    assert f"POST {API}/clients/import 201" in answers
