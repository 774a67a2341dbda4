"""FHIR R4 Questionnaire in and out (with what SDC forms need), answers as QuestionnaireResponse.

What our items can hold comes in and goes out again: questions of every type we have, groups
(nested), choices with codes and ordinal scores (the ordinalValue or itemWeight extension),
open choices, units (`questionnaire-unit`), hidden items, `itemControl`, enableWhen (every
operator, `enableBehavior`), calculated items (`sdc-questionnaire-calculatedExpression`, with
`variable`s) and the description. Anything else that changes what is asked (a repeating group,
a question inside a question, `quantity`, `url`, `reference`, an answerExpression...) is refused
by name with `fhir_unsupported` rather than half-imported.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from server.errors import InvalidInput
from server.forms.schema import check_definition, check_variables, flat

ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
MAX_LENGTH_DEFAULT = 500
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
HIDDEN = "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
VARIABLE = "http://hl7.org/fhir/StructureDefinition/variable"
UCUM = "http://unitsofmeasure.org"
CONSENT = "https://carethread.org/fhir/StructureDefinition/consent"
SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
CALCULATED = SDC + "sdc-questionnaire-calculatedExpression"
# SDC extensions that change what is asked or shown: refused rather than ignored.
REFUSED_EXTENSIONS = {
    SDC + "sdc-questionnaire-enableWhenExpression": "enableWhenExpression",
    SDC + "sdc-questionnaire-answerExpression": "answerExpression",
    SDC + "sdc-questionnaire-candidateExpression": "candidateExpression",
    SDC + "sdc-questionnaire-itemPopulationContext": "itemPopulationContext",
}
FHIRPATH = "text/fhirpath"

_SIMPLE = {"string": "short_text", "text": "long_text", "date": "date", "boolean": "yes_no",
           "display": "heading", "dateTime": "datetime", "time": "time",
           "attachment": "attachment"}
_ANSWER_KEYS = ("answerBoolean", "answerDecimal", "answerInteger", "answerDate",
                "answerDateTime", "answerTime", "answerString", "answerCoding",
                "answerQuantity")


def _unsupported(detail: str) -> InvalidInput:
    return InvalidInput(detail, code="fhir_unsupported")


def _extension(element: dict[str, Any], url: str) -> dict[str, Any] | None:
    for ext in element.get("extension") or []:
        if ext.get("url") == url:
            return dict(ext)
    return None


def _extensions(element: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [dict(ext) for ext in element.get("extension") or [] if ext.get("url") == url]


def _ext_number(element: dict[str, Any], *urls: str) -> float | None:
    for url in urls:
        ext = _extension(element, url)
        if ext is not None:
            for key in ("valueDecimal", "valueInteger"):
                if key in ext:
                    value = ext[key]
                    return int(value) if float(value).is_integer() else float(value)
    return None


def _expression(ext: dict[str, Any], where: str) -> dict[str, Any]:
    value = ext.get("valueExpression") or {}
    if value.get("language") != FHIRPATH:
        raise _unsupported(f"{where}: only text/fhirpath expressions are supported (not "
                           f"{value.get('language')!r}).")
    return dict(value)


def _variables(element: dict[str, Any], where: str) -> list[dict[str, Any]]:
    found = []
    for ext in _extensions(element, VARIABLE):
        value = _expression(ext, where)
        found.append({"name": value.get("name"), "expression": value.get("expression")})
    return found


def import_questionnaire(resource: Any) -> dict[str, Any]:
    """A Questionnaire resource as {title, description, code, items, variables, score_code}."""
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
    score: dict[str, Any] = {}
    value_sets = {f"#{c.get('id')}": c for c in resource.get("contained") or []
                  if c.get("resourceType") == "ValueSet"}
    _refuse_extensions(resource, "The Questionnaire")
    items = _import_items(resource.get("item") or [], value_sets, score)
    description = resource.get("description")
    return {
        "title": str(title)[:200],
        "description": str(description)[:4000] if isinstance(description, str) else "",
        "code": {k: code[k] for k in ("system", "code", "display") if k in code} or None,
        "score_code": {k: score["code"][k] for k in ("system", "code", "display")
                       if k in score["code"]} if score.get("code") else None,
        "items": check_definition(items),
        "variables": check_variables(_variables(resource, "The Questionnaire"), "variables"),
    }


def _refuse_extensions(element: dict[str, Any], where: str) -> None:
    for ext in element.get("extension") or []:
        name = REFUSED_EXTENSIONS.get(ext.get("url"))
        if name:
            raise _unsupported(f"{where} uses {name}, which forms do not support.")


def _import_items(elements: list[dict[str, Any]], value_sets: dict[str, Any],
                  score: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for element in elements:
        calculated = _extension(element, CALCULATED)
        if element.get("readOnly") and calculated is None:
            # A read-only item nothing fills in: the form's total score (its code).
            score.setdefault("code", (element.get("code") or [None])[0])
            continue
        items.append(_import_item(element, value_sets, score))
    return items


def _import_item(element: dict[str, Any], value_sets: dict[str, Any],
                 score: dict[str, Any]) -> dict[str, Any]:
    kind = element.get("type")
    link_id = element.get("linkId")
    where = f"Item {link_id!r}"
    _refuse_extensions(element, where)
    text = element.get("text") or ("" if kind == "group" else link_id)
    item: dict[str, Any] = {"id": link_id, "text": text, "required": bool(element.get("required"))}
    if element.get("code"):
        item["code"] = element["code"][0]
    children = element.get("item") or []
    if children and kind != "group":
        raise _unsupported(f"{where} ({kind}) holds items of its own; only groups hold items.")
    if element.get("repeats") and kind not in ("choice", "open-choice"):
        raise _unsupported(f"{where}: a repeating {kind} is not supported (one answer per "
                           "item, except choices).")
    calculated = _extension(element, CALCULATED)
    if kind == "group":
        item["type"] = "group"
        item["items"] = _import_items(children, value_sets, score)
    elif kind in ("choice", "open-choice"):
        if kind == "open-choice":
            item["type"] = "open_choice"
            if element.get("repeats"):
                item["repeats"] = True
        else:
            item["type"] = "multiple_choice" if element.get("repeats") else "single_choice"
        item["options"] = _import_options(element, value_sets)
    elif kind == "integer" and calculated is None and _extension(element, CONSENT) is None and (
            _ext_number(element, MIN_VALUE) is not None
            and _ext_number(element, MAX_VALUE) is not None):
        item["type"] = "scale"
        item["min"] = _ext_number(element, MIN_VALUE)
        item["max"] = _ext_number(element, MAX_VALUE)
    elif kind in ("integer", "decimal"):
        item["type"] = "number"
        if kind == "integer":
            item["integer"] = True
        else:
            for bound, url in (("min", MIN_VALUE), ("max", MAX_VALUE)):
                if _ext_number(element, url) is not None:
                    item[bound] = _ext_number(element, url)
        unit = _extension(element, UNIT)
        if unit is not None:
            coding = unit.get("valueCoding") or {}
            item["unit"] = {k: coding[k] for k in ("system", "code", "display") if k in coding}
    elif kind == "string" and _extension(element, CONSENT) is not None:
        item["type"] = "consent"
    elif kind in _SIMPLE:
        item["type"] = _SIMPLE[kind]
        if kind in ("string", "text") and element.get("maxLength"):
            item["max_length"] = min(int(element["maxLength"]),
                                     500 if kind == "string" else 10_000)
    else:
        raise _unsupported(f"Question {link_id!r} has type {kind!r}, which forms do not "
                           "support.")
    if calculated is not None:
        item["calculated"] = {"expression": _expression(calculated, where).get("expression")}
    hidden = _extension(element, HIDDEN)
    if hidden is not None and hidden.get("valueBoolean") is True:
        item["hidden"] = True
    control = _extension(element, ITEM_CONTROL)
    if control is not None:
        codings = (control.get("valueCodeableConcept") or {}).get("coding") or [{}]
        if codings[0].get("code"):
            item["item_control"] = codings[0]["code"]
    variables = _variables(element, where)
    if variables:
        item["variables"] = variables
    _import_conditions(element, item, where)
    return item


def _import_conditions(element: dict[str, Any], item: dict[str, Any], where: str) -> None:
    conditions = element.get("enableWhen") or []
    if not conditions:
        return
    clean = []
    for condition in conditions:
        keys = [k for k in condition if k.startswith("answer")]
        if len(keys) != 1 or keys[0] not in _ANSWER_KEYS:
            raise _unsupported(f"{where}: an enableWhen needs one answer of a supported type "
                               f"(not {', '.join(keys) or 'none'}).")
        answer = condition[keys[0]]
        if keys[0] == "answerCoding":
            answer = answer.get("code")
        elif keys[0] == "answerQuantity":
            answer = answer.get("value")
        clean.append({"question": condition.get("question"),
                      "operator": condition.get("operator"), "answer": answer})
    behavior = element.get("enableBehavior")
    if len(clean) == 1 and clean[0]["operator"] == "=" and behavior is None:
        # One `=` condition: the form's own `show_when` (what the builder edits).
        item["show_when"] = {"question": clean[0]["question"], "equals": clean[0]["answer"]}
        return
    if len(clean) > 1 and behavior not in ("all", "any"):
        raise _unsupported(f"{where}: several enableWhen conditions need enableBehavior "
                           "all or any.")
    item["enable_when"] = clean
    item["enable_behavior"] = behavior or "all"


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
            raise _unsupported(f"Question {element.get('linkId')!r}: only coded or text "
                               "choices are supported.")
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


# --- export --------------------------------------------------------------------------------
# The resources as Structs, as far as the exporter writes them (the OpenAPI schema names their
# fields); optional elements are UNSET, which msgspec never writes. Numbers are annotated
# `float` and built, never converted: a whole score stays `0`, not `0.0` (server/forms/views.py).


class FhirCoding(msgspec.Struct):
    system: str | UnsetType = UNSET
    code: str | UnsetType = UNSET
    display: str | UnsetType = UNSET


class FhirCodeableConcept(msgspec.Struct):
    coding: list[FhirCoding]


class FhirExpression(msgspec.Struct):
    language: str
    expression: str
    name: str | UnsetType = UNSET  # a `variable`'s


class FhirExtension(msgspec.Struct):
    """One extension: its `url` names it, one `value[x]` holds its value."""

    url: str
    valueBoolean: bool | UnsetType = UNSET
    valueInteger: int | UnsetType = UNSET
    valueDecimal: float | UnsetType = UNSET
    valueCoding: FhirCoding | UnsetType = UNSET
    valueCodeableConcept: FhirCodeableConcept | UnsetType = UNSET
    valueExpression: FhirExpression | UnsetType = UNSET


class FhirAnswerOption(msgspec.Struct):
    valueCoding: FhirCoding
    extension: list[FhirExtension] | UnsetType = UNSET  # the option's `ordinalValue`


class FhirEnableWhen(msgspec.Struct):
    """A condition with one `answer[x]`, by the type of the question it names."""

    question: str
    operator: str
    answerBoolean: bool | UnsetType = UNSET
    answerDecimal: float | UnsetType = UNSET
    answerInteger: int | UnsetType = UNSET
    answerDate: str | UnsetType = UNSET
    answerDateTime: str | UnsetType = UNSET
    answerTime: str | UnsetType = UNSET
    answerString: str | UnsetType = UNSET
    answerCoding: FhirCoding | UnsetType = UNSET


class FhirItem(msgspec.Struct, kw_only=True):
    """A Questionnaire item; a `group` holds its own `item`s."""

    linkId: str
    type: str  # string, text, decimal, integer, date, dateTime, time, choice, open-choice...
    text: str | UnsetType = UNSET
    required: bool | UnsetType = UNSET
    code: list[dict[str, str]] | UnsetType = UNSET  # Codings; the total score's as stored
    maxLength: int | UnsetType = UNSET
    repeats: bool | UnsetType = UNSET
    answerOption: list[FhirAnswerOption] | UnsetType = UNSET
    readOnly: bool | UnsetType = UNSET
    extension: list[FhirExtension] | UnsetType = UNSET
    enableWhen: list[FhirEnableWhen] | UnsetType = UNSET
    enableBehavior: str | UnsetType = UNSET
    item: list[FhirItem] | UnsetType = UNSET


class FhirQuestionnaire(msgspec.Struct, kw_only=True):
    """docs/api.md §11 FHIR: one version of a form as an R4 Questionnaire."""

    resourceType: Literal["Questionnaire"]
    id: str
    url: str
    version: str
    title: str
    status: Literal["active", "retired"]
    item: list[FhirItem]
    description: str | UnsetType = UNSET
    extension: list[FhirExtension] | UnsetType = UNSET  # the version's `variable`s
    code: list[dict[str, str]] | UnsetType = UNSET  # the form's code, as stored


class FhirAttachment(msgspec.Struct):
    url: str
    title: str | UnsetType = UNSET
    contentType: str | UnsetType = UNSET
    size: int | UnsetType = UNSET


class FhirAnswer(msgspec.Struct):
    """One answer of a QuestionnaireResponse item: one `value[x]`."""

    valueBoolean: bool | UnsetType = UNSET
    valueInteger: int | UnsetType = UNSET
    valueDecimal: float | UnsetType = UNSET
    valueDate: str | UnsetType = UNSET
    valueDateTime: str | UnsetType = UNSET
    valueTime: str | UnsetType = UNSET
    valueString: str | UnsetType = UNSET
    valueCoding: FhirCoding | UnsetType = UNSET
    valueAttachment: FhirAttachment | UnsetType = UNSET


class FhirResponseItem(msgspec.Struct):
    """An answered question (`answer`), or a group holding some (`item`)."""

    linkId: str
    text: str | UnsetType = UNSET
    answer: list[FhirAnswer] | UnsetType = UNSET
    item: list[FhirResponseItem] | UnsetType = UNSET


class FhirReference(msgspec.Struct):
    reference: str


class FhirQuestionnaireResponse(msgspec.Struct, kw_only=True):
    """docs/api.md §11 FHIR: a completed request's answers as an R4 QuestionnaireResponse."""

    resourceType: Literal["QuestionnaireResponse"]
    id: str
    questionnaire: str
    status: Literal["completed", "in-progress"]
    subject: FhirReference
    authored: str | None
    item: list[FhirResponseItem]


