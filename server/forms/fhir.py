"""FHIR R4 Questionnaire in and out, and answers as QuestionnaireResponse.

Only what our item types can hold comes in: questions, choices with codes and ordinal scores
(the ordinalValue or itemWeight extension), a simple `enableWhen` (one condition, `=`), groups
(flattened under a heading) and a total-score item with a calculated expression (kept as the
form's score code). Anything else is refused with a clear message rather than half-imported.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.errors import InvalidInput
from server.forms.schema import check_definition

ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
MAX_LENGTH_DEFAULT = 500
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
CONSENT = "https://carethread.org/fhir/StructureDefinition/consent"
CALCULATED = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"

_SIMPLE = {"string": "short_text", "text": "long_text", "integer": "number",
           "decimal": "number", "date": "date", "boolean": "yes_no", "display": "heading"}


def _extension(element: dict[str, Any], url: str) -> dict[str, Any] | None:
    for ext in element.get("extension") or []:
        if ext.get("url") == url:
            return dict(ext)
    return None


def _ext_number(element: dict[str, Any], *urls: str) -> float | None:
    for url in urls:
        ext = _extension(element, url)
        if ext is not None:
            for key in ("valueDecimal", "valueInteger"):
                if key in ext:
                    value = ext[key]
                    return int(value) if float(value).is_integer() else float(value)
    return None


def import_questionnaire(resource: Any) -> dict[str, Any]:
    """A Questionnaire resource as {title, code, items, score_code}."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Questionnaire":
        raise InvalidInput("Expected a FHIR Questionnaire resource.", code="fhir_invalid")
    try:
        return _import(resource)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        # A malformed resource (wrong shapes where FHIR says list, object or number).
        raise InvalidInput(f"This Questionnaire is malformed: {type(exc).__name__}: {exc}",
                           code="fhir_invalid") from None


def _import(resource: dict[str, Any]) -> dict[str, Any]:
    title = resource.get("title") or resource.get("name") or "Untitled form"
    code = (resource.get("code") or [{}])[0]
    items: list[dict[str, Any]] = []
    score_code: dict[str, Any] | None = None
    value_sets = {f"#{c.get('id')}": c for c in resource.get("contained") or []
                  if c.get("resourceType") == "ValueSet"}

    def walk(elements: list[dict[str, Any]]) -> None:
        nonlocal score_code
        for element in elements:
            kind = element.get("type")
            if kind == "group":
                if element.get("text"):
                    items.append({"id": element["linkId"], "type": "heading",
                                  "text": element["text"]})
                walk(element.get("item") or [])
                continue
            if _extension(element, CALCULATED) is not None or element.get("readOnly"):
                score_code = (element.get("code") or [None])[0]
                continue
            items.append(_import_item(element, value_sets))

    walk(resource.get("item") or [])
    return {
        "title": str(title)[:200],
        "code": {k: code[k] for k in ("system", "code", "display") if k in code} or None,
        "score_code": {k: score_code[k] for k in ("system", "code", "display")
                       if k in score_code} if score_code else None,
        "items": check_definition(items),
    }


def _import_item(element: dict[str, Any], value_sets: dict[str, Any]) -> dict[str, Any]:
    kind = element.get("type")
    link_id = element.get("linkId")
    text = element.get("text") or link_id
    item: dict[str, Any] = {"id": link_id, "text": text, "required": bool(element.get("required"))}
    if element.get("code"):
        item["code"] = element["code"][0]
    if kind in ("choice", "open-choice"):
        item["type"] = "multiple_choice" if element.get("repeats") else "single_choice"
        item["options"] = _import_options(element, value_sets)
    elif kind == "integer" and _extension(element, CONSENT) is None and (
            _ext_number(element, MIN_VALUE) is not None
            and _ext_number(element, MAX_VALUE) is not None):
        item["type"] = "scale"
        item["min"] = _ext_number(element, MIN_VALUE)
        item["max"] = _ext_number(element, MAX_VALUE)
    elif kind == "string" and _extension(element, CONSENT) is not None:
        item["type"] = "consent"
    elif kind in _SIMPLE:
        item["type"] = _SIMPLE[kind]
        if kind in ("string", "text") and element.get("maxLength"):
            item["max_length"] = min(int(element["maxLength"]),
                                     500 if kind == "string" else 10_000)
    else:
        raise InvalidInput(f"Question {link_id!r} has type {kind!r}, which forms do not "
                           "support.", code="fhir_unsupported")
    conditions = element.get("enableWhen") or []
    if len(conditions) > 1 or (conditions and conditions[0].get("operator") not in ("=", None)):
        raise InvalidInput(f"Question {link_id!r}: only one `=` condition is supported.",
                           code="fhir_unsupported")
    if conditions:
        condition = conditions[0]
        answer = next((condition[k] for k in condition if k.startswith("answer")), None)
        if isinstance(answer, dict):
            answer = answer.get("code")
        item["show_when"] = {"question": condition.get("question"), "equals": answer}
    return item


def _import_options(element: dict[str, Any], value_sets: dict[str, Any]) -> list[dict[str, Any]]:
    options = []
    for option in element.get("answerOption") or []:
        coding = option.get("valueCoding")
        if coding:
            entry: dict[str, Any] = {"value": coding.get("code"),
                                     "label": coding.get("display") or coding.get("code")}
            if coding.get("system"):
                entry["system"] = coding["system"]
            weight = _ext_number(option, ORDINAL, ITEM_WEIGHT)
            if weight is None:
                weight = _ext_number(coding, ORDINAL, ITEM_WEIGHT)
            if weight is not None:
                entry["score"] = weight
        elif "valueString" in option:
            entry = {"value": option["valueString"], "label": option["valueString"]}
        else:
            raise InvalidInput(f"Question {element.get('linkId')!r}: only coded or text "
                               "choices are supported.", code="fhir_unsupported")
        options.append(entry)
    if not options and element.get("answerValueSet") in value_sets:
        for concept in _value_set_concepts(value_sets[element["answerValueSet"]]):
            options.append(concept)
    return options


