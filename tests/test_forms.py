"""Forms: the PHQ-9 from FHIR, requested and completed from the chat, scored for the team."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from tests.conftest import Server
from tests.forms_helpers import (
    GOOD_INTAKE,
    INTAKE_ITEMS,
    PHQ9,
    PHQ9_QUESTIONS,
    SEVERAL_DAYS,
    import_phq9,
    new_form,
    phq9_answers,
    request_form,
)
from tests.helpers import accept, add_client, all_events, invite_staff, new_practice, unique_email
from tests.mailbox import Mailbox
from tests.wsclient import Socket, is_event


async def _client_of(http: httpx.AsyncClient, mailbox: Mailbox, provider: Any
                     ) -> tuple[dict[str, Any], Any]:
    email = unique_email("client")
    client = await add_client(http, provider, name="Robin Hart", email=email)
    person = await accept(http, (await mailbox.wait_for(email)).token)
    return client, person


async def test_the_phq9_imports_from_fhir_and_round_trips(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    form = await import_phq9(http, owner)
    assert form["code"]["code"] == "44249-1"
    # The total score is a calculated item of the form (SDC calculatedExpression), kept with
    # its code and expression rather than turned into the form's score code.
    assert form["score_code"] is None
    total = next(i for i in form["items"] if i["id"] == "/44261-6")
    assert total["calculated"]["expression"] == "%resource.item.answer.value.ordinal().sum()"
    assert total["type"] == "number" and total["integer"] is True
    questions = [i for i in form["items"]]
    assert [q["id"] for q in questions[:9]] == PHQ9_QUESTIONS
    assert questions[0]["code"]["code"] == "44250-9"
    assert [o["score"] for o in questions[0]["options"]] == [0, 1, 2, 3]
    assert [o["value"] for o in questions[0]["options"]] == [
        "LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
    exported = (await http.get(f"/forms/{form['id']}/fhir", headers=owner.headers)).json()
    Questionnaire.model_validate(exported)  # a valid R4 Questionnaire
    assert exported["code"][0]["code"] == "44249-1"
    codes = [i["code"][0]["code"] for i in exported["item"] if i.get("code")]
    assert codes[:9] == [i["code"][0]["code"] for i in PHQ9["item"][:9]]
    # Importing the export gives the same questions back.
    again = await http.post("/forms/import-fhir", json=exported, headers=owner.headers)
    assert again.status_code == 201
    assert again.json()["form"]["items"] == form["items"]


async def test_a_client_completes_the_phq9_from_the_chat_card(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    form = await import_phq9(http, owner)
    client, robin = await _client_of(http, mailbox, provider)
    tid = client["care_thread_id"]
    robin_socket = await Socket.ready(server.ws_url, robin.token)
    staff_socket = await Socket.ready(server.ws_url, provider.token)

    [request] = await request_form(http, provider, form["id"], client["id"])
    card = await robin_socket.until(is_event("form.requested", tid))
    assert card["event"]["data"]["request_id"] == request["id"]
    assert card["event"]["data"]["form_title"] == "PHQ-9 quick depression assessment panel"

    opened = (await http.get(f"/form-requests/{request['id']}", headers=robin.headers)
              ).json()["request"]
    assert [i["id"] for i in opened["items"][:9]] == PHQ9_QUESTIONS
    assert "score" not in opened
    # Drafts save as the client goes.
    draft = {PHQ9_QUESTIONS[0]: SEVERAL_DAYS}
    resp = await http.put(f"/form-requests/{request['id']}/draft", json={"answers": draft},
                          headers=robin.headers)
    assert resp.status_code == 200
    reopened = (await http.get(f"/form-requests/{request['id']}", headers=robin.headers)
                ).json()["request"]
    # The draft holds the total worked out so far (a calculated item of the PHQ-9).
    assert reopened["draft"] == {**draft, "/44261-6": 1} and reopened["status"] == "open"

    answers = {**phq9_answers(), PHQ9_QUESTIONS[0]: SEVERAL_DAYS}
    resp = await http.post(f"/form-requests/{request['id']}/submit",
                           json={"answers": answers}, headers=robin.headers)
    assert resp.status_code == 200, resp.text
    done = await staff_socket.until(is_event("form.completed", tid))
    assert done["event"]["actor_id"] == robin.id
    scored = await staff_socket.until(is_event("form.scored", tid))
    assert scored["event"]["data"]["score"] == 1 + 8 * 3
    # The client sees the completion, never the score.
    await robin_socket.until(is_event("form.completed", tid))
    await robin_socket.drain()
    assert all(e["kind"] != "form.scored" for e in robin_socket.events())
    mine = (await http.get(f"/form-requests/{request['id']}", headers=robin.headers)
            ).json()["request"]
    assert mine["status"] == "completed" and "score" not in mine
    theirs = (await http.get(f"/form-requests/{request['id']}", headers=provider.headers)
              ).json()["request"]
    assert theirs["score"] == 25 and theirs["answers"] == {**answers, "/44261-6": 25}
    again = await http.post(f"/form-requests/{request['id']}/submit",
                            json={"answers": answers}, headers=robin.headers)
    assert again.status_code == 409 and again.json()["code"] == "request_completed"
    for sock in (robin_socket, staff_socket):
        await sock.close()


INVALID = [
    ({"goal": 5}, "goal", "wrong_type"),
    ({"goal": "x" * 101}, "goal", "too_long"),
    ({"history": "y" * 10_001}, "history", "too_long"),
    ({"weight": "heavy"}, "weight", "wrong_type"),
    ({"weight": 1000}, "weight", "out_of_range"),
    ({"last_visit": "last week"}, "last_visit", "wrong_type"),
    ({"diet": "carnivore"}, "diet", "not_a_choice"),
    ({"diet": ["veg"]}, "diet", "wrong_type"),
    ({"allergies": ["nuts", "gluten"]}, "allergies", "not_a_choice"),
    ({"allergies": "nuts"}, "allergies", "wrong_type"),
    ({"meds": "no"}, "meds", "wrong_type"),
    ({"meds": True}, "which_meds", "required"),
    ({"stress": 1.5}, "stress", "wrong_type"),
    ({"stress": 9}, "stress", "out_of_range"),
    ({"consent": {"name": "Robin", "agreed": False}}, "consent", "required"),
    ({"consent": "yes"}, "consent", "wrong_type"),
    ({"goal": None}, "goal", "required"),
    ({"surprise": 1}, "surprise", "unknown_question"),
]


@pytest.mark.parametrize(("change", "question", "code"), INVALID,
                         ids=[f"{q}-{c}" for _, q, c in INVALID])
async def test_invalid_answers_are_refused_field_by_field_and_nothing_is_saved(
    http: httpx.AsyncClient, mailbox: Mailbox, change: dict[str, Any], question: str,
    code: str,
) -> None:
    owner = await new_practice(http)
    form = await new_form(http, owner)
    client, robin = await _client_of(http, mailbox, owner)
    [request] = await request_form(http, owner, form["id"], client["id"])
    await http.put(f"/form-requests/{request['id']}/draft", json={"answers": {"goal": "Keep"}},
                   headers=robin.headers)
    resp = await http.post(f"/form-requests/{request['id']}/submit",
                           json={"answers": {**GOOD_INTAKE, **change}}, headers=robin.headers)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == "invalid_answers"
    assert {"question": question, "code": code} in [
        {"question": e["question"], "code": e["code"]} for e in body["errors"]]
    state = (await http.get(f"/form-requests/{request['id']}", headers=robin.headers)
             ).json()["request"]
    assert state["status"] == "open" and state["draft"] == {"goal": "Keep"}
    assert state["answers"] is None


async def test_a_valid_intake_with_conditions_submits(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    form = await new_form(http, owner)
    client, robin = await _client_of(http, mailbox, owner)
    [request] = await request_form(http, owner, form["id"], client["id"])
    answers = {**GOOD_INTAKE, "meds": True, "which_meds": "Melatonin",
               "allergies": ["nuts", "dairy"], "weight": 70.5, "last_visit": "2026-01-15"}
    resp = await http.post(f"/form-requests/{request['id']}/submit",
                           json={"answers": answers}, headers=robin.headers)
    assert resp.status_code == 200, resp.text
    # A hidden question's answer is not kept.
    other = await request_form(http, owner, form["id"], client["id"])
    hidden = {**GOOD_INTAKE, "meds": False, "which_meds": "ignored"}
    await http.post(f"/form-requests/{other[0]['id']}/submit", json={"answers": hidden},
                    headers=robin.headers)
    kept = (await http.get(f"/form-requests/{other[0]['id']}", headers=owner.headers)
            ).json()["request"]["answers"]
    assert "which_meds" not in kept


async def test_an_edited_form_leaves_earlier_answers_intact(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    form = await new_form(http, owner)
    client, robin = await _client_of(http, mailbox, owner)
    [first] = await request_form(http, owner, form["id"], client["id"])
    await http.post(f"/form-requests/{first['id']}/submit", json={"answers": GOOD_INTAKE},
                    headers=robin.headers)
    edited = [{**item, "text": "Your goal, in a word"} if item["id"] == "goal" else item
              for item in INTAKE_ITEMS if item["id"] != "history"]
    resp = await http.patch(f"/forms/{form['id']}", json={"items": edited},
                            headers=owner.headers)
    assert resp.json()["form"]["version"] == 2
    old = (await http.get(f"/form-requests/{first['id']}", headers=owner.headers)
           ).json()["request"]
    assert old["version"] == 1
    assert {**old["answers"], "consent": None} == {**GOOD_INTAKE, "consent": None}
    assert old["answers"]["consent"]["name"] == "Robin Hart"
    assert "history" in [i["id"] for i in old["items"]]
    assert next(i for i in old["items"] if i["id"] == "goal")["text"] == "Your main goal"
    [second] = await request_form(http, owner, form["id"], client["id"])
    new = (await http.get(f"/form-requests/{second['id']}", headers=robin.headers)
           ).json()["request"]
    assert new["version"] == 2 and "history" not in [i["id"] for i in new["items"]]
    v1 = (await http.get(f"/forms/{form['id']}", params={"version": 1},
                         headers=owner.headers)).json()["form"]
    assert len(v1["items"]) == len(INTAKE_ITEMS)


async def test_who_may_read_a_form_response(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    unassigned = await invite_staff(http, mailbox, owner)
    form = await new_form(http, owner)
    client, robin = await _client_of(http, mailbox, provider)
    _, other_client = await _client_of(http, mailbox, provider)
    stranger = await new_practice(http, "Elsewhere")
    [request] = await request_form(http, provider, form["id"], client["id"])
    await http.post(f"/form-requests/{request['id']}/submit", json={"answers": GOOD_INTAKE},
                    headers=robin.headers)
    for person in (stranger, unassigned, other_client):
        for path in (f"/form-requests/{request['id']}",
                     f"/form-requests/{request['id']}/export"):
            resp = await http.get(path, headers=person.headers)
            assert resp.status_code == 404, (person.user["role"], path)
            assert resp.json()["code"] == "not_found"
        resp = await http.post(f"/form-requests/{request['id']}/cancel", headers=person.headers)
        assert resp.status_code == 404
    # The unassigned provider still sees that the request exists (tracking), not its answers.
    tracked = (await http.get("/form-requests", params={"client_id": client["id"]},
                              headers=unassigned.headers)).json()["requests"]
    assert [r["id"] for r in tracked] == [request["id"]] and "answers" not in tracked[0]
    # The owner (an admin) and the provider read it; each view is audited without content.
    for reader in (provider, owner):
        assert (await http.get(f"/form-requests/{request['id']}", headers=reader.headers)
                ).status_code == 200
    log = (await http.get("/audit", params={"client_id": client["id"]},
                          headers=owner.headers)).json()["entries"]
    assert {(e["actor_id"], e["action"]) for e in log} == {
        (provider.id, "form_response.viewed"), (owner.id, "form_response.viewed")}
    assert "Sleep better" not in json.dumps(log)
    assert (await http.get("/audit", headers=provider.headers)).status_code == 403


async def test_answers_export_as_json_and_fhir(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    form = await import_phq9(http, owner)
    client, robin = await _client_of(http, mailbox, owner)
    [request] = await request_form(http, owner, form["id"], client["id"])
    await http.post(f"/form-requests/{request['id']}/submit",
                    json={"answers": phq9_answers(SEVERAL_DAYS)}, headers=robin.headers)
    fhir_response = (await http.get(f"/form-requests/{request['id']}/export",
                                    params={"format": "fhir"}, headers=owner.headers)).json()
    QuestionnaireResponse.model_validate(fhir_response)
    assert fhir_response["status"] == "completed"
    first = fhir_response["item"][0]["answer"][0]["valueCoding"]
    assert first == {"system": "http://loinc.org", "code": SEVERAL_DAYS, "display": "Several days"}
    total = next(i for i in fhir_response["item"] if i["linkId"] == "/44261-6")
    assert total["answer"][0]["valueInteger"] == 9
    as_json = (await http.get(f"/form-requests/{request['id']}/export",
                              headers=owner.headers)).json()
    assert as_json["score"] == 9
    assert as_json["answers"] == {**phq9_answers(SEVERAL_DAYS), "/44261-6": 9}
    actions = [e["action"] for e in (await http.get("/audit", headers=owner.headers)
                                     ).json()["entries"]]
    assert actions.count("form_response.exported") == 2


async def test_tracking_cancelling_and_reminding_by_hand(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    form = await new_form(http, owner)
    client, robin = await _client_of(http, mailbox, owner)
    [late] = await request_form(http, owner, form["id"], client["id"],
                                due_at="2020-01-01T00:00:00Z")
    [later] = await request_form(http, owner, form["id"], client["id"])
    overdue = (await http.get("/form-requests", params={"overdue": "true"},
                              headers=owner.headers)).json()["requests"]
    assert [r["id"] for r in overdue] == [late["id"]] and overdue[0]["overdue"]
    resp = await http.post(f"/form-requests/{late['id']}/remind", headers=owner.headers)
    assert resp.status_code == 200
    assert "Reminder" in (await mailbox.wait_for(robin.email or "", count=2)).subject
    resp = await http.post(f"/form-requests/{later['id']}/cancel", headers=owner.headers)
    assert resp.status_code == 200
    kinds = [e["kind"] for e in await all_events(http, robin, client["care_thread_id"])]
    assert kinds.count("form.requested") == 2
    assert "form.reminded" in kinds and "form.cancelled" in kinds
    resp = await http.post(f"/form-requests/{later['id']}/submit",
                           json={"answers": GOOD_INTAKE}, headers=robin.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "request_cancelled"
    open_ = (await http.get("/form-requests", params={"status": "open"},
                            headers=robin.headers)).json()["requests"]
    assert [r["id"] for r in open_] == [late["id"]]


@pytest.mark.parametrize("broken", [
    {"code": {"code": "1"}},
    {"contained": ["x"]},
    {"item": ["x"]},
    {"item": [{"type": "group", "text": "G",
               "item": [{"linkId": "a", "type": "string", "text": "A"}]}]},
    {"item": [{"linkId": "a", "type": "string", "text": "A", "maxLength": "abc"}]},
    {"item": [{"linkId": "a", "type": "integer", "text": "A", "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": "a"},
        {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 3}]}]},
    {"item": [{"linkId": "a", "type": "quantity", "text": "A"}]},
    {"resourceType": "Patient"},
])
async def test_malformed_questionnaires_are_refused(
    http: httpx.AsyncClient, broken: dict[str, Any]
) -> None:
    owner = await new_practice(http)
    resp = await http.post("/forms/import-fhir", json={**PHQ9, **broken}, headers=owner.headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] in ("fhir_invalid", "fhir_unsupported", "validation_error")
    assert (await http.get("/forms", headers=owner.headers)).json()["forms"] == []


async def test_what_the_client_gets_back_and_what_is_kept(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    phq9 = await import_phq9(http, owner)
    intake = await new_form(http, owner)
    client, robin = await _client_of(http, mailbox, owner)
    [scored] = await request_form(http, owner, phq9["id"], client["id"],
                                  due_at="2030-01-01T00:00:00Z")
    assert scored["due_at"].startswith("2030-01-01T00:00:00")
    await http.post(f"/form-requests/{scored['id']}/submit", json={"answers": phq9_answers()},
                    headers=robin.headers)
    for fmt in ("json", "fhir"):
        mine = (await http.get(f"/form-requests/{scored['id']}/export", params={"format": fmt},
                               headers=robin.headers)).json()
        assert "score" not in mine and "total-score" not in json.dumps(mine)
    [consent] = await request_form(http, owner, intake["id"], client["id"])
    answers = {**GOOD_INTAKE, "consent": {"name": " Robin Hart ", "agreed": True,
                                          "at": "whenever", "extra": "<b>x</b>"}}
    bad_date = await http.post(f"/form-requests/{consent['id']}/submit",
                               json={"answers": {**answers, "last_visit": "20260115"}},
                               headers=robin.headers)
    assert bad_date.status_code == 400
    await http.post(f"/form-requests/{consent['id']}/submit", json={"answers": answers},
                    headers=robin.headers)
    kept = (await http.get(f"/form-requests/{consent['id']}", headers=owner.headers)
            ).json()["request"]["answers"]["consent"]
    assert kept["name"] == "Robin Hart" and kept["agreed"] is True
    assert set(kept) == {"name", "agreed", "at"} and kept["at"] != "whenever"


async def test_a_group_request_skips_removed_clients(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    form = await new_form(http, owner)
    group = (await http.post("/groups", json={"name": "G"}, headers=owner.headers)
             ).json()["group"]
    stays = await add_client(http, owner, name="Stays", group_id=group["id"])
    leaves = await add_client(http, owner, name="Leaves", group_id=group["id"])
    await http.delete(f"/team/{leaves['id']}", headers=owner.headers)
    resp = await http.post("/form-requests", json={"form_ids": [form["id"]],
                                                   "group_id": group["id"]},
                           headers=owner.headers)
    assert resp.status_code == 201, resp.text
    assert [r["client_id"] for r in resp.json()["requests"]] == [stays["id"]]