def _variable_extensions(variables: list[dict[str, Any]]) -> list[FhirExtension]:
    return [FhirExtension(url=VARIABLE, valueExpression=FhirExpression(
        name=v["name"], language=FHIRPATH, expression=v["expression"])) for v in variables]


def questionnaire(form: dict[str, Any], version: dict[str, Any], base_url: str
                  ) -> FhirQuestionnaire:
    """Our form version as a FHIR R4 Questionnaire (groups nested, every linkId kept)."""
    definition = version["definition"]
    by_id = {item["id"]: item for item in flat(definition)}
    resource = FhirQuestionnaire(
        resourceType="Questionnaire", id=str(form["id"]),
        url=f"{base_url}/fhir/Questionnaire/{form['id']}",
        version=str(version["version"]),
        title=form["title"],
        status="retired" if form.get("archived") else "active",
        item=[_export_item(item, by_id) for item in definition],
    )
    if form.get("description"):
        resource.description = form["description"]
    if version.get("variables"):
        resource.extension = _variable_extensions(version["variables"])
    if form.get("code"):
        resource.code = [form["code"]]
    score_code = form.get("score_code")
    if score_code and not any((i.get("code") or {}).get("code") == score_code.get("code")
                              for i in by_id.values()):
        resource.item.append(FhirItem(
            linkId="total-score", type="integer", readOnly=True,
            text=score_code.get("display") or "Total score", code=[score_code]))
    return resource


