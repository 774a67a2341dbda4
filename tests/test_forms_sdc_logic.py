"""SDC forms without a server: enableWhen, calculated items and the FHIR mapping.

The Questionnaires are ours, written from the published LOINC panels (PHQ-9 44249-1, Hunger
Vital Sign 88121-9, body weight 29463-7 / height 8302-2 / BMI 39156-5).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from server.errors import InvalidInput
from server.forms import calc, fhir
from server.forms.schema import check_answers, check_definition, condition_holds, enabled, flat

FIXTURES = Path(__file__).parent / "fixtures"
PHQ9 = json.loads((FIXTURES / "sdc_phq9.json").read_text())
HVS = json.loads((FIXTURES / "sdc_hunger_vital_sign.json").read_text())
BODY = json.loads((FIXTURES / "sdc_weight_height_bmi.json").read_text())
OFTEN, NEVER = "LA28397-0", "LA28398-8"
AT_RISK, NO_RISK = "LA19952-3", "LA19983-8"


def link_ids(items: list[dict[str, Any]]) -> list[str]:
    found = []
    for item in items:
        found.append(item["linkId"])
        found += link_ids(item.get("item") or [])
    return found


def when(operator: str, answer: Any) -> dict[str, Any]:
    return {"question": "q", "operator": operator, "answer": answer}


# --- enableWhen ----------------------------------------------------------------------------


@pytest.mark.parametrize(("operator", "answer", "given", "holds"), [
    ("exists", True, 3, True), ("exists", True, None, False),
    ("exists", False, None, True), ("exists", False, "x", False),
    ("=", "veg", "veg", True), ("=", "veg", ["omni", "veg"], True), ("=", "veg", None, False),
    ("=", True, True, True), ("=", 1, True, False),  # a boolean is not the number 1
    ("!=", "veg", "omni", True), ("!=", "veg", None, True), ("!=", "veg", ["veg"], False),
    ("<", 10, 9.5, True), ("<", 10, 10, False), ("<=", 10, 10, True),
    (">", 25, 25.1, True), (">", 25, 25, False), (">=", 25, 25, True), (">", 25, None, False),
    (">", 25, "30", False),  # text is never more than a number
])
def test_each_operator_follows_fhir(operator: str, answer: Any, given: Any, holds: bool) -> None:
    assert condition_holds(when(operator, answer), given, "number") is holds


def test_dates_times_and_datetimes_compare_as_points_in_time() -> None:
    assert condition_holds(when(">", "2026-01-01"), "2026-06-01", "date")
    assert condition_holds(when("<", "08:00:00"), "07:30:00", "time")
    # 09:00 in Paris is 08:00 UTC: before 08:30 UTC.
    assert condition_holds(when("<", "2026-11-30T08:30:00Z"), "2026-11-30T09:00:00+01:00",
                           "datetime")
    assert not condition_holds(when(">", "2026-11-30T08:30:00Z"), "2026-11-30T09:00:00+01:00",
                               "datetime")


def test_enable_behavior_any_or_all() -> None:
    item = {"id": "x", "type": "yes_no", "enable_when": [
        {"question": "a", "operator": "=", "answer": True},
        {"question": "b", "operator": ">", "answer": 3}], "enable_behavior": "all"}
    assert enabled(item, {"a": True, "b": 4}, {"b": "number"})
    assert not enabled(item, {"a": True, "b": 2}, {"b": "number"})
    assert enabled({**item, "enable_behavior": "any"}, {"a": True, "b": 2}, {"b": "number"})
    assert not enabled({**item, "enable_behavior": "any"}, {}, {"b": "number"})


def test_a_disabled_group_hides_its_questions_and_drops_their_answers() -> None:
    items = check_definition([
        {"id": "smokes", "type": "yes_no", "text": "Do you smoke?"},
        {"id": "smoking", "type": "group", "text": "Smoking",
         "enable_when": [{"question": "smokes", "operator": "=", "answer": True}],
         "items": [{"id": "per-day", "type": "number", "text": "How many a day?",
                    "required": True, "integer": True}]},
    ])
    kept, errors = check_answers(items, {"smokes": False, "per-day": 10}, complete=True)
    assert kept == {"smokes": False} and errors == []
    kept, errors = check_answers(items, {"smokes": True}, complete=True)
    assert [(e.question, e.code) for e in errors] == [("per-day", "required")]
    _, errors = check_answers(items, {"smokes": True, "per-day": 2.5}, complete=True)
    assert [(e.question, e.code) for e in errors] == [("per-day", "wrong_type")]


def test_new_answer_types_are_checked_and_kept_in_one_shape() -> None:
    items = check_definition(fhir.import_questionnaire(BODY)["items"])
    good = {"29463-7": 80, "8302-2": 180, "measured-at": "2026-11-30T07:45:00+01:00",
            "weigh-time": "7:05", "where": {"other": " pharmacy "},
            "scale-photo": {"id": "0c6f3a52-3b1e-4a8e-9d55-2f8f0e6b9a10"}}
    kept, errors = check_answers(items, good, complete=True)
    assert errors == []
    assert kept["weigh-time"] == "07:05:00" and kept["where"] == {"other": "pharmacy"}
    bad = {"29463-7": 80, "8302-2": 180, "measured-at": "2026-11-30T07:45",
           "weigh-time": "25:00", "where": "pharmacy", "scale-photo": "a file"}
    _, errors = check_answers(items, bad, complete=True)
    assert {(e.question, e.code) for e in errors} == {
        ("measured-at", "wrong_type"), ("weigh-time", "wrong_type"),
        ("where", "not_a_choice"), ("scale-photo", "wrong_type")}


def test_definitions_refuse_what_they_cannot_evaluate() -> None:
    def refused(items: list[dict[str, Any]]) -> str:
        with pytest.raises(InvalidInput) as caught:
            check_definition(items)
        return caught.value.detail

    base = {"id": "w", "type": "number", "text": "Weight"}
    assert "operator" in refused([base, {"id": "x", "type": "yes_no", "text": "X",
                                         "enable_when": [{"question": "w", "operator": "~",
                                                          "answer": 1}]}])
    assert "earlier" in refused([{"id": "x", "type": "yes_no", "text": "X", "enable_when": [
        {"question": "w", "operator": ">", "answer": 1}]}, base])
    assert "compares" in refused([{"id": "c", "type": "yes_no", "text": "C"},
                                  {"id": "x", "type": "yes_no", "text": "X", "enable_when": [
                                      {"question": "c", "operator": ">", "answer": 1}]}])
    assert "FHIRPath" in refused([{**base, "calculated": {"expression": "1 +* ("}}])
    assert "cannot be calculated" in refused([{"id": "a", "type": "attachment", "text": "A",
                                               "calculated": {"expression": "1"}}])
    deep: dict[str, Any] = {"id": "leaf", "type": "yes_no", "text": "Leaf"}
    for level in range(6):
        deep = {"id": f"g{level}", "type": "group", "text": "", "items": [deep]}
    assert "nest" in refused([deep])


# --- calculated items ----------------------------------------------------------------------


def _complete(resource: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    imported = fhir.import_questionnaire(resource)
    kept, errors = calc.complete_answers(imported["items"], imported["variables"], answers,
                                         complete=False)
    assert errors == []
    return kept


def test_the_phq9_total_is_the_sum_of_the_ordinal_values_and_opens_the_last_question() -> None:
    questions = [i["linkId"] for i in PHQ9["item"][0]["item"]]
    answers = {q: "LA6571-9" for q in questions} | {questions[0]: "LA6569-3"}
    kept = _complete(PHQ9, {**answers, "69722-7": "LA6573-5", "44261-6": 3})
    assert kept["44261-6"] == 1 + 8 * 3  # the client's 3 is replaced by the server's value
    assert kept["69722-7"] == "LA6573-5"
    # No problem at all: a total of 0 does not ask how difficult they made things.
    nothing = _complete(PHQ9, {q: "LA6568-5" for q in questions} | {"69722-7": "LA6573-5"})
    assert nothing["44261-6"] == 0 and "69722-7" not in nothing


@pytest.mark.parametrize(("worried", "did_not_last", "risk"), [
    (NEVER, NEVER, NO_RISK), (OFTEN, NEVER, AT_RISK), (NEVER, "LA6729-3", AT_RISK),
    (OFTEN, None, None),
])
def test_the_hunger_vital_sign_risk_comes_from_both_answers(
    worried: str, did_not_last: str | None, risk: str | None
) -> None:
    answers = {"88122-7": worried, "food-help": True}
    if did_not_last:
        answers["88123-5"] = did_not_last
    kept = _complete(HVS, answers)
    assert kept.get("88124-3") == risk
    # The follow-up is asked only of those at risk.
    assert ("food-help" in kept) is (risk == AT_RISK)


def test_bmi_is_calculated_from_weight_and_height_through_a_hidden_item() -> None:
    kept = _complete(BODY, {"29463-7": 80, "8302-2": 180, "39156-5": 99, "height-m": 2})
    assert kept["height-m"] == 1.8 and kept["39156-5"] == 24.7
    assert "weight-advice" not in _complete(BODY, {"29463-7": 80, "8302-2": 180,
                                                   "weight-advice": True})
    heavier = _complete(BODY, {"29463-7": 95, "8302-2": 180, "weight-advice": True})
    assert heavier["39156-5"] == 29.3 and heavier["weight-advice"] is True
    # Without a height there is no BMI, and no error either.
    assert "39156-5" not in _complete(BODY, {"29463-7": 80})


def test_an_expression_that_fails_gives_no_value_rather_than_an_error() -> None:
    items = check_definition([
        {"id": "name", "type": "short_text", "text": "Name"},
        {"id": "n", "type": "number", "text": "N", "calculated": {
            "expression": "%resource.item.where(linkId='name').answer.value + 1"}},
        {"id": "f", "type": "number", "text": "F", "calculated": {"expression": "noSuch()"}},
    ])
    kept, errors = calc.complete_answers(items, [], {"name": "Robin"}, complete=True)
    assert kept == {"name": "Robin"} and errors == []


# --- FHIR ----------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", [PHQ9, HVS, BODY], ids=["phq9", "hvs", "body"])
def test_each_questionnaire_goes_out_as_it_came_in(resource: dict[str, Any]) -> None:
    imported = fhir.import_questionnaire(resource)
    form = {"id": "f1", "title": imported["title"], "description": imported["description"],
            "code": imported["code"], "score_code": imported["score_code"]}
    version = {"version": 1, "definition": imported["items"],
               "variables": imported["variables"]}
    exported = fhir.export_questionnaire(form, version, "https://example.test")
    Questionnaire.model_validate(exported)  # a valid R4 Questionnaire
    assert link_ids(exported["item"]) == link_ids(resource["item"])
    assert exported["description"] == resource["description"]
    assert exported.get("extension", []) == resource.get("extension", [])
    again = fhir.import_questionnaire(exported)
    assert again["items"] == imported["items"] and again["variables"] == imported["variables"]
    assert again["description"] == imported["description"]


def test_groups_units_controls_and_calculations_survive_the_export() -> None:
    imported = fhir.import_questionnaire(BODY)
    measurements = imported["items"][0]
    assert measurements["type"] == "group"
    assert [i["id"] for i in measurements["items"]] == ["29463-7", "8302-2", "height-m",
                                                        "39156-5"]
    assert measurements["items"][0]["unit"] == {"system": "http://unitsofmeasure.org",
                                                "code": "kg", "display": "kilogram"}
    assert measurements["items"][2]["hidden"] is True
    exported = fhir.export_questionnaire(
        {"id": "f", "title": "t"}, {"version": 1, "definition": imported["items"]}, "")
    weight, _height, height_m, bmi = exported["item"][0]["item"]
    assert {"url": fhir.UNIT, "valueCoding": {"system": "http://unitsofmeasure.org",
                                              "code": "kg", "display": "kilogram"}} \
        in weight["extension"]
    assert {"url": fhir.HIDDEN, "valueBoolean": True} in height_m["extension"]
    assert bmi["readOnly"] is True and any(e["url"] == fhir.CALCULATED for e in bmi["extension"])
    advice = exported["item"][1]
    assert advice["enableWhen"] == [{"question": "39156-5", "operator": ">",
                                     "answerDecimal": 25}]
    phq9 = fhir.import_questionnaire(PHQ9)["items"]
    assert phq9[0]["items"][0]["item_control"] == "radio-button"
    assert phq9[1]["calculated"]["expression"].endswith("ordinal().sum()")


def test_the_response_nests_answers_like_the_groups() -> None:
    imported = fhir.import_questionnaire(BODY)
    kept = _complete(BODY, {"29463-7": 80.5, "8302-2": 180, "where": "home",
                            "weigh-time": "07:30"})
    response = fhir.export_response(
        {"id": "f"}, {"version": 1, "definition": imported["items"]},
        {"id": "r", "answers": kept, "status": "completed", "client": "c",
         "completed_at": "2026-11-30T08:00:00+00:00"}, "https://example.test")
    measurements, details = response["item"]
    assert measurements["linkId"] == "measurements"
    by_id = {i["linkId"]: i["answer"] for i in measurements["item"]}
    assert by_id["29463-7"] == [{"valueDecimal": 80.5}]
    assert by_id["39156-5"] == [{"valueDecimal": 24.8}]
    assert {i["linkId"]: i["answer"] for i in details["item"]} == {
        "weigh-time": [{"valueTime": "07:30:00"}],
        "where": [{"valueCoding": {"code": "home", "display": "At home"}}]}


@pytest.mark.parametrize(("change", "named"), [
    (lambda q: q["item"][0].update(repeats=True), "repeating group"),
    (lambda q: q["item"][0]["item"][0].update(type="quantity"), "'quantity'"),
    (lambda q: q["item"][0]["item"][0].update(
        item=[{"linkId": "help", "type": "display", "text": "Help"}]), "holds items"),
    (lambda q: q["item"][0]["item"][3]["extension"][1]["valueExpression"].update(
        language="text/cql"), "text/fhirpath"),
    (lambda q: q["item"][1].setdefault("extension", []).append(
        {"url": fhir.SDC + "sdc-questionnaire-enableWhenExpression",
         "valueExpression": {"language": "text/fhirpath", "expression": "true"}}),
     "enableWhenExpression"),
    (lambda q: q["item"][1]["enableWhen"][0].update(answerReference={"reference": "x"}),
     "answerReference"),
])
def test_what_forms_cannot_hold_is_refused_by_name(change: Any, named: str) -> None:
    resource = copy.deepcopy(BODY)
    change(resource)
    with pytest.raises(InvalidInput) as caught:
        fhir.import_questionnaire(resource)
    assert caught.value.code == "fhir_unsupported"
    assert named in caught.value.detail


def test_flat_forms_of_before_keep_their_shape() -> None:
    """A definition stored before groups existed is still valid, and unchanged by a check."""
    stored = [{"id": "meds", "type": "yes_no", "text": "Medication?", "required": True},
              {"id": "which", "type": "short_text", "text": "Which?", "required": True,
               "max_length": 500, "show_when": {"question": "meds", "equals": True}}]
    assert check_definition(stored) == stored
    assert [i["id"] for i in flat(stored)] == ["meds", "which"]
    kept, errors = check_answers(stored, {"meds": False, "which": "x"}, complete=True)
    assert kept == {"meds": False} and errors == []


@pytest.mark.parametrize("equals", [[True], {"v": 1}])
def test_a_show_when_equal_to_a_list_or_an_object_is_refused(equals: Any) -> None:
    """The form's schema says `equals` is a scalar; a form must not answer outside it."""
    items = [{"id": "meds", "type": "yes_no", "text": "Medication?"},
             {"id": "which", "type": "short_text", "text": "Which?",
              "show_when": {"question": "meds", "equals": equals}}]
    with pytest.raises(InvalidInput, match="equals"):
        check_definition(items)
