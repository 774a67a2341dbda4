"""The OpenAPI schema tells the truth: schemathesis, with every check, against a real server.

Bounded (a few examples per operation, a fixed seed) so it runs in CI on both backends; run
`st run` by hand with more examples to look further (schemathesis.toml holds the settings).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT
from tests.helpers import PASSWORD, unique_email

# Operations that end the caller's own session, which the run needs to the end.
ENDS_THE_SESSION = r"/sessions/current$|/sessions/switch$|/password/change$"


@pytest.mark.timeout(900)
def test_schemathesis_finds_nothing_the_schema_does_not_say(start_server: Any) -> None:
    # A process of its own: its login throttle and rate limits must not spill over.
    srv = start_server(REDIS_NAMESPACE=f"ct-st-{uuid.uuid4().hex[:8]}")
    resp = httpx.post(srv.url + "/api/v1/organizations", json={
        "name": "Schemathesis Wellness",
        "owner": {"name": "Sam Thesis", "email": unique_email("st"), "password": PASSWORD}},
        timeout=30)
    assert resp.status_code == 201, resp.text
    token = resp.json()["token"]
    st = Path(sys.executable).parent / "st"
    run = subprocess.run(
        [str(st), "run", srv.url + "/schema/openapi.json",
         "-H", f"Authorization: Bearer {token}",
         "--max-examples", "5", "--seed", "11", "--exclude-path-regex", ENDS_THE_SESSION,
         "--no-color"],
        cwd=ROOT, capture_output=True, text=True, timeout=840,
        env={**os.environ, "NO_COLOR": "1"},
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-12_000:]
    assert "Schema-valid request rejected" not in report
    assert "Server error" not in report
