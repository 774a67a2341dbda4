"""A form's questions and the answers to them: checking both, conditions, and scoring.

A form definition is a list of items, each a dict; a `group` holds its own `items`, so a
definition is a tree (walked in document order: a group, then its items):

    {"id": "q1", "type": "single_choice", "text": "...", "required": true,
     "options": [{"value": "LA6568-5", "label": "Not at all", "score": 0,
                  "system": "http://loinc.org"}],
     "min": 0, "max": 3, "max_length": 500,
     "code": {"system": "http://loinc.org", "code": "44250-9", "display": "..."},
     "show_when": {"question": "q0", "equals": "yes"}}

    {"id": "body", "type": "group", "text": "Body", "items": [
       {"id": "weight", "type": "number", "text": "Weight", "unit": {"code": "kg"}},
       {"id": "bmi", "type": "number", "text": "BMI", "calculated": {"expression": "..."},
        "enable_when": [{"question": "weight", "operator": ">", "answer": 0}],
        "enable_behavior": "all"}]}

Answers are one flat dict from item id to a value whose type follows the item's type (ids are
unique in the whole tree). Calculated and hidden items are never answered by the
client: their values come from the server (server/forms/calc.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server.errors import InvalidInput

TYPES = (
    "short_text", "long_text", "number", "date", "single_choice", "multiple_choice", "yes_no",
    "scale", "consent", "heading", "group", "datetime", "time", "open_choice", "attachment",
)
CHOICE_TYPES = ("single_choice", "multiple_choice")
OPTION_TYPES = ("single_choice", "multiple_choice", "open_choice")
NOT_ANSWERED = ("heading", "group")  # never hold an answer
# What a calculated expression may fill in.
CALCULABLE = ("number", "short_text", "long_text", "single_choice", "yes_no", "date",
              "datetime", "time")
OPERATORS = ("exists", "=", "!=", "<", "<=", ">", ">=")
ORDERED_TYPES = ("number", "scale", "date", "datetime", "time")  # <, <=, >, >= make sense
MAX_ITEMS = 200  # in the whole tree
MAX_DEPTH = 5  # groups inside groups
MAX_OPTIONS = 100
MAX_CONDITIONS = 10
MAX_VARIABLES = 20
MAX_EXPRESSION = 2000
SHORT_TEXT = 500
LONG_TEXT = 10_000
# What numbers a form may hold. A score is summed over every chosen option and scale of a form
# (at most MAX_ITEMS * MAX_OPTIONS terms) and stored as a REAL: bounded, the sum stays finite.
MAX_SCORE = 1_000_000
MAX_NUMBER = 10**15  # number questions' bounds and answers: exact in a double
_ID = re.compile(r"^[A-Za-z0-9_.\-/]{1,64}$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_CONTROL = re.compile(r"^[a-z][a-z0-9\-]{0,63}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_FILE_ID = re.compile(r"^[0-9a-fA-F\-]{32,36}$")


@dataclass
class FieldError:
    question: str
    code: str
    detail: str

    def view(self) -> dict[str, str]:
        return {"question": self.question, "code": self.code, "detail": self.detail}


# --- the tree ----------------------------------------------------------------------------------


def walk(items: list[dict[str, Any]], parents: tuple[str, ...] = ()
         ) -> Iterator[tuple[dict[str, Any], tuple[str, ...]]]:
    """Every item in document order, with the ids of the groups it sits in."""
    for item in items:
        yield item, parents
        if item["type"] == "group":
            yield from walk(item.get("items") or [], (*parents, item["id"]))


def flat(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item, _ in walk(items)]


def is_computed(item: dict[str, Any]) -> bool:
    """Filled in by the server, never by the client."""
    return bool(item.get("calculated") or item.get("hidden"))


def answerable(item: dict[str, Any]) -> bool:
    """What the client answers: shown questions, not headings, groups or computed items."""
    return item["type"] not in NOT_ANSWERED and not is_computed(item)


# --- definitions -------------------------------------------------------------------------------


def check_definition(items: Any) -> list[dict[str, Any]]:
    """A definition as stored: known types, unique ids, sane options and conditions."""
    if not isinstance(items, list) or not items:
        raise InvalidInput("A form needs at least one question.", extra={"field": "items"})
    seen: dict[str, dict[str, Any]] = {}
    return _check_items(items, seen, "items", 1)


def _check_items(items: list[Any], seen: dict[str, dict[str, Any]], path: str, depth: int
                 ) -> list[dict[str, Any]]:
    clean: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        where = f"{path}[{index}]"
        if len(seen) >= MAX_ITEMS:
            raise InvalidInput(f"A form has at most {MAX_ITEMS} items (groups' items included).")
        clean.append(_check_item(raw, seen, where, depth))
    return clean


def _check_item(raw: Any, seen: dict[str, dict[str, Any]], where: str, depth: int
                ) -> dict[str, Any]:
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
    blank_ok = kind == "group"  # a group may have no title of its own
    if not isinstance(text, str) or len(text) > 2000 or (not text.strip() and not blank_ok):
        raise InvalidInput(f"{where}.text must be 1-2000 characters.")
    item: dict[str, Any] = {"id": item_id, "type": kind, "text": text.strip(),
                            "required": bool(raw.get("required", False))}
    if kind in NOT_ANSWERED:
        item["required"] = False
    if kind in OPTION_TYPES:
        item["options"] = _check_options(raw.get("options"), where)
    if kind == "open_choice" and raw.get("repeats"):
        item["repeats"] = True
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
    if kind == "number":
        if raw.get("integer"):
            item["integer"] = True
        if raw.get("unit") is not None:
            item["unit"] = _check_unit(raw["unit"], where)
    if kind in ("short_text", "long_text"):
        limit = SHORT_TEXT if kind == "short_text" else LONG_TEXT
        max_length = raw.get("max_length", limit)
        if not isinstance(max_length, int) or isinstance(max_length, bool) \
                or not 1 <= max_length <= limit:
            raise InvalidInput(f"{where}.max_length must be 1-{limit}.")
        item["max_length"] = max_length
    if isinstance(raw.get("code"), dict):
        item["code"] = _coding(raw["code"])
    if raw.get("show_when") is not None and raw.get("enable_when") is not None:
        raise InvalidInput(f"{where}: use show_when or enable_when, not both.")
    if raw.get("show_when") is not None:
        item["show_when"] = _check_condition(raw["show_when"], seen, where)
    if raw.get("enable_when") is not None:
        item["enable_when"] = _check_conditions(raw["enable_when"], seen, where)
        behavior = raw.get("enable_behavior", "all")
        if behavior not in ("all", "any"):
            raise InvalidInput(f"{where}.enable_behavior must be all or any.")
        item["enable_behavior"] = behavior
    elif raw.get("enable_behavior") is not None:
        raise InvalidInput(f"{where}.enable_behavior needs enable_when.")
    if raw.get("hidden") is not None and not isinstance(raw["hidden"], bool):
        raise InvalidInput(f"{where}.hidden must be true or false.")
    if raw.get("hidden"):
        item["hidden"] = True
    if raw.get("item_control") is not None:
        control = raw["item_control"]
        if not isinstance(control, str) or not _CONTROL.match(control):
            raise InvalidInput(f"{where}.item_control must be a code such as drop-down.")
        item["item_control"] = control
    if raw.get("calculated") is not None:
        if kind not in CALCULABLE:
            raise InvalidInput(f"{where}: a {kind} item cannot be calculated (only "
                               f"{', '.join(CALCULABLE)}).")
        calculated = raw["calculated"]
        if not isinstance(calculated, dict):
            raise InvalidInput(f"{where}.calculated must be {{\"expression\": ...}}.")
        item["calculated"] = {"expression": check_expression(calculated.get("expression"),
                                                             f"{where}.calculated")}
        item["required"] = False
    if is_computed(item):
        item["required"] = False
    if raw.get("variables") is not None:
        item["variables"] = check_variables(raw["variables"], f"{where}.variables")
    seen[item_id] = item
    if kind == "group":
        children = raw.get("items")
        if not isinstance(children, list) or not children:
            raise InvalidInput(f"{where}: a group needs items.")
        if depth >= MAX_DEPTH:
            raise InvalidInput(f"{where}: groups nest at most {MAX_DEPTH} deep.")
        item["items"] = _check_items(children, seen, f"{where}.items", depth + 1)
    return item


def _coding(raw: dict[str, Any]) -> dict[str, str]:
    return {k: str(raw[k])[:200] for k in ("system", "code", "display") if raw.get(k) is not None}


def _check_unit(unit: Any, where: str) -> dict[str, str]:
    if isinstance(unit, str):
        unit = {"code": unit}
    if not isinstance(unit, dict) or not isinstance(unit.get("code"), str) \
            or not unit["code"].strip() or len(unit["code"]) > 50:
        raise InvalidInput(f"{where}.unit must be {{\"code\": \"kg\", \"system\"?, "
                           "\"display\"?}} (a UCUM code, 1-50 characters).")
    clean = _coding(unit)
    clean["code"] = unit["code"].strip()
    return clean


def check_expression(expression: Any, where: str) -> str:
    """A FHIRPath expression that parses (calc.py evaluates it)."""
    from server.forms import calc

    if not isinstance(expression, str) or not expression.strip() \
            or len(expression) > MAX_EXPRESSION:
        raise InvalidInput(f"{where}.expression must be FHIRPath of 1-{MAX_EXPRESSION} "
                           "characters.")
    problem = calc.parse_problem(expression)
    if problem:
        raise InvalidInput(f"{where}.expression is not FHIRPath we can evaluate: {problem}")
    return expression.strip()


def check_variables(variables: Any, where: str) -> list[dict[str, str]]:
    if not isinstance(variables, list) or len(variables) > MAX_VARIABLES:
        raise InvalidInput(f"{where} must list at most {MAX_VARIABLES} variables.")
    clean, names = [], set()
    for index, raw in enumerate(variables):
        at = f"{where}[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) \
                or not _NAME.match(raw["name"]):
            raise InvalidInput(f"{at}.name must be a name (a letter, then letters, digits, _).")
        if raw["name"] in names or raw["name"] in ("resource", "context", "ucum"):
            raise InvalidInput(f"{at}.name {raw['name']!r} is taken.")
        names.add(raw["name"])
        clean.append({"name": raw["name"],
                      "expression": check_expression(raw.get("expression"), at)})
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
    if isinstance(condition["equals"], (list, dict)):  # what the form's schema promises
        raise InvalidInput(f"{where}.show_when `equals` is a string, number, boolean or null.")
    return {"question": condition["question"], "equals": condition["equals"]}


def _check_conditions(conditions: Any, earlier: dict[str, dict[str, Any]], where: str
                      ) -> list[dict[str, Any]]:
    if not isinstance(conditions, list) or not 1 <= len(conditions) <= MAX_CONDITIONS:
        raise InvalidInput(f"{where}.enable_when must list 1-{MAX_CONDITIONS} conditions.")
    clean = []
    for index, condition in enumerate(conditions):
        at = f"{where}.enable_when[{index}]"
        if not isinstance(condition, dict) or condition.get("question") not in earlier:
            raise InvalidInput(f"{at} must name an earlier question.")
        on = earlier[condition["question"]]
        if on["type"] in NOT_ANSWERED:
            raise InvalidInput(f"{at} names a {on['type']}, which has no answer.")
        operator = condition.get("operator")
        if operator not in OPERATORS:
            raise InvalidInput(f"{at}.operator must be one of {' '.join(OPERATORS)}.")
        if "answer" not in condition:
            raise InvalidInput(f"{at} needs `answer`.")
        answer = condition["answer"]
        if operator == "exists":
            if not isinstance(answer, bool):
                raise InvalidInput(f"{at}: `exists` takes answer true or false.")
        elif operator in ("<", "<=", ">", ">="):
            if on["type"] not in ORDERED_TYPES:
                raise InvalidInput(f"{at}: {operator} compares numbers, dates or times, not a "
                                   f"{on['type']}.")
            if not (_is_number(answer) if on["type"] in ("number", "scale")
                    else isinstance(answer, str) and _check_value(on, answer) is None):
                raise InvalidInput(f"{at}: the answer must be a {on['type']}.")
        elif isinstance(answer, list | dict) or answer is None:
            raise InvalidInput(f"{at}: the answer must be a single value.")
        clean.append({"question": condition["question"], "operator": operator,
                      "answer": answer})
    return clean


def _is_number(value: Any, limit: float = MAX_NUMBER) -> bool:
    """A JSON number within ±limit (JSON integers may be of any size: no float() before)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return -limit <= value <= limit


