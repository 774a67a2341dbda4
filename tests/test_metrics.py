"""Metrics: a client logs their weight, blood pressure and sleep; the team sees them live; FHIR
in and out; bad input changes nothing; strangers see nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle

from tests.care_helpers import last_seq, log_metric, metrics_of, signed_up_client
from tests.conftest import Server
from tests.helpers import invite_staff, new_practice
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event


async def test_a_client_logs_weight_in_pounds_and_the_team_sees_it_live(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    client, robin = await signed_up_client(http, mailbox, provider)
    cid, tid = client["id"], client["care_thread_id"]
    team_socket = await Socket.ready(server.ws_url, provider.token)

    entry = await log_metric(http, robin, cid, "body_weight", 154.3, "[lb_av]",
                             measured_at="2026-03-01T07:30:00Z")
    assert entry["unit"] == "kg" and entry["value"] == pytest.approx(69.99, abs=0.01)
    assert entry["entered_value"] == 154.3 and entry["entered_unit"] == "[lb_av]"
    assert entry["logged_by"] == robin.id
    logged = await team_socket.until(is_event("metric.logged", tid))
    assert logged["event"]["data"]["entry_id"] == entry["id"]
    assert logged["event"]["data"]["type"] == "body_weight"
    assert logged["event"]["actor_id"] == robin.id

    # The team logs too (a clinic reading); both show up oldest first, in kg or in pounds.
    await log_metric(http, provider, cid, "body_weight", 69.5, "kg",
                     measured_at="2026-03-08T07:30:00Z")
    await log_metric(http, robin, cid, "blood_pressure", {"systolic": 118, "diastolic": 76},
                     "mm[Hg]")
    await log_metric(http, robin, cid, "sleep_duration", 450, "min")
    weights = await metrics_of(http, provider, cid, type="body_weight")
    assert [w["value"] for w in weights] == [pytest.approx(69.99, abs=0.01), 69.5]
    pounds = await metrics_of(http, robin, cid, type="body_weight", unit="[lb_av]")
    assert pounds[0]["value"] == pytest.approx(154.3, abs=0.01)
    assert pounds[1]["unit"] == "[lb_av]"
    everything = await metrics_of(http, robin, cid)
    assert [e["type"] for e in everything][-2:] == ["blood_pressure", "sleep_duration"]
    assert everything[-2]["components"] == {"systolic": 118, "diastolic": 76}
    assert everything[-1]["value"] == 7.5 and everything[-1]["unit"] == "h"
    await team_socket.close()


def _now_iso(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).isoformat()


BAD = [
    ({"type": "body_weight", "value": 70, "unit": "cm"}, "unit_not_convertible", "unit"),
    ({"type": "body_weight", "value": 70, "unit": "stone"}, "unit_not_convertible", "unit"),
    ({"type": "body_weight", "value": 900, "unit": "kg"}, "out_of_range", "value"),
    ({"type": "heart_rate", "value": 0, "unit": "/min"}, "out_of_range", "value"),
    ({"type": "blood_pressure", "value": {"systolic": 70, "diastolic": 90}, "unit": "mm[Hg]"},
     "out_of_range", "systolic"),
    ({"type": "blood_pressure", "value": 120, "unit": "mm[Hg]"}, "validation_error", "value"),
    ({"type": "body_weight", "value": 70, "unit": "kg",
      "measured_at": _now_iso(timedelta(days=2))}, "time_in_future", "measured_at"),
    ({"type": "body_weight", "value": 70, "unit": "kg", "measured_at": "1850-01-01T00:00:00Z"},
     "time_out_of_range", "measured_at"),
    ({"type": "cholesterol", "value": 5, "unit": "mmol/L"}, "unknown_metric_type", "type"),
    ({"type": "body_weight", "value": "heavy", "unit": "kg"}, "validation_error", None),
    ({"type": "body_weight", "unit": "kg"}, "validation_error", None),
]


@pytest.mark.parametrize(("body", "code", "field"), BAD,
                         ids=[f"{b['type']}-{c}-{i}" for i, (b, c, _) in enumerate(BAD)])
async def test_bad_measurements_are_refused_and_change_nothing(
    http: httpx.AsyncClient, mailbox: Mailbox, body: dict[str, Any], code: str,
    field: str | None,
) -> None:
    owner = await new_practice(http)
    client, robin = await signed_up_client(http, mailbox, owner)
    before = await last_seq(http, owner, client["care_thread_id"])
    resp = await http.post(f"/clients/{client['id']}/metrics", json=body, headers=robin.headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == code
    if field:
        assert resp.json()["field"] == field
    assert await metrics_of(http, owner, client["id"]) == []
    assert await last_seq(http, owner, client["care_thread_id"]) == before
    assert (await http.get("/feed", headers=owner.headers)).json()["items"] == []


async def test_strangers_and_other_practices_see_no_metrics(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    outsider = await invite_staff(http, mailbox, owner, name="Not On The Team")
    client, robin = await signed_up_client(http, mailbox, provider)
    _other, casey = await signed_up_client(http, mailbox, provider, name="Casey Other")
    elsewhere = await new_practice(http, "Elsewhere Clinic")
    await log_metric(http, robin, client["id"], "steps", 8000, "{steps}")
    path = f"/clients/{client['id']}/metrics"
    good = {"type": "steps", "value": 100, "unit": "{steps}"}
    for who in (outsider, casey, elsewhere):  # not on the team, another client, another org
        assert (await http.get(path, headers=who.headers)).status_code == 404
        resp = await http.post(path, json=good, headers=who.headers)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
        assert (await http.get(path, params={"format": "fhir"}, headers=who.headers)
                ).status_code == 404
    assert (await http.get(path)).status_code == 401
    assert (await http.get("/clients/not-a-uuid/metrics", headers=provider.headers)
            ).status_code == 404
    malformed = await http.post(path, content=b"{not json", headers={
        **robin.headers, "Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["code"] == "validation_error"
    assert len(await metrics_of(http, provider, client["id"])) == 1
    # A range is RFC 3339 with a zone: a Unix timestamp or a date alone is refused by name.
    for field, bad in (("since", "0.5"), ("until", "1700000000"), ("since", "2026-12-01")):
        resp = await http.get(path, params={field: bad}, headers=provider.headers)
        assert resp.status_code == 400, (field, bad, resp.text)
        assert resp.json()["code"] == "validation_error" and resp.json()["field"] == field
    resp = await http.get(path, params={"since": "2000-01-01T00:00:00Z"},
                          headers=provider.headers)
    assert resp.status_code == 200 and len(resp.json()["entries"]) == 1
    # The owner (admin) sees every client's metrics.
    assert len(await metrics_of(http, owner, client["id"])) == 1


async def test_a_practice_defines_its_own_metric(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    client, robin = await signed_up_client(http, mailbox, owner)
    resp = await http.post("/metric-types", json={
        "key": "water_intake", "name": "Water", "unit": "mL", "min": 0, "max": 10000,
        "decimals": 0}, headers=owner.headers)
    assert resp.status_code == 201, resp.text
    assert "[foz_us]" in resp.json()["type"]["units"]
    again = await http.post("/metric-types", json={
        "key": "water_intake", "name": "Water", "unit": "mL", "min": 0, "max": 1},
        headers=owner.headers)
    assert again.status_code == 400 and again.json()["code"] == "metric_type_exists"
    bad_unit = await http.post("/metric-types", json={
        "key": "vibes", "name": "Vibes", "unit": "furlong", "min": 0, "max": 1},
        headers=owner.headers)
    assert bad_unit.status_code == 400 and bad_unit.json()["code"] == "unit_not_convertible"
    assert (await http.post("/metric-types", json={
        "key": "body_weight", "name": "W", "unit": "kg", "min": 0, "max": 1},
        headers=owner.headers)).json()["code"] == "invalid_key"
    assert (await http.post("/metric-types", json={
        "key": "x_y", "name": "W", "unit": "kg", "min": 0, "max": 1},
        headers=robin.headers)).status_code == 403
    entry = await log_metric(http, robin, client["id"], "water_intake", 16, "[foz_us]")
    assert entry["value"] == pytest.approx(473.18, abs=0.01) and entry["unit"] == "mL"
    types = (await http.get(f"/clients/{client['id']}/metric-types", headers=robin.headers)
             ).json()["types"]
    assert {"body_weight", "blood_pressure", "mood", "water_intake"} <= {t["key"] for t in types}
    weight = next(t for t in types if t["key"] == "body_weight")
    assert weight["code"] == {"system": "http://loinc.org", "code": "29463-7",
                              "display": "Body weight"}
    # Another practice does not have it.
    elsewhere = await new_practice(http, "Elsewhere Clinic")
    other, casey = await signed_up_client(http, mailbox, elsewhere)
    resp = await http.post(f"/clients/{other['id']}/metrics", json={
        "type": "water_intake", "value": 1, "unit": "mL"}, headers=casey.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "unknown_metric_type"


def _observation(code: str, value: float, unit: str, when: str, ident: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "status": "final",
        "identifier": [{"system": "urn:watch", "value": ident}],
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "Patient/x"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org",
                          "code": unit},
    }


def _bp(systolic: float, diastolic: float, when: str) -> dict[str, Any]:
    def part(code: str, value: float) -> dict[str, Any]:
        return {"code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "valueQuantity": {"value": value, "unit": "mmHg",
                                  "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
            "effectiveDateTime": when,
            "component": [part("8480-6", systolic), part("8462-4", diastolic)]}


async def test_fhir_observations_come_in_from_a_device_and_go_out_as_a_bundle(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http)
    client, robin = await signed_up_client(http, mailbox, owner)
    cid = client["id"]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": _observation("29463-7", 160, "[lb_av]", "2026-02-01T08:00:00Z", "w1")},
        {"resource": _observation("55423-8", 9500, "{steps}", "2026-02-01T23:00:00Z", "s1")},
        {"resource": _observation("8867-4", 64, "/min", "2026-02-01T08:00:00+01:00", "h1")},
        {"resource": _bp(121, 79, "2026-02-02T08:00:00Z")},
    ]}
    resp = await http.post(f"/clients/{cid}/metrics/fhir", json=bundle, headers=robin.headers)
    assert resp.status_code == 201, resp.text
    assert [e["type"] for e in resp.json()["entries"]] == [
        "body_weight", "steps", "heart_rate", "blood_pressure"]
    assert resp.json()["entries"][0]["source"] == "fhir"
    # The bridge sends the same readings again: nothing doubles.
    again = await http.post(f"/clients/{cid}/metrics/fhir", json={
        "resourceType": "Bundle", "type": "collection", "entry": bundle["entry"][:3]},
        headers=robin.headers)
    assert again.status_code == 201 and again.json() == {"entries": [], "skipped": 3}
    await log_metric(http, robin, cid, "mood", 4, "{score}")

    exported = (await http.get(f"/clients/{cid}/metrics", params={"format": "fhir"},
                               headers=owner.headers)).json()
    parsed = Bundle.model_validate(exported)  # a valid FHIR Bundle of Observations
    assert parsed.type == "collection" and exported["total"] == 5
    resources = [e["resource"] for e in exported["entry"]]
    assert all(r["resourceType"] == "Observation" for r in resources)
    codes = [r["code"]["coding"][0]["code"] for r in resources]
    # Oldest first: 08:00+01:00 is 07:00 UTC, before the weighing.
    assert codes[:4] == ["8867-4", "29463-7", "55423-8", "85354-9"]
    assert resources[0]["effectiveDateTime"].startswith("2026-02-01T07:00:00")
    weight = resources[1]
    assert weight["valueQuantity"]["code"] == "kg"
    assert weight["valueQuantity"]["value"] == pytest.approx(72.575, abs=0.001)
    assert weight["subject"]["reference"] == f"Patient/{cid}"
    bp = resources[3]
    assert [c["code"]["coding"][0]["code"] for c in bp["component"]] == ["8480-6", "8462-4"]
    assert [c["valueQuantity"]["value"] for c in bp["component"]] == [121, 79]
    # Mood has no LOINC code: it goes out (and comes back) in the practice's code system.
    mood = resources[4]
    assert mood["code"]["coding"][0]["code"] == "mood"
    mood_again = {**mood, "id": "other"}
    mood_again.pop("identifier", None)
    back = await http.post(f"/clients/{cid}/metrics/fhir", json=mood_again,
                           headers=owner.headers)
    assert back.status_code == 201 and back.json()["entries"][0]["type"] == "mood"
    # Round trip: the export imported into another client gives the same values.
    other, _ = await signed_up_client(http, mailbox, owner, name="Sam Second")
    copied = await http.post(f"/clients/{other['id']}/metrics/fhir", json=exported,
                             headers=owner.headers)
    assert copied.status_code == 201, copied.text
    assert [e["value"] for e in copied.json()["entries"]] == [
        r.get("valueQuantity", {}).get("value", 121) for r in resources]


@pytest.mark.parametrize("case", ["unknown_code", "bad_unit", "future", "not_observation",
                                  "cancelled", "no_value"])
async def test_a_bad_observation_stores_nothing_of_its_bundle(
    http: httpx.AsyncClient, mailbox: Mailbox, case: str
) -> None:
    owner = await new_practice(http)
    client, robin = await signed_up_client(http, mailbox, owner)
    good = _observation("29463-7", 70, "kg", "2026-02-01T08:00:00Z", "ok")
    bad = _observation("29463-7", 70, "kg", "2026-02-01T08:00:00Z", "bad")
    expected = {"unknown_code": "unknown_code", "bad_unit": "unit_not_convertible",
                "future": "time_in_future", "not_observation": "fhir_invalid",
                "cancelled": "fhir_invalid", "no_value": "fhir_invalid"}[case]
    if case == "unknown_code":
        bad["code"] = {"coding": [{"system": "http://loinc.org", "code": "2093-3"}]}
    elif case == "bad_unit":
        bad["valueQuantity"]["code"] = bad["valueQuantity"]["unit"] = "mm[Hg]"
    elif case == "future":
        bad["effectiveDateTime"] = _now_iso(timedelta(days=3))
    elif case == "not_observation":
        bad = {"resourceType": "Patient", "id": "p"}
    elif case == "cancelled":
        bad["status"] = "cancelled"
    else:
        del bad["valueQuantity"]
    resp = await http.post(f"/clients/{client['id']}/metrics/fhir", json={
        "resourceType": "Bundle", "type": "collection",
        "entry": [{"resource": good}, {"resource": bad}]}, headers=robin.headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == expected
    assert await metrics_of(http, owner, client["id"]) == []
    if case != "unknown_code":
        return
    # Malformed resources: a clear 400 each, never a 500.
    malformed: list[Any] = [
        [1, 2], {"resourceType": "Bundle", "entry": 5}, {"resourceType": "Bundle"},
        {**good, "code": "29463-7"}, {**good, "identifier": 7}, {**good, "valueQuantity": 70},
        {**good, "effectiveDateTime": 20260201}, {**good, "effectiveDateTime": "yesterday"},
        {**good, "valueQuantity": {"value": "70", "code": "kg"}},
        {**_bp(120, 80, "2026-02-01T08:00:00Z"), "component": [5]},
        {**_bp(120, 80, "2026-02-01T08:00:00Z"), "component": "x"},
    ]
    for body in malformed:
        junk = await http.post(f"/clients/{client['id']}/metrics/fhir", json=body,
                               headers=robin.headers)
        assert junk.status_code == 400, (body, junk.text)
    assert await metrics_of(http, owner, client["id"]) == []


async def test_eating_disorder_mode_hides_weight_from_the_client_everywhere(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    client, robin = await signed_up_client(http, mailbox, provider)
    cid, tid = client["id"], client["care_thread_id"]
    before = await log_metric(http, provider, cid, "body_weight", 58, "kg")
    await log_metric(http, robin, cid, "mood", 3, "{score}")

    settings_path = f"/clients/{cid}/metric-settings"
    assert (await http.put(settings_path, json={"eating_disorder_mode": True},
                           headers=robin.headers)).status_code == 404  # the team's switch
    resp = await http.put(settings_path, json={"eating_disorder_mode": True},
                          headers=provider.headers)
    assert resp.status_code == 200 and resp.json()["settings"]["eating_disorder_mode"] is True

    robin_socket = await Socket.ready(server.ws_url, robin.token)
    team_socket = await Socket.ready(server.ws_url, provider.token)
    # The team weighs Robin at the clinic; only the team hears of it.
    hidden = await log_metric(http, provider, cid, "body_weight", 57.4, "kg")
    await log_metric(http, provider, cid, "bmi", 19.1, "kg/m2")
    seen = await team_socket.until(is_event("metric.logged", tid))
    assert seen["event"]["data"]["entry_id"] == hidden["id"]
    await log_metric(http, robin, cid, "mood", 4, "{score}")  # visible to both
    await robin_socket.until(is_event("metric.logged", tid))
    await robin_socket.drain()
    assert [e["data"]["type"] for e in robin_socket.events(tid)
            if e["kind"] == "metric.logged"] == ["mood"]
    frames = json.dumps(robin_socket.frames)
    assert "body_weight" not in frames and "57.4" not in frames and "bmi" not in frames

    # Not on a sync from the start, nor in history (the earlier weight included).
    await robin_socket.close()
    robin_socket = await Socket.ready(server.ws_url, robin.token)
    await robin_socket.send({"type": "sync", "cursors": {tid: 0}})
    await robin_socket.until(lambda f: f["type"] == "synced")
    synced = json.dumps(robin_socket.frames)
    assert "body_weight" not in synced and "bmi" not in synced and '"mood"' in synced
    history = (await http.get(f"/threads/{tid}/events", params={"after": 0, "limit": 200},
                              headers=robin.headers)).json()["events"]
    assert "body_weight" not in json.dumps(history)
    team_history = (await http.get(f"/threads/{tid}/events", params={"after": 0, "limit": 200},
                                   headers=provider.headers)).json()["events"]
    assert json.dumps(team_history).count('"body_weight"') == 2

    # Not in their reads, the types they may log, or their exports; they cannot log it.
    mine = await metrics_of(http, robin, cid)
    assert {e["type"] for e in mine} == {"mood"}
    assert (await http.get(f"/clients/{cid}/metrics", params={"type": "body_weight"},
                           headers=robin.headers)).json()["code"] == "unknown_metric_type"
    types = (await http.get(f"/clients/{cid}/metric-types", headers=robin.headers)).json()
    assert not {"body_weight", "bmi"} & {t["key"] for t in types["types"]}
    export = (await http.get(f"/clients/{cid}/metrics", params={"format": "fhir"},
                             headers=robin.headers)).json()
    assert "29463-7" not in json.dumps(export) and "39156-5" not in json.dumps(export)
    resp = await http.post(f"/clients/{cid}/metrics", json={
        "type": "body_weight", "value": 57, "unit": "kg"}, headers=robin.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "unknown_metric_type"
    imported = await http.post(f"/clients/{cid}/metrics/fhir", json=_observation(
        "29463-7", 57, "kg", "2026-02-01T08:00:00Z", "x"), headers=robin.headers)
    assert imported.status_code == 400 and imported.json()["code"] == "unknown_code"

    # The team still sees everything.
    team_view = await metrics_of(http, provider, cid, type="body_weight")
    assert [e["id"] for e in team_view] == [before["id"], hidden["id"]]
    team_export = (await http.get(f"/clients/{cid}/metrics", params={"format": "fhir"},
                                  headers=provider.headers)).json()
    assert json.dumps(team_export).count("29463-7") == 2

    # Switched off, weight is the client's to see again.
    await http.put(settings_path, json={"eating_disorder_mode": False},
                   headers=provider.headers)
    assert {e["type"] for e in await metrics_of(http, robin, cid)} >= {"body_weight", "bmi"}
    history = (await http.get(f"/threads/{tid}/events", params={"after": 0, "limit": 200},
                              headers=robin.headers)).json()["events"]
    assert json.dumps(history).count('"body_weight"') == 2
    for sock in (robin_socket, team_socket):
        await sock.close()


async def test_metric_settings_are_the_care_teams(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    outsider = await invite_staff(http, mailbox, owner, name="Other Provider")
    client, _ = await signed_up_client(http, mailbox, provider)
    path = f"/clients/{client['id']}/metric-settings"
    assert (await http.get(path, headers=provider.headers)).json()["settings"] == {
        "client_id": client["id"], "eating_disorder_mode": False}
    assert (await http.get(path, headers=outsider.headers)).status_code == 404
    assert (await http.put(path, json={"eating_disorder_mode": "yes"},
                           headers=provider.headers)).status_code == 400
    assert (await http.put(f"/clients/{uuid.uuid4()}/metric-settings",
                           json={"eating_disorder_mode": True},
                           headers=owner.headers)).status_code == 404