def _value_set_concepts(value_set: dict[str, Any]) -> list[dict[str, Any]]:
    concepts = []
    for include in (value_set.get("compose") or {}).get("include") or []:
        for concept in include.get("concept") or []:
            entry = {"value": concept.get("code"), "label": concept.get("display"),
                     "system": include.get("system")}
            weight = _ext_number(concept, ORDINAL, ITEM_WEIGHT)
            if weight is not None:
                entry["score"] = weight
            concepts.append(entry)
    return concepts


def export_questionnaire(form: dict[str, Any], version: dict[str, Any], base_url: str
                         ) -> dict[str, Any]:
    """Our form version as a FHIR R4 Questionnaire (items flat; headings as display)."""
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": str(form["id"]),
        "url": f"{base_url}/fhir/Questionnaire/{form['id']}",
        "version": str(version["version"]),
        "title": form["title"],
        "status": "retired" if form.get("archived") else "active",
        "item": [_export_item(item) for item in version["definition"]],
    }
    if form.get("code"):
        resource["code"] = [form["code"]]
    if form.get("score_code"):
        resource["item"].append({
            "linkId": "total-score", "type": "integer", "readOnly": True,
            "text": form["score_code"].get("display") or "Total score",
            "code": [form["score_code"]],
        })
    return resource


def _export_item(item: dict[str, Any]) -> dict[str, Any]:
    kinds = {"short_text": "string", "long_text": "text", "number": "decimal", "date": "date",
             "single_choice": "choice", "multiple_choice": "choice", "yes_no": "boolean",
             "scale": "integer", "consent": "string", "heading": "display"}
    element: dict[str, Any] = {"linkId": item["id"], "text": item["text"],
                               "type": kinds[item["type"]]}
    if item["type"] != "heading":
        element["required"] = item["required"]
    if item.get("code"):
        element["code"] = [item["code"]]
    if item["type"] in ("short_text", "long_text"):
        element["maxLength"] = item["max_length"]
    if item["type"] == "multiple_choice":
        element["repeats"] = True
    if item["type"] in ("single_choice", "multiple_choice"):
        element["answerOption"] = []
        for option in item["options"]:
            coding = {"code": option["value"], "display": option["label"]}
            if option.get("system"):
                coding["system"] = option["system"]
            entry: dict[str, Any] = {"valueCoding": coding}
            if "score" in option:
                entry["extension"] = [{"url": ORDINAL, "valueDecimal": option["score"]}]
            element["answerOption"].append(entry)
    if item["type"] == "scale":
        element["extension"] = [{"url": MIN_VALUE, "valueInteger": int(item["min"])},
                                {"url": MAX_VALUE, "valueInteger": int(item["max"])}]
    if item["type"] == "consent":
        element["extension"] = [{"url": CONSENT, "valueBoolean": True}]
    if item.get("show_when"):
        condition = item["show_when"]
        answer = condition["equals"]
        key = "answerBoolean" if isinstance(answer, bool) else (
            "answerDecimal" if isinstance(answer, int | float) else "answerCoding")
        value: Any = {"code": answer} if key == "answerCoding" else answer
        element["enableWhen"] = [{"question": condition["question"], "operator": "=",
                                  key: value}]
    return element


def export_response(form: dict[str, Any], version: dict[str, Any], request: dict[str, Any],
                    base_url: str, *, with_score: bool = True) -> dict[str, Any]:
    """A completed request's answers as a FHIR R4 QuestionnaireResponse."""
    answers = request["answers"] or {}
    items = []
    for item in version["definition"]:
        if item["id"] not in answers:
            continue
        items.append({"linkId": item["id"], "text": item["text"],
                      "answer": _export_answers(item, answers[item["id"]])})
    if with_score and request.get("score") is not None and form.get("score_code"):
        items.append({"linkId": "total-score", "answer": [
            {"valueDecimal": request["score"]} if isinstance(request["score"], float)
            else {"valueInteger": request["score"]}]})
    authored = request.get("completed_at")
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(request["id"]),
        "questionnaire": f"{base_url}/fhir/Questionnaire/{form['id']}|{version['version']}",
        "status": "completed" if request["status"] == "completed" else "in-progress",
        "subject": {"reference": f"Patient/{request['client']}"},
        "authored": authored.isoformat() if isinstance(authored, datetime) else authored,
        "item": items,
    }


def _export_answers(item: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    kind = item["type"]
    if kind in ("single_choice", "multiple_choice"):
        options = {o["value"]: o for o in item["options"]}
        out = []
        for chosen in value if isinstance(value, list) else [value]:
            option = options[chosen]
            coding = {"code": option["value"], "display": option["label"]}
            if option.get("system"):
                coding["system"] = option["system"]
            out.append({"valueCoding": coding})
        return out
    if kind == "yes_no":
        return [{"valueBoolean": value}]
    if kind == "scale":
        return [{"valueInteger": int(value)}]
    if kind == "number":
        return [{"valueDecimal": value}]
    if kind == "date":
        return [{"valueDate": value}]
    if kind == "consent":
        when = f" at {value['at']}" if value.get("at") else ""
        return [{"valueString": f"Agreed by {value['name']}{when}"}]
    return [{"valueString": value}]
