"""Building blocks for the care-between-visits stories (metrics, journals, the feed)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import Person, accept, add_client, unique_email
from tests.mailbox import Mailbox


async def signed_up_client(http: httpx.AsyncClient, mailbox: Mailbox, provider: Person,
                           name: str = "Robin Hart", **fields: Any
                           ) -> tuple[dict[str, Any], Person]:
    """A client the provider added, who accepted the invitation."""
    email = unique_email("client")
    client = await add_client(http, provider, name=name, email=email, **fields)
    person = await accept(http, (await mailbox.wait_for(email)).token)
    return client, person


async def log_metric(http: httpx.AsyncClient, who: Person, client_id: str, type: str,
                     value: Any, unit: str, **extra: Any) -> dict[str, Any]:
    resp = await http.post(f"/clients/{client_id}/metrics",
                           json={"type": type, "value": value, "unit": unit, **extra},
                           headers=who.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["entry"])


async def metrics_of(http: httpx.AsyncClient, who: Person, client_id: str, **params: Any
                     ) -> list[dict[str, Any]]:
    resp = await http.get(f"/clients/{client_id}/metrics", params=params, headers=who.headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["entries"])


async def write_journal(http: httpx.AsyncClient, who: Person, client_id: str, kind: str,
                        text: str, **extra: Any) -> dict[str, Any]:
    resp = await http.post(f"/clients/{client_id}/journal",
                           json={"kind": kind, "text": text, **extra}, headers=who.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["entry"])


async def feed(http: httpx.AsyncClient, who: Person, **params: Any) -> dict[str, Any]:
    resp = await http.get("/feed", params=params, headers=who.headers)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def last_seq(http: httpx.AsyncClient, who: Person, thread_id: str) -> int:
    resp = await http.get(f"/threads/{thread_id}", headers=who.headers)
    assert resp.status_code == 200, resp.text
    return int(resp.json()["thread"]["last_seq"])
