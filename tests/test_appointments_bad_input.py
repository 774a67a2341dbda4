"""Bad bookings get a clear 4xx with a code and change nothing: a start not on a slot, in the
past, inside the minimum notice, outside hours, beyond the horizon; another practice's provider
or type is 404; an unknown time zone is 400; strangers and malformed bodies are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.appointments_helpers import book, free_slots, iso, new_type, set_hours
from tests.helpers import Person, accept, add_client, invite_staff, new_practice, unique_email
from tests.mailbox import Mailbox

NEW_YORK = ZoneInfo("America/New_York")


async def _practice(http: httpx.AsyncClient, mailbox: Mailbox
                    ) -> tuple[Person, Person, Person, dict[str, Any]]:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    kind = await new_type(http, owner, min_notice_minutes=24 * 60, horizon_days=14)
    # Weekdays 09:00-17:00 in New York.
    await set_hours(http, provider, provider.id, weekly=[
        {"day": d, "start": "09:00", "end": "17:00"} for d in range(5)])
    email = unique_email("client")
    await add_client(http, provider, email=email)
    client = await accept(http, (await mailbox.wait_for(email)).token)
    return owner, provider, client, kind


async def _nothing_booked(http: httpx.AsyncClient, provider: Person) -> None:
    resp = await http.get("/appointments", params={"provider_id": provider.id},
                          headers=provider.headers)
    assert resp.json()["appointments"] == []


async def test_starts_that_are_not_bookable_are_refused_with_their_reason(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    _, provider, client, kind = await _practice(http, mailbox)
    slots = await free_slots(http, client, provider.id, kind["id"], days_ahead=1, span_days=7)
    # A morning slot: 20 minutes after the day's last one would be outside hours as well.
    slots = [s for s in slots
             if datetime.fromisoformat(s["start"]).astimezone(NEW_YORK).hour < 12]
    good = datetime.fromisoformat(slots[0]["start"])
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    cases = {
        "not_on_slot": good + timedelta(minutes=20),
        "in_the_past": good - timedelta(days=7 * 3),
        "inside_minimum_notice": now + timedelta(hours=2),
        "beyond_horizon": good + timedelta(days=28),
        # 22:00 or 23:00 in New York, two days on.
        "outside_hours": good.replace(hour=3) + timedelta(days=2),
    }
    for code, start in cases.items():
        resp = await book(http, client, provider.id, kind["id"], iso(start))
        assert resp.status_code == 400, (code, resp.text)
        assert resp.json()["code"] == code
    await _nothing_booked(http, provider)
    # A start without a time zone is ambiguous.
    resp = await book(http, client, provider.id, kind["id"], slots[0]["start"][:-1])
    assert resp.status_code == 400
    # Rescheduling checks the same rules.
    resp = await book(http, client, provider.id, kind["id"], slots[0]["start"])
    assert resp.status_code == 201
    appointment = resp.json()["appointment"]
    resp = await http.post(f"/appointments/{appointment['id']}/reschedule",
                           json={"start": iso(good + timedelta(minutes=7))},
                           headers=client.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "not_on_slot"


async def test_another_practice_is_404_and_unknown_time_zones_are_400(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, provider, client, kind = await _practice(http, mailbox)
    slot = (await free_slots(http, client, provider.id, kind["id"], days_ahead=2))[0]["start"]
    other_owner, other_provider, other_client, other_kind = await _practice(http, mailbox)

    # Another practice's provider, type, client: not found, for booking and for slots.
    for who, provider_id, type_id in ((client, other_provider.id, kind["id"]),
                                      (client, provider.id, other_kind["id"]),
                                      (other_client, provider.id, kind["id"])):
        resp = await book(http, who, provider_id, type_id, slot)
        assert resp.status_code == 404, resp.text
        resp = await http.get(f"/providers/{provider_id}/slots",
                              params={"type_id": type_id}, headers=who.headers)
        assert resp.status_code == 404
    resp = await book(http, owner, provider.id, kind["id"], slot, other_client.id)
    assert resp.status_code == 404
    resp = await http.put(f"/providers/{provider.id}/availability", headers=other_owner.headers,
                          json={"time_zone": "UTC", "weekly": []})
    assert resp.status_code == 404
    resp = await http.patch(f"/appointment-types/{kind['id']}", json={"minutes": 30},
                            headers=other_owner.headers)
    assert resp.status_code == 404
    # A client is not a provider; nonsense ids are not found.
    for provider_id in (client.id, "not-an-id"):
        resp = await book(http, owner, provider_id, kind["id"], slot, client.id)
        assert resp.status_code in (400, 404)
    resp = await http.get("/providers/not-an-id/slots", params={"type_id": kind["id"]},
                          headers=client.headers)
    assert resp.status_code == 404

    for zone in ("Mars/Olympus_Mons", "../../etc/passwd", ""):
        resp = await http.put(f"/providers/{provider.id}/availability",
                              json={"time_zone": zone, "weekly": []}, headers=provider.headers)
        assert resp.status_code == 400, zone
        assert resp.json()["code"] in ("unknown_time_zone", "validation_error")
    resp = await http.put(f"/providers/{provider.id}/availability",
                          json={"time_zone": "Mars/Olympus_Mons", "weekly": []},
                          headers=provider.headers)
    assert resp.json()["code"] == "unknown_time_zone"
    # Hours unchanged: the slot is still offered.
    assert slot in [s["start"] for s in await free_slots(http, client, provider.id, kind["id"],
                                                          days_ahead=2)]


BAD_HOURS: list[tuple[str, Any]] = [
    ("end before start", {"time_zone": "UTC", "weekly": [{"day": 0, "start": "10:00",
                                                          "end": "09:00"}]}),
    ("day 7", {"time_zone": "UTC", "weekly": [{"day": 7, "start": "09:00", "end": "10:00"}]}),
    ("bad time", {"time_zone": "UTC", "weekly": [{"day": 0, "start": "9am", "end": "10:00"}]}),
    ("weekly missing", {"time_zone": "UTC"}),
    ("not a date", {"time_zone": "UTC", "weekly": [], "exceptions": [{"date": "2026-13-45"}]}),
    ("half an exception", {"time_zone": "UTC", "weekly": [],
                           "exceptions": [{"date": "2026-12-01", "start": "09:00"}]}),
    ("a list", []),
    ("half a day", {"time_zone": "UTC", "weekly": [{"day": 3.5, "start": "09:00",
                                                    "end": "10:00"}]}),
    ("day as text", {"time_zone": "UTC", "weekly": [{"day": "3", "start": "09:00",
                                                     "end": "10:00"}]}),
    ("25 o'clock", {"time_zone": "UTC", "weekly": [{"day": 0, "start": "09:00",
                                                   "end": "25:00"}]}),
    ("30 February", {"time_zone": "UTC", "weekly": [], "exceptions": [{"date": "2026-02-30"}]}),
]


@pytest.mark.parametrize(("case", "body"), BAD_HOURS, ids=[c[0] for c in BAD_HOURS])
async def test_malformed_hours_are_refused(
    http: httpx.AsyncClient, mailbox: Mailbox, case: str, body: Any
) -> None:
    owner = await new_practice(http)
    resp = await http.put(f"/providers/{owner.id}/availability", json=body,
                          headers=owner.headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "validation_error"
    resp = await http.get(f"/providers/{owner.id}/availability", headers=owner.headers)
    assert resp.json()["availability"]["time_zone"] is None


async def test_strangers_malformed_bodies_and_who_may_define_types(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, provider, client, kind = await _practice(http, mailbox)
    for method, path in (("GET", "/appointment-types"), ("POST", "/appointments"),
                         ("GET", f"/providers/{provider.id}/slots?type_id={kind['id']}"),
                         ("GET", "/appointments"), ("POST", "/me/calendar-feed")):
        resp = await http.request(method, path, json={} if method == "POST" else None)
        assert resp.status_code == 401, (method, path)
    for body in ({}, {"provider_id": provider.id}, {"provider_id": 5, "type_id": kind["id"],
                                                     "start": "tomorrow"}, [1, 2]):
        resp = await http.post("/appointments", json=body, headers=client.headers)
        assert resp.status_code == 400 and resp.json()["code"] == "validation_error"
    for who, status in ((client, 403), (provider, 403)):
        resp = await http.post("/appointment-types", json={
            "name": "Mine", "minutes": 30, "location": "phone"}, headers=who.headers)
        assert resp.status_code == status
    for body in ({"name": "x", "minutes": 2, "location": "video"},
                 {"name": "x", "minutes": 30, "location": "moon"},
                 {"name": "x", "minutes": 30, "location": "video", "bookable_by": "anyone"},
                 {"name": " ", "minutes": 30, "location": "video"}):
        resp = await http.post("/appointment-types", json=body, headers=owner.headers)
        assert resp.status_code == 400, body
    resp = await http.post("/appointment-types", json={
        "name": "x", "minutes": 30, "location": "video", "form_ids": [kind["id"]]},
        headers=owner.headers)
    assert resp.status_code == 404  # not a form of this practice
    # A team-only type does not exist for a client.
    secret = await new_type(http, owner, name="Case review", bookable_by="team")
    types = (await http.get("/appointment-types", headers=client.headers)).json()
    assert secret["id"] not in [t["id"] for t in types["appointment_types"]]
    resp = await http.get(f"/providers/{provider.id}/slots", params={"type_id": secret["id"]},
                          headers=client.headers)
    assert resp.status_code == 404
    resp = await http.get(f"/providers/{provider.id}/slots", params={
        "type_id": kind["id"], "from": "2026-01-10T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        headers=client.headers)
    assert resp.status_code == 400
    resp = await http.get(f"/providers/{provider.id}/slots", params={
        "type_id": kind["id"], "from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"},
        headers=client.headers)
    assert resp.status_code == 400
    resp = await http.get("/appointments/not-an-id", headers=client.headers)
    assert resp.status_code == 404


async def test_a_whole_day_number_is_a_day_however_it_is_written(
    http: httpx.AsyncClient,
) -> None:
    """`3.0` is an integer to JSON Schema (and the OpenAPI schema says so): the hours take it."""
    owner = await new_practice(http)
    resp = await http.put(f"/providers/{owner.id}/availability", headers=owner.headers, json={
        "time_zone": "Europe/Berlin",
        "weekly": [{"day": 3.0, "start": "09:00", "end": "24:00"}, {"day": 4, "start": "00:00",
                                                                    "end": "12:30"}],
        "exceptions": [{"date": "2028-02-29", "available": False}]})
    assert resp.status_code == 200, resp.text
    hours = resp.json()["availability"]
    assert [(w["day"], w["start"], w["end"]) for w in hours["weekly"]] == [
        (3, "09:00", "24:00"), (4, "00:00", "12:30")]
    assert hours["exceptions"] == [{"date": "2028-02-29", "available": False}]


BAD_TIMES = ["1767225600", "2026-12-01", "2026-12-01T09:00:00", "2026-12-01 09:00:00Z",
             "2026-02-30T09:00:00Z", "2026-12-01T09:00:60Z", "2026-12-01T09:00Z",
             "tomorrow", "2026-12-01T09:00:00+0100", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z"]


async def test_ranges_take_strict_rfc3339_times_only(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner, provider, client, kind = await _practice(http, mailbox)
    slots_path = f"/providers/{provider.id}/slots"
    for field in ("from", "to"):
        for raw in BAD_TIMES:
            for who, path, extra in ((client, "/appointments", {}),
                                     (client, slots_path, {"type_id": kind["id"]})):
                resp = await http.get(path, params={**extra, field: raw}, headers=who.headers)
                assert resp.status_code == 400, (path, field, raw, resp.text)
                body = resp.json()
                assert body["code"] == "validation_error", body
                assert body["field"] == field and "RFC 3339" in body["detail"], body
    # What RFC 3339 allows is taken: offsets, fractions, lower-case letters.
    start = datetime.now(UTC) + timedelta(days=2)
    for low, high in ((iso(start), iso(start + timedelta(days=3))),
                      (start.astimezone(timezone(timedelta(hours=-5))).isoformat(),
                       (start + timedelta(days=3)).astimezone(
                           timezone(timedelta(hours=5, minutes=30))).isoformat()),
                      (start.strftime("%Y-%m-%dt%H:%M:%S.123456789z"),
                       (start + timedelta(days=3)).strftime("%Y-%m-%dt%H:%M:%Sz"))):
        for path, extra in (("/appointments", {}), (slots_path, {"type_id": kind["id"]})):
            resp = await http.get(path, params={**extra, "from": low, "to": high},
                                  headers=client.headers)
            assert resp.status_code == 200, (path, low, high, resp.text)
    # The public booking page's slots take the same.
    resp = await http.patch("/appointment-settings", json={"booking_enabled": True},
                            headers=owner.headers)
    code = resp.json()["settings"]["booking_code"]
    public = await new_type(http, owner, name="Discovery call", bookable_by="public")
    resp = await http.get(f"/booking/{code}/slots", params={
        "provider_id": provider.id, "type_id": public["id"], "from": "1767225600"})
    assert resp.status_code == 400 and resp.json()["code"] == "validation_error"
