"""Calculated items (SDC `calculatedExpression`): FHIRPath evaluated by fhirpathpy.

Every expression sees the answers as a FHIR QuestionnaireResponse (`%resource`, also the focus,
nested by groups as fhir.response_items writes them), the form's variables (`%name`, the
form's own first, then the items', in document order) and two functions for scored choices:
`ordinal()` and `weight()` (the `score` of the chosen option, as SDC and FHIRPath's supplement
define them). An expression that fails (a wrong type, an unknown function) gives no value; it
never fails the request. Values are coerced to their item's type and checked like an answer.
"""

from __future__ import annotations

import logging
import math
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

import anyio
import msgspec
from antlr4 import CommonTokenStream, InputStream
from antlr4.error.ErrorListener import ErrorListener
from fhirpathpy import apply_parsed_path
from fhirpathpy.models import models
from fhirpathpy.parser import parse
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from server.forms import fhir
from server.forms.schema import (
    FieldError,
    check_answers,
    flat,
    value_problem,
)

log = logging.getLogger("carethread.forms")
MAX_ROUNDS = 5  # calculated items that feed each other settle in a round or two
_MODEL = models["r4"]


@lru_cache(maxsize=512)
def _parsed(expression: str) -> Any:
    return parse(expression)


class _Refuse(ErrorListener):
    """fhirpathpy's own parse recovers from syntax errors silently; ours stops at the first."""

    def syntaxError(self, recognizer: Any, offending: Any, line: int, column: int, msg: str,
                    e: Any) -> None:
        raise ValueError(f"at character {column + 1}: {msg}")


def _check_syntax(expression: str) -> None:
    lexer = FHIRPathLexer(InputStream(expression))
    lexer.removeErrorListeners()
    lexer.addErrorListener(_Refuse())
    parser = FHIRPathParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(_Refuse())
    parser.entireExpression()  # the whole text, up to its end


def parse_problem(expression: str) -> str | None:
    """Why an expression does not parse, or None."""
    try:
        _check_syntax(expression)
        _parsed(expression)
    except RecursionError:
        return "nested too deeply"
    except Exception as exc:  # the parser raises plain Exceptions
        return str(exc)[:200] or type(exc).__name__
    return None


def _scores(items: list[dict[str, Any]]) -> dict[tuple[str | None, str], Any]:
    found: dict[tuple[str | None, str], Any] = {}
    for item in flat(items):
        for option in item.get("options") or []:
            if "score" in option:
                found[(option.get("system"), option["value"])] = option["score"]
                found.setdefault((None, option["value"]), option["score"])
    return found


def _functions(items: list[dict[str, Any]]) -> dict[str, Any]:
    scores = _scores(items)

    def score_of(inputs: list[Any]) -> list[Any]:
        out = []
        for value in inputs:
            if isinstance(value, dict) and isinstance(value.get("code"), str):
                found = scores.get((value.get("system"), value["code"]),
                                   scores.get((None, value["code"])))
                if found is not None:
                    out.append(Decimal(str(found)))
        return out

    table = {"fn": score_of, "arity": {0: []}}
    return {"ordinal": table, "weight": table}


def _run(expression: str, resource: dict[str, Any], context: dict[str, Any],
         functions: dict[str, Any]) -> list[Any]:
    try:
        result = apply_parsed_path(resource, _parsed(expression), context, _MODEL,
                                   {"userInvocationTable": functions})
    except RecursionError:
        return []
    except Exception as exc:  # fhirpathpy raises plain Exceptions for type errors
        log.info("a calculated expression gave no value: %s", str(exc)[:200])
        return []
    return result if isinstance(result, list) else [result]


