"""SDC forms against a real server: Questionnaires we wrote from published LOINC panels are
imported, filled in over HTTP with live calculations, submitted, read back with the server's
calculated values, and exported again without losing a linkId, a group or a unit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from tests.files_helpers import pdf_bytes, png_image, uploaded
from tests.forms_helpers import request_form
from tests.helpers import Person, accept, add_client, invite_staff, new_practice, unique_email
from tests.mailbox import Mailbox

FIXTURES = Path(__file__).parent / "fixtures"
PHQ9 = json.loads((FIXTURES / "sdc_phq9.json").read_text())
HVS = json.loads((FIXTURES / "sdc_hunger_vital_sign.json").read_text())
BODY = json.loads((FIXTURES / "sdc_weight_height_bmi.json").read_text())
PHQ9_QUESTIONS = [i["linkId"] for i in PHQ9["item"][0]["item"]]
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"


def link_ids(items: list[dict[str, Any]]) -> list[str]:
    found = []
    for item in items:
        found.append(item["linkId"])
        found += link_ids(item.get("item") or [])
    return found


def answers_of(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A QuestionnaireResponse's answers by linkId, groups opened."""
    found: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if "answer" in item:
            found[item["linkId"]] = item["answer"]
        found.update(answers_of(item.get("item") or []))
    return found


async def imported(http: httpx.AsyncClient, admin: Person, resource: dict[str, Any]
                   ) -> dict[str, Any]:
    resp = await http.post("/forms/import-fhir", json=resource, headers=admin.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["form"])


async def client_of(http: httpx.AsyncClient, mailbox: Mailbox, provider: Person,
                    name: str = "Robin Hart") -> tuple[dict[str, Any], Person]:
    email = unique_email("client")
    client = await add_client(http, provider, name=name, email=email)
    return client, await accept(http, (await mailbox.wait_for(email)).token)


