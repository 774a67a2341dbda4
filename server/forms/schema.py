"""A form's questions and the answers to them: checking both, and scoring.

A form definition is a list of items, each a dict:

    {"id": "q1", "type": "single_choice", "text": "...", "required": true,
     "options": [{"value": "LA6568-5", "label": "Not at all", "score": 0,
                  "system": "http://loinc.org"}],
     "min": 0, "max": 3, "max_length": 500,
     "code": {"system": "http://loinc.org", "code": "44250-9", "display": "..."},
     "show_when": {"question": "q0", "equals": "yes"}}

Answers are a dict from item id to a value whose type follows the item's type.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from server.errors import InvalidInput

TYPES = (
    "short_text", "long_text", "number", "date", "single_choice", "multiple_choice", "yes_no",
    "scale", "consent", "heading",
)
CHOICE_TYPES = ("single_choice", "multiple_choice")
MAX_ITEMS = 200
MAX_OPTIONS = 100
SHORT_TEXT = 500
LONG_TEXT = 10_000
# What numbers a form may hold. A score is summed over every chosen option and scale of a form
# (at most MAX_ITEMS * MAX_OPTIONS terms) and stored as a REAL: bounded, the sum stays finite.
MAX_SCORE = 1_000_000
MAX_NUMBER = 10**15  # number questions' bounds and answers: exact in a double
_ID = re.compile(r"^[A-Za-z0-9_.\-/]{1,64}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class FieldError:
    question: str
    code: str
    detail: str

    def view(self) -> dict[str, str]:
        return {"question": self.question, "code": self.code, "detail": self.detail}


def check_definition(items: Any) -> list[dict[str, Any]]:
    """A definition as stored: known types, unique ids, sane options and conditions."""
    if not isinstance(items, list) or not items:
        raise InvalidInput("A form needs at least one question.", extra={"field": "items"})
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"A form has at most {MAX_ITEMS} items.")
    seen: dict[str, dict[str, Any]] = {}
    clean: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(raw, dict):
            raise InvalidInput(f"{where} must be an object.")
        item_id = raw.get("id")
        if not isinstance(item_id, str) or not _ID.match(item_id):
            raise InvalidInput(f"{where}.id must be 1-64 letters, digits or _ . - /.")
        if item_id in seen:
            raise InvalidInput(f"{where}.id {item_id!r} is used twice.")
        kind = raw.get("type")
        if kind not in TYPES:
            raise InvalidInput(f"{where}.type must be one of {', '.join(TYPES)}.")
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 2000:
            raise InvalidInput(f"{where}.text must be 1-2000 characters.")
        item: dict[str, Any] = {"id": item_id, "type": kind, "text": text.strip(),
                                "required": bool(raw.get("required", False))}
        if kind == "heading":
            item["required"] = False
        if kind in CHOICE_TYPES:
            item["options"] = _check_options(raw.get("options"), where)
        if kind in ("number", "scale"):
            for bound in ("min", "max"):
                value = raw.get(bound)
                limit = MAX_SCORE if kind == "scale" else MAX_NUMBER
                if value is not None and not _is_number(value, limit):
                    raise InvalidInput(f"{where}.{bound} must be a number from {-limit} "
                                       f"to {limit}.")
                if value is not None:
                    item[bound] = value
            if kind == "scale" and ("min" not in item or "max" not in item):
                raise InvalidInput(f"{where}: a scale needs min and max.")
            if "min" in item and "max" in item and item["min"] > item["max"]:
                raise InvalidInput(f"{where}: min is above max.")
        if kind in ("short_text", "long_text"):
            limit = SHORT_TEXT if kind == "short_text" else LONG_TEXT
            max_length = raw.get("max_length", limit)
            if not isinstance(max_length, int) or isinstance(max_length, bool) \
                    or not 1 <= max_length <= limit:
                raise InvalidInput(f"{where}.max_length must be 1-{limit}.")
            item["max_length"] = max_length
        if isinstance(raw.get("code"), dict):
            code = raw["code"]
            item["code"] = {k: str(code[k])[:200] for k in ("system", "code", "display")
                            if code.get(k) is not None}
        if raw.get("show_when") is not None:
            item["show_when"] = _check_condition(raw["show_when"], seen, where)
        seen[item_id] = item
        clean.append(item)
    return clean


def _check_options(options: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(options, list) or not options or len(options) > MAX_OPTIONS:
        raise InvalidInput(f"{where}.options must list 1-{MAX_OPTIONS} choices.")
    clean, values = [], set()
    for option in options:
        if not isinstance(option, dict) or not isinstance(option.get("value"), str) \
                or not option["value"] or len(option["value"]) > 200:
            raise InvalidInput(f"{where}.options need a string value (1-200 characters).")
        if option["value"] in values:
            raise InvalidInput(f"{where}.options repeat {option['value']!r}.")
        values.add(option["value"])
        entry: dict[str, Any] = {"value": option["value"],
                                 "label": str(option.get("label") or option["value"])[:500]}
        if option.get("score") is not None:
            if not _is_number(option["score"], MAX_SCORE):
                raise InvalidInput(f"{where}.options score must be a number from "
                                   f"{-MAX_SCORE} to {MAX_SCORE}.")
            entry["score"] = option["score"]
        if option.get("system"):
            entry["system"] = str(option["system"])[:200]
        clean.append(entry)
    return clean


def _check_condition(condition: Any, earlier: dict[str, dict[str, Any]], where: str
                     ) -> dict[str, Any]:
    if not isinstance(condition, dict) or condition.get("question") not in earlier:
        raise InvalidInput(f"{where}.show_when must name an earlier question.")
    if "equals" not in condition:
        raise InvalidInput(f"{where}.show_when needs `equals`.")
    return {"question": condition["question"], "equals": condition["equals"]}


def _is_number(value: Any, limit: float = MAX_NUMBER) -> bool:
    """A JSON number within ±limit (JSON integers may be of any size: no float() before)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return -limit <= value <= limit