def _coerce(item: dict[str, Any], result: list[Any]) -> Any:
    """The first value of a result, as an answer to `item`, or None."""
    if not result:
        return None
    value = result[0]
    if hasattr(value, "value") and hasattr(value, "unit"):  # a FHIRPath Quantity
        value = value.value
    kind = item["type"]
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return None
        number = float(value)
        if not math.isfinite(number):
            return None
        if item.get("integer"):
            number = float(round(number))
        value = int(number) if number.is_integer() else number
    elif kind == "single_choice":
        if isinstance(value, dict):
            value = value.get("code")
        if not isinstance(value, str):
            return None
    elif kind in ("short_text", "long_text"):
        if isinstance(value, dict | list) or value is None:
            return None
        value = (str(value).lower() if isinstance(value, bool) else str(value))
        value = value[:item["max_length"]]
    elif kind == "yes_no":
        if not isinstance(value, bool):
            return None
    else:  # date, datetime, time: FHIRPath's own types print as FHIR writes them
        value = str(value).lstrip("@").removeprefix("T")
    # A calculated value is checked for its type, not against bounds meant for the client.
    unbounded = {k: v for k, v in item.items() if k not in ("min", "max")}
    if value_problem(unbounded, value) is not None:
        return None
    return value


def calculate(items: list[dict[str, Any]], variables: list[dict[str, Any]],
              values: dict[str, Any]) -> dict[str, Any]:
    """Each calculated item's value over `values` (answers and earlier calculated values)."""
    calculated_items = [i for i in flat(items) if i.get("calculated")]
    if not calculated_items:
        return {}
    functions = _functions(items)
    current = dict(values)
    found: dict[str, Any] = {}
    for item in calculated_items:
        current.pop(item["id"], None)  # an item never sees its own previous value
        resource = {"resourceType": "QuestionnaireResponse", "status": "in-progress",
                    "item": msgspec.to_builtins(fhir.response_items(items, current))}
        context: dict[str, Any] = {"resource": resource}
        for variable in [*variables, *_item_variables(items)]:
            context[variable["name"]] = _run(variable["expression"], resource, context,
                                             functions)
        value = _coerce(item, _run(item["calculated"]["expression"], resource, context,
                                   functions))
        if value is not None:
            found[item["id"]] = value
            current[item["id"]] = value
    return found


def _item_variables(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for item in flat(items) for v in item.get("variables") or []]


def complete_answers(
    items: list[dict[str, Any]], variables: list[dict[str, Any]], answers: Any, *,
    complete: bool,
) -> tuple[dict[str, Any], list[FieldError]]:
    """The answers to keep with every calculated value filled in: conditions may depend on
    calculated values and calculated values on the answers shown, so both are worked out
    together until they agree."""
    computed: dict[str, Any] = {}
    kept, errors = check_answers(items, answers, complete=complete)
    for _ in range(MAX_ROUNDS):
        fresh = calculate(items, variables, kept)
        if fresh == computed:
            break
        computed = fresh
        kept, errors = check_answers(items, answers, complete=complete, calculated=computed)
    return kept, errors


# fhirpathpy keeps some state in module globals (the evaluation's "now"): one evaluation at a
# time, in a worker thread, so a slow expression never stalls the event loop.
_LIMITER: anyio.CapacityLimiter | None = None


async def complete_answers_off_loop(
    items: list[dict[str, Any]], variables: list[dict[str, Any]], answers: Any, *,
    complete: bool,
) -> tuple[dict[str, Any], list[FieldError]]:
    """`complete_answers`, in a worker thread when the form calculates anything."""
    global _LIMITER
    if not any(i.get("calculated") for i in flat(items)):
        return complete_answers(items, variables, answers, complete=complete)
    if _LIMITER is None:
        _LIMITER = anyio.CapacityLimiter(1)
    return await anyio.to_thread.run_sync(
        partial(complete_answers, items, variables, answers, complete=complete),
        limiter=_LIMITER)


def calculated_values(items: list[dict[str, Any]], kept: dict[str, Any]) -> dict[str, Any]:
    """The calculated items' values among kept answers (what a live view shows)."""
    return {i["id"]: kept[i["id"]] for i in flat(items)
            if i.get("calculated") and i["id"] in kept}