def export_questionnaire(form: dict[str, Any], version: dict[str, Any], base_url: str
                         ) -> dict[str, Any]:
    """`questionnaire` as plain JSON (what FHIR tools and our own import read)."""
    resource: dict[str, Any] = msgspec.to_builtins(questionnaire(form, version, base_url))
    return resource


_KINDS = {"short_text": "string", "long_text": "text", "number": "decimal", "date": "date",
          "single_choice": "choice", "multiple_choice": "choice", "yes_no": "boolean",
          "scale": "integer", "consent": "string", "heading": "display", "group": "group",
          "datetime": "dateTime", "time": "time", "open_choice": "open-choice",
          "attachment": "attachment"}


def _export_item(item: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> FhirItem:
    kind = item["type"]
    element = FhirItem(linkId=item["id"], type=_KINDS[kind])
    if item["text"]:
        element.text = item["text"]
    if kind == "number" and item.get("integer"):
        element.type = "integer"
    extensions: list[FhirExtension] = []
    if kind not in ("heading", "group"):
        element.required = item["required"]
    if item.get("code"):
        element.code = [item["code"]]
    if kind in ("short_text", "long_text"):
        element.maxLength = item["max_length"]
    if kind == "multiple_choice" or item.get("repeats"):
        element.repeats = True
    if kind in ("single_choice", "multiple_choice", "open_choice"):
        element.answerOption = [
            FhirAnswerOption(valueCoding=_coding(option), extension=(
                [FhirExtension(url=ORDINAL, valueDecimal=option["score"])]
                if "score" in option else UNSET))
            for option in item["options"]]
    if kind == "scale":
        extensions += [FhirExtension(url=MIN_VALUE, valueInteger=int(item["min"])),
                       FhirExtension(url=MAX_VALUE, valueInteger=int(item["max"]))]
    if kind == "number" and not item.get("integer"):
        extensions += [FhirExtension(url=url, valueDecimal=item[bound])
                       for bound, url in (("min", MIN_VALUE), ("max", MAX_VALUE))
                       if item.get(bound) is not None]
    if item.get("unit"):
        unit = {"system": UCUM, **item["unit"]}
        extensions.append(FhirExtension(url=UNIT, valueCoding=FhirCoding(
            system=unit["system"], code=unit["code"], display=unit.get("display", UNSET))))
    if kind == "consent":
        extensions.append(FhirExtension(url=CONSENT, valueBoolean=True))
    if item.get("hidden"):
        extensions.append(FhirExtension(url=HIDDEN, valueBoolean=True))
    if item.get("item_control"):
        extensions.append(FhirExtension(url=ITEM_CONTROL, valueCodeableConcept=(
            FhirCodeableConcept([FhirCoding(system=ITEM_CONTROL_SYSTEM,
                                            code=item["item_control"])]))))
    if item.get("variables"):
        extensions += _variable_extensions(item["variables"])
    if item.get("calculated"):
        element.readOnly = True
        extensions.append(FhirExtension(url=CALCULATED, valueExpression=FhirExpression(
            language=FHIRPATH, expression=item["calculated"]["expression"])))
    if extensions:
        element.extension = extensions
    if item.get("show_when"):
        condition = item["show_when"]
        answer = condition["equals"]
        shown = FhirEnableWhen(question=condition["question"], operator="=")
        if isinstance(answer, bool):
            shown.answerBoolean = answer
        elif isinstance(answer, int | float):
            shown.answerDecimal = answer
        else:
            shown.answerCoding = FhirCoding(code=answer)
        element.enableWhen = [shown]
    if item.get("enable_when"):
        element.enableWhen = [_export_condition(c, by_id.get(c["question"]))
                              for c in item["enable_when"]]
        element.enableBehavior = item.get("enable_behavior", "all")
    if kind == "group":
        element.item = [_export_item(child, by_id) for child in item["items"]]
    return element


def _export_condition(condition: dict[str, Any], on: dict[str, Any] | None) -> FhirEnableWhen:
    out = FhirEnableWhen(question=condition["question"], operator=condition["operator"])
    answer = condition["answer"]
    kind = on["type"] if on else None
    if condition["operator"] == "exists" or isinstance(answer, bool):
        out.answerBoolean = answer
    elif kind in ("single_choice", "multiple_choice", "open_choice") and on is not None:
        option = next((o for o in on["options"] if o["value"] == answer), None)
        out.answerCoding = FhirCoding(
            code=answer, system=option["system"] if option and option.get("system") else UNSET)
    elif isinstance(answer, int | float):
        whole = kind == "scale" or bool(on and on.get("integer"))
        if whole and float(answer).is_integer():
            out.answerInteger = int(answer)
        else:
            out.answerDecimal = answer
    elif kind == "date":
        out.answerDate = answer
    elif kind == "datetime":
        out.answerDateTime = answer
    elif kind == "time":
        out.answerTime = answer
    else:
        out.answerString = answer
    return out


def response_items(items: list[dict[str, Any]], answers: dict[str, Any], base_url: str = ""
                   ) -> list[FhirResponseItem]:
    """Answers as QuestionnaireResponse items, nested like the form's groups."""
    out: list[FhirResponseItem] = []
    for item in items:
        if item["type"] == "group":
            children = response_items(item["items"], answers, base_url)
            if children:
                out.append(FhirResponseItem(linkId=item["id"], item=children,
                                            text=item["text"] or UNSET))
        elif item["id"] in answers and item["type"] != "heading":
            out.append(FhirResponseItem(
                linkId=item["id"], text=item["text"],
                answer=_export_answers(item, answers[item["id"]], base_url)))
    return out


def questionnaire_response(form: dict[str, Any], version: dict[str, Any],
                           request: dict[str, Any], base_url: str, *, with_score: bool = True
                           ) -> FhirQuestionnaireResponse:
    """A completed request's answers as a FHIR R4 QuestionnaireResponse."""
    answers = request["answers"] or {}
    definition = version["definition"]
    items = response_items(definition, answers, base_url)
    score_code = form.get("score_code")
    held = score_code and any((i.get("code") or {}).get("code") == score_code.get("code")
                              for i in flat(definition))
    if with_score and request.get("score") is not None and score_code and not held:
        score = request["score"]
        items.append(FhirResponseItem(linkId="total-score", answer=[
            FhirAnswer(valueDecimal=score) if isinstance(score, float)
            else FhirAnswer(valueInteger=score)]))
    authored = request.get("completed_at")
    return FhirQuestionnaireResponse(
        resourceType="QuestionnaireResponse", id=str(request["id"]),
        questionnaire=f"{base_url}/fhir/Questionnaire/{form['id']}|{version['version']}",
        status="completed" if request["status"] == "completed" else "in-progress",
        subject=FhirReference(f"Patient/{request['client']}"),
        authored=authored.isoformat() if isinstance(authored, datetime) else authored,
        item=items,
    )


def export_response(form: dict[str, Any], version: dict[str, Any], request: dict[str, Any],
                    base_url: str, *, with_score: bool = True) -> dict[str, Any]:
    """`questionnaire_response` as plain JSON."""
    resource: dict[str, Any] = msgspec.to_builtins(questionnaire_response(
        form, version, request, base_url, with_score=with_score))
    return resource


def _coding(option: dict[str, Any]) -> FhirCoding:
    return FhirCoding(code=option["value"], display=option["label"],
                      system=option["system"] if option.get("system") else UNSET)


def _export_answers(item: dict[str, Any], value: Any, base_url: str = ""
                    ) -> list[FhirAnswer]:
    kind = item["type"]
    if kind in ("single_choice", "multiple_choice", "open_choice"):
        options = {o["value"]: o for o in item["options"]}
        out = []
        for chosen in value if isinstance(value, list) else [value]:
            if isinstance(chosen, dict):
                out.append(FhirAnswer(valueString=chosen.get("other", "")))
            elif chosen in options:
                out.append(FhirAnswer(valueCoding=_coding(options[chosen])))
        return out
    if kind == "yes_no":
        return [FhirAnswer(valueBoolean=value)]
    if kind == "scale":
        return [FhirAnswer(valueInteger=int(value))]
    if kind == "number":
        if item.get("integer") and float(value).is_integer():
            return [FhirAnswer(valueInteger=int(value))]
        return [FhirAnswer(valueDecimal=value)]
    if kind == "date":
        return [FhirAnswer(valueDate=value)]
    if kind == "datetime":
        return [FhirAnswer(valueDateTime=value)]
    if kind == "time":
        return [FhirAnswer(valueTime=value)]
    if kind == "attachment":
        return [FhirAnswer(valueAttachment=FhirAttachment(
            url=f"{base_url}/api/v1/files/{value.get('id')}",
            title=_present(value.get("name")), contentType=_present(value.get("content_type")),
            size=_present(value.get("size"))))]
    if kind == "consent":
        when = f" at {value['at']}" if value.get("at") else ""
        return [FhirAnswer(valueString=f"Agreed by {value['name']}{when}")]
    return [FhirAnswer(valueString=value)]


def _present(value: Any) -> Any:
    """None as absent (UNSET)."""
    return UNSET if value is None else value