async def test_the_phq9_total_is_calculated_live_and_on_submit(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    form = await imported(http, owner, PHQ9)
    assert form["description"] == PHQ9["description"]
    group, total, difficulty = form["items"]
    assert group["type"] == "group" and [i["id"] for i in group["items"]] == PHQ9_QUESTIONS
    assert total["calculated"] and difficulty["enable_when"][0]["operator"] == ">"
    client, robin = await client_of(http, mailbox, owner)
    [request] = await request_form(http, owner, form["id"], client["id"])
    path = f"/form-requests/{request['id']}"

    # As Robin answers, the total follows (nothing is saved by asking).
    answers = {PHQ9_QUESTIONS[0]: "LA6569-3", PHQ9_QUESTIONS[1]: "LA6571-9"}
    live = await http.post(path + "/calculate", json={"answers": answers},
                           headers=robin.headers)
    assert live.status_code == 200, live.text
    assert live.json()["calculated"] == {"44261-6": 4}
    draft = await http.put(path + "/draft", json={"answers": answers}, headers=robin.headers)
    assert draft.json()["calculated"] == {"44261-6": 4}

    answers = {q: "LA6571-9" for q in PHQ9_QUESTIONS} | {PHQ9_QUESTIONS[0]: "LA6569-3",
                                                         "69722-7": "LA6575-0",
                                                         "44261-6": 0}
    resp = await http.post(path + "/submit", json={"answers": answers}, headers=robin.headers)
    assert resp.status_code == 200, resp.text
    theirs = (await http.get(path, headers=owner.headers)).json()["request"]
    assert theirs["answers"]["44261-6"] == 25  # the server's value, not the 0 sent
    assert theirs["answers"]["69722-7"] == "LA6575-0" and theirs["score"] == 25

    response = (await http.get(path + "/export", params={"format": "fhir"},
                               headers=owner.headers)).json()
    QuestionnaireResponse.model_validate(response)
    assert response["item"][0]["linkId"] == "phq9-problems"  # nested like the group
    assert answers_of(response["item"])["44261-6"] == [{"valueInteger": 25}]
    exported = (await http.get(f"/forms/{form['id']}/fhir", headers=owner.headers)).json()
    Questionnaire.model_validate(exported)
    assert link_ids(exported["item"]) == link_ids(PHQ9["item"])
    assert exported["description"] == PHQ9["description"]
    again = await imported(http, owner, exported)
    assert again["items"] == form["items"]


async def test_the_hunger_vital_sign_risk_comes_from_the_two_answers(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    form = await imported(http, owner, HVS)
    assert [v["name"] for v in form["variables"]] == ["worried", "didNotLast"]
    worried = await client_of(http, mailbox, owner, "Worried Client")
    settled = await client_of(http, mailbox, owner, "Settled Client")
    outcomes = {}
    for (client, person), first, second in ((worried, "LA28397-0", "LA28398-8"),
                                            (settled, "LA28398-8", "LA28398-8")):
        [request] = await request_form(http, owner, form["id"], client["id"])
        resp = await http.post(f"/form-requests/{request['id']}/submit", json={"answers": {
            "88122-7": first, "88123-5": second, "food-help": True}}, headers=person.headers)
        assert resp.status_code == 200, resp.text
        outcomes[first] = (await http.get(f"/form-requests/{request['id']}",
                                          headers=owner.headers)).json()["request"]["answers"]
    assert outcomes["LA28397-0"]["88124-3"] == "LA19952-3"  # at risk: asked about food help
    assert outcomes["LA28397-0"]["food-help"] is True
    assert outcomes["LA28398-8"]["88124-3"] == "LA19983-8"  # no risk: not asked, not kept
    assert "food-help" not in outcomes["LA28398-8"]
    exported = (await http.get(f"/forms/{form['id']}/fhir", headers=owner.headers)).json()
    assert exported["extension"] == HVS["extension"]  # the variables
    assert link_ids(exported["item"]) == link_ids(HVS["item"])


async def test_weight_and_height_give_a_bmi_with_units_and_a_photo_for_the_care_team(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner, name="Pat Provider")
    other_provider = await invite_staff(http, mailbox, owner, name="Other Provider")
    form = await imported(http, owner, BODY)
    measurements = form["items"][0]
    assert measurements["items"][0]["unit"]["code"] == "kg"
    client, robin = await client_of(http, mailbox, provider)
    [request] = await request_form(http, provider, form["id"], client["id"])
    path = f"/form-requests/{request['id']}"
    photo = await uploaded(http, robin, "scale.png", png_image(), "image/png")
    # Before the answers hold it, the photo is Robin's alone.
    assert (await http.get(f"/files/{photo['id']}", headers=provider.headers)
            ).status_code == 404

    live = await http.post(path + "/calculate", json={"answers": {
        "29463-7": 95, "8302-2": 180}}, headers=robin.headers)
    assert live.json()["calculated"] == {"height-m": 1.8, "39156-5": 29.3}
    answers = {"29463-7": 95, "8302-2": 180, "39156-5": 12, "weight-advice": True,
               "measured-at": "2026-11-30T07:45:00+01:00", "weigh-time": "07:30",
               "where": {"other": "the pharmacy"}, "same-scale": False,
               "scale-photo": {"id": photo["id"]}}
    draft = await http.put(path + "/draft", json={"answers": answers}, headers=robin.headers)
    assert draft.status_code == 200, draft.text
    resp = await http.post(path + "/submit", json={"answers": answers}, headers=robin.headers)
    assert resp.status_code == 200, resp.text

    kept = (await http.get(path, headers=provider.headers)).json()["request"]["answers"]
    assert kept["39156-5"] == 29.3 and kept["height-m"] == 1.8
    assert kept["weight-advice"] is True and kept["weigh-time"] == "07:30:00"
    assert kept["where"] == {"other": "the pharmacy"} and kept["same-scale"] is False
    assert kept["scale-photo"]["id"] == photo["id"]
    assert kept["scale-photo"]["name"] == "scale.png"
    # The care team reads the photo (audited); no one else does.
    assert (await http.get(f"/files/{photo['id']}", headers=provider.headers)
            ).status_code == 200
    assert (await http.get(f"/files/{photo['id']}", headers=robin.headers)).status_code == 200
    assert (await http.get(f"/files/{photo['id']}", headers=other_provider.headers)
            ).status_code == 404
    stranger = await new_practice(http, "Elsewhere")
    assert (await http.get(f"/files/{photo['id']}", headers=stranger.headers)
            ).status_code == 404
    log = (await http.get("/audit", params={"client_id": client["id"]},
                          headers=owner.headers)).json()["entries"]
    assert (provider.id, "form_response.file_downloaded") in {
        (e["actor_id"], e["action"]) for e in log}

    response = (await http.get(path + "/export", params={"format": "fhir"},
                               headers=provider.headers)).json()
    QuestionnaireResponse.model_validate(response)
    given = answers_of(response["item"])
    assert given["39156-5"] == [{"valueDecimal": 29.3}]
    assert given["measured-at"] == [{"valueDateTime": "2026-11-30T07:45:00+01:00"}]
    assert given["where"] == [{"valueString": "the pharmacy"}]
    assert given["scale-photo"][0]["valueAttachment"]["contentType"] == "image/png"
    exported = (await http.get(f"/forms/{form['id']}/fhir", headers=owner.headers)).json()
    Questionnaire.model_validate(exported)
    assert link_ids(exported["item"]) == link_ids(BODY["item"])
    weight = exported["item"][0]["item"][0]
    assert {"url": UNIT, "valueCoding": {"system": "http://unitsofmeasure.org", "code": "kg",
                                         "display": "kilogram"}} in weight["extension"]
    again = await imported(http, owner, exported)
    assert again["items"] == form["items"]


async def test_a_file_not_the_clients_own_cannot_be_an_answer(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    form = await imported(http, owner, BODY)
    client, robin = await client_of(http, mailbox, owner)
    [request] = await request_form(http, owner, form["id"], client["id"])
    theirs = await uploaded(http, owner, "report.pdf", pdf_bytes(), "application/pdf")
    resp = await http.post(f"/form-requests/{request['id']}/submit", json={"answers": {
        "29463-7": 70, "8302-2": 170, "scale-photo": {"id": theirs["id"]}}},
        headers=robin.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "invalid_answers"
    assert resp.json()["errors"] == [{"question": "scale-photo", "code": "not_a_file",
                                      "detail": resp.json()["errors"][0]["detail"]}]
    state = (await http.get(f"/form-requests/{request['id']}", headers=robin.headers)
             ).json()["request"]
    assert state["status"] == "open"


async def test_the_live_calculation_is_the_clients_alone_and_checks_its_body(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    form = await imported(http, owner, BODY)
    client, robin = await client_of(http, mailbox, owner)
    [request] = await request_form(http, owner, form["id"], client["id"])
    path = f"/form-requests/{request['id']}/calculate"
    body = {"answers": {"29463-7": 80, "8302-2": 180}}
    assert (await http.post(path, json=body)).status_code == 401
    other_practice = await new_practice(http, "Other Clinic")
    _, stranger = await client_of(http, mailbox, other_practice, "Stranger")
    resp = await http.post(path, json=body, headers=stranger.headers)
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    resp = await http.post(path, json=body, headers=owner.headers)
    assert resp.status_code == 403  # the care team reads; only the client fills in
    for bad in ({}, {"answers": []}, {"answers": "x"}):
        resp = await http.post(path, json=bad, headers=robin.headers)
        assert resp.status_code == 400 and resp.json()["code"] == "validation_error"
    # An answer of the wrong type is left out of the calculation, not an error.
    resp = await http.post(path, json={"answers": {"29463-7": "heavy", "8302-2": 180}},
                           headers=robin.headers)
    assert resp.status_code == 200 and resp.json()["calculated"] == {"height-m": 1.8}


async def test_definitions_and_questionnaires_that_cannot_be_held_are_refused_by_name(
    http: httpx.AsyncClient
) -> None:
    owner = await new_practice(http)
    resp = await http.post("/forms", json={"title": "Bad", "items": [
        {"id": "w", "type": "number", "text": "Weight"},
        {"id": "x", "type": "yes_no", "text": "X",
         "enable_when": [{"question": "w", "operator": "~", "answer": 3}]}]},
        headers=owner.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "validation_error"
    assert "operator" in resp.json()["detail"]
    resp = await http.post("/forms", json={"title": "Bad", "items": [
        {"id": "w", "type": "number", "text": "Weight", "calculated": {"expression": "(("}}]},
        headers=owner.headers)
    assert resp.status_code == 400 and "FHIRPath" in resp.json()["detail"]
    repeating = {**BODY, "item": [{**BODY["item"][0], "repeats": True}]}
    resp = await http.post("/forms/import-fhir", json=repeating, headers=owner.headers)
    assert resp.status_code == 400 and resp.json()["code"] == "fhir_unsupported"
    assert "measurements" in resp.json()["detail"]
    assert (await http.get("/forms", headers=owner.headers)).json()["forms"] == []