# --- conditions --------------------------------------------------------------------------------


def _values(given: Any) -> list[Any]:
    """An answer as the list of its values (FHIR: an item's answers); codes for choices."""
    if given is None:
        return []
    out = []
    for value in given if isinstance(given, list) else [given]:
        if isinstance(value, dict) and "other" in value:
            out.append(value["other"])
        elif isinstance(value, dict) and "id" in value:
            out.append(value["id"])  # an attachment
        else:
            out.append(value)
    return out


def _comparable(value: Any, kind: str | None) -> Any:
    if kind == "datetime" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if kind == "time" and isinstance(value, str):
        return normal_time(value)
    return value


def condition_holds(condition: dict[str, Any], given: Any, kind: str | None = None) -> bool:
    """One enableWhen (FHIR R4): `exists` asks whether there is an answer; `=` and the
    orderings hold when at least one answer does; `!=` when no answer equals."""
    values = _values(given)
    operator, expected = condition["operator"], condition["answer"]
    if operator == "exists":
        return bool(values) == expected
    if operator == "=":
        return any(v == expected and isinstance(v, bool) == isinstance(expected, bool)
                   for v in values)
    if operator == "!=":
        return not any(v == expected and isinstance(v, bool) == isinstance(expected, bool)
                       for v in values)
    target = _comparable(expected, kind)
    for value in values:
        here = _comparable(value, kind)
        if here is None or target is None or isinstance(here, bool):
            continue
        try:
            if (operator == "<" and here < target) or (operator == "<=" and here <= target) \
                    or (operator == ">" and here > target) or (operator == ">=" and here >= target):
                return True
        except TypeError:
            continue  # a number against a date: never
    return False


