"""Building blocks for the appointment stories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.helpers import Person

ALL_WEEK = [{"day": d, "start": "08:00", "end": "20:00"} for d in range(7)]


async def new_type(http: httpx.AsyncClient, admin: Person, **fields: Any) -> dict[str, Any]:
    body = {"name": "Follow-up", "minutes": 60, "location": "video", **fields}
    resp = await http.post("/appointment-types", json=body, headers=admin.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["appointment_type"])


async def set_hours(http: httpx.AsyncClient, who: Person, provider_id: str,
                    time_zone: str = "America/New_York", weekly: list[dict[str, Any]] | None
                    = None, exceptions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    resp = await http.put(f"/providers/{provider_id}/availability",
                          json={"time_zone": time_zone, "weekly": weekly or ALL_WEEK,
                                "exceptions": exceptions or []}, headers=who.headers)
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["availability"])


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def free_slots(http: httpx.AsyncClient, who: Person, provider_id: str, type_id: str,
                     days_ahead: float = 2, span_days: float = 3) -> list[dict[str, str]]:
    start = datetime.now(UTC) + timedelta(days=days_ahead)
    resp = await http.get(f"/providers/{provider_id}/slots", params={
        "type_id": type_id, "from": iso(start), "to": iso(start + timedelta(days=span_days))},
        headers=who.headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["slots"])


async def book(http: httpx.AsyncClient, who: Person, provider_id: str, type_id: str,
               start: str, client_id: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"provider_id": provider_id, "type_id": type_id, "start": start}
    if client_id:
        body["client_id"] = client_id
    return await http.post("/appointments", json=body, headers=who.headers)