def visible(item: dict[str, Any], answers: dict[str, Any]) -> bool:
    """Conditional display: shown when the named answer equals the value (or contains it)."""
    condition = item.get("show_when")
    if condition is None:
        return True
    given = answers.get(condition["question"])
    if isinstance(given, list):
        return condition["equals"] in given
    return bool(given == condition["equals"])


def check_answers(
    items: list[dict[str, Any]], answers: Any, *, complete: bool
) -> tuple[dict[str, Any], list[FieldError]]:
    """Typed answers for the questions shown; with `complete`, required ones must be there.

    Returns the answers to keep (hidden questions' answers dropped) and every field error.
    """
    if not isinstance(answers, dict):
        return {}, [FieldError("", "invalid", "Answers must be an object of question ids.")]
    by_id = {i["id"]: i for i in items}
    errors: list[FieldError] = []
    for key in answers:
        if key not in by_id or by_id[key]["type"] == "heading":
            errors.append(FieldError(str(key)[:64], "unknown_question",
                                     "This form has no such question."))
    kept: dict[str, Any] = {}
    for item in items:
        if item["type"] == "heading" or not visible(item, kept):
            continue
        value = answers.get(item["id"])
        if value is None or value == "" or value == []:
            if complete and item["required"]:
                errors.append(FieldError(item["id"], "required", "This question needs an "
                                                                 "answer."))
            continue
        problem = _check_value(item, value)
        if problem:
            errors.append(FieldError(item["id"], *problem))
        elif item["type"] == "consent":
            kept[item["id"]] = {"name": value["name"].strip(), "agreed": True}  # no extras
        else:
            kept[item["id"]] = value
    return kept, errors


def _check_value(item: dict[str, Any], value: Any) -> tuple[str, str] | None:
    kind = item["type"]
    if kind in ("short_text", "long_text"):
        if not isinstance(value, str):
            return "wrong_type", "Expected text."
        if len(value) > item["max_length"]:
            return "too_long", f"At most {item['max_length']} characters."
    elif kind in ("number", "scale"):
        if not _is_number(value, math.inf):
            return "wrong_type", "Expected a number."
        if not _is_number(value):
            return "out_of_range", f"Between {-MAX_NUMBER} and {MAX_NUMBER}."
        if kind == "scale" and not float(value).is_integer():
            return "wrong_type", "Expected a whole number."
        if ("min" in item and value < item["min"]) or ("max" in item and value > item["max"]):
            return "out_of_range", f"Between {item.get('min')} and {item.get('max')}."
    elif kind == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            return "wrong_type", "Expected a date (YYYY-MM-DD)."
        try:
            date.fromisoformat(value)
        except ValueError:
            return "wrong_type", "Expected a date (YYYY-MM-DD)."
    elif kind == "yes_no":
        if not isinstance(value, bool):
            return "wrong_type", "Expected true or false."
    elif kind == "single_choice":
        if not isinstance(value, str):
            return "wrong_type", "Expected one of the choices."
        if value not in {o["value"] for o in item["options"]}:
            return "not_a_choice", "Not one of the choices offered."
    elif kind == "multiple_choice":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "wrong_type", "Expected a list of choices."
        offered = {o["value"] for o in item["options"]}
        if any(v not in offered for v in value) or len(set(value)) != len(value):
            return "not_a_choice", "Only choices offered, each once."
    elif kind == "consent":
        if not isinstance(value, dict) or not isinstance(value.get("name"), str) \
                or not value["name"].strip() or len(value["name"]) > 200:
            return "wrong_type", "Consent needs the typed full name."
        if value.get("agreed") is not True:
            return "required", "Consent must be given."
    return None


def score(items: list[dict[str, Any]], answers: dict[str, Any]) -> float | None:
    """The sum of the scores of chosen options and scale values; None if nothing scores."""
    total: float = 0
    scored = False
    for item in items:
        value = answers.get(item["id"])
        if value is None:
            continue
        if item["type"] in CHOICE_TYPES:
            chosen = value if isinstance(value, list) else [value]
            for option in item["options"]:
                if "score" in option:
                    scored = True
                    if option["value"] in chosen:
                        total += option["score"]
        elif item["type"] == "scale":
            scored = True
            total += value
    if not scored:
        return None
    return int(total) if float(total).is_integer() else total