def enabled(item: dict[str, Any], values: dict[str, Any],
            types: dict[str, str] | None = None) -> bool:
    """Conditional display, from the answers (and calculated values) so far."""
    condition = item.get("show_when")
    if condition is not None:
        given = values.get(condition["question"])
        if isinstance(given, list):
            return condition["equals"] in given
        return bool(given == condition["equals"])
    conditions = item.get("enable_when")
    if not conditions:
        return True
    kinds = types or {}
    results = (condition_holds(c, values.get(c["question"]), kinds.get(c["question"]))
               for c in conditions)
    return any(results) if item.get("enable_behavior") == "any" else all(results)


def visible(item: dict[str, Any], answers: dict[str, Any]) -> bool:
    """Kept for callers of the one-condition rule."""
    return enabled(item, answers)


# --- answers -----------------------------------------------------------------------------------


def check_answers(
    items: list[dict[str, Any]], answers: Any, *, complete: bool,
    calculated: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Typed answers for the questions shown; with `complete`, required ones must be there.

    `calculated`: the server's values of calculated items (calc.py), kept when their item is
    enabled. Returns the answers to keep (answers to hidden, disabled and computed items
    dropped) and every field error.
    """
    if not isinstance(answers, dict):
        return {}, [FieldError("", "invalid", "Answers must be an object of question ids.")]
    found = list(walk(items))
    by_id = {i["id"]: i for i, _ in found}
    types = {i["id"]: i["type"] for i, _ in found}
    errors: list[FieldError] = []
    for key in answers:
        if key not in by_id or by_id[key]["type"] in NOT_ANSWERED:
            errors.append(FieldError(str(key)[:64], "unknown_question",
                                     "This form has no such question."))
    computed = calculated or {}
    kept: dict[str, Any] = {}
    off: set[str] = set()
    concealed: set[str] = set()  # hidden groups: their items are hidden too
    for item, parents in found:
        if any(p in off for p in parents) or not enabled(item, kept, types):
            off.add(item["id"])
            continue
        if item.get("hidden") or any(p in concealed for p in parents):
            concealed.add(item["id"])
        if item["type"] in NOT_ANSWERED:
            continue
        if is_computed(item) or item["id"] in concealed:
            if computed.get(item["id"]) is not None:
                kept[item["id"]] = computed[item["id"]]
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
        elif item["type"] == "time":
            kept[item["id"]] = normal_time(value)
        elif item["type"] == "attachment":
            kept[item["id"]] = {"id": str(value["id"]).lower()}  # calc/service add the rest
        elif item["type"] == "open_choice":
            kept[item["id"]] = _clean_open(value)
        else:
            kept[item["id"]] = value
    return kept, errors


def normal_time(value: str) -> str | None:
    match = _TIME.match(value)
    if not match:
        return None
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


def _clean_open(value: Any) -> Any:
    if isinstance(value, list):
        return [_clean_open(v) for v in value]
    if isinstance(value, dict):
        return {"other": value["other"].strip()}
    return value


def _open_value_problem(item: dict[str, Any], value: Any) -> tuple[str, str] | None:
    if isinstance(value, str):
        if value not in {o["value"] for o in item["options"]}:
            return "not_a_choice", "Not one of the choices offered (type it as other)."
        return None
    if isinstance(value, dict) and set(value) == {"other"} and isinstance(value["other"], str):
        if not value["other"].strip() or len(value["other"]) > SHORT_TEXT:
            return "wrong_type", f"Other: 1-{SHORT_TEXT} characters."
        return None
    return "wrong_type", "Expected one of the choices, or {\"other\": \"text\"}."


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
        if (kind == "scale" or item.get("integer")) and not float(value).is_integer():
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
    elif kind == "datetime":
        message = "Expected a date and time with its offset (2026-11-30T09:30:00+01:00)."
        if not isinstance(value, str) or not _DATETIME.match(value):
            return "wrong_type", message
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return "wrong_type", message
    elif kind == "time":
        if not isinstance(value, str) or normal_time(value) is None:
            return "wrong_type", "Expected a time of day (HH:MM or HH:MM:SS)."
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
    elif kind == "open_choice":
        if item.get("repeats"):
            if not isinstance(value, list) or len(value) > MAX_OPTIONS + 1:
                return "wrong_type", "Expected a list of choices (and at most one other)."
            for one in value:
                problem = _open_value_problem(item, one)
                if problem:
                    return problem
            codes = [v for v in value if isinstance(v, str)]
            if len(set(codes)) != len(codes) or len(value) - len(codes) > 1:
                return "not_a_choice", "Each choice once, and at most one other."
            return None
        return _open_value_problem(item, value)
    elif kind == "attachment":
        if not isinstance(value, dict) or not isinstance(value.get("id"), str) \
                or not _FILE_ID.match(value["id"]):
            return "wrong_type", "Expected {\"id\": file id} of a file uploaded with POST /files."
    elif kind == "consent":
        if not isinstance(value, dict) or not isinstance(value.get("name"), str) \
                or not value["name"].strip() or len(value["name"]) > 200:
            return "wrong_type", "Consent needs the typed full name."
        if value.get("agreed") is not True:
            return "required", "Consent must be given."
    return None


def value_problem(item: dict[str, Any], value: Any) -> tuple[str, str] | None:
    """For calc.py: whether a calculated value fits its item's type."""
    return _check_value(item, value)


def attachments(items: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, str]:
    """Item id -> file id of every attachment answer kept."""
    return {item["id"]: answers[item["id"]]["id"] for item in flat(items)
            if item["type"] == "attachment" and isinstance(answers.get(item["id"]), dict)}


def score(items: list[dict[str, Any]], answers: dict[str, Any]) -> float | None:
    """The sum of the scores of chosen options and scale values; None if nothing scores.
    Calculated items never count (their values are the server's, not the client's)."""
    total: float = 0
    scored = False
    for item in flat(items):
        value = answers.get(item["id"])
        if value is None or is_computed(item):
            continue
        if item["type"] in OPTION_TYPES:
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
