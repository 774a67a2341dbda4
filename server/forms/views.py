"""What the forms routes answer, as Structs: the OpenAPI schema names every field from these.

Definitions, drafts and answers are stored as JSON; the views are built from it field by field,
never with `msgspec.convert`: a number field is annotated `float` (one JSON `number` in the
schema, where `int | float` would give a `oneOf` an integer matches twice) and converting would
turn a stored `3` into `3.0`. Built, an int stays an int on the wire. Optional keys are `UNSET`
(absent), as in the stored JSON; `None` stays `null`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

ItemType = Literal[
    "short_text", "long_text", "number", "date", "single_choice", "multiple_choice", "yes_no",
    "scale", "consent", "heading", "group", "datetime", "time", "open_choice", "attachment",
]
Operator = Literal["exists", "=", "!=", "<", "<=", ">", ">="]
RequestStatus = Literal["open", "completed", "cancelled"]
# One value of a condition or a calculated item: text (also dates, times, codes), a number or
# true/false. A `show_when.equals` may also be null.
Scalar = str | float | bool


class ItemCoding(msgspec.Struct):
    """An item's `code` or a number's `unit` (only the keys given)."""

    system: str | UnsetType = UNSET
    code: str | UnsetType = UNSET
    display: str | UnsetType = UNSET


class ItemOption(msgspec.Struct):
    value: str
    label: str
    score: float | UnsetType = UNSET
    system: str | UnsetType = UNSET


class ShowWhen(msgspec.Struct):
    question: str
    equals: Scalar | None


class EnableWhen(msgspec.Struct):
    question: str
    operator: Operator
    answer: Scalar


class Calculation(msgspec.Struct):
    expression: str  # FHIRPath


class FormVariable(msgspec.Struct):
    name: str
    expression: str  # FHIRPath


class FormItem(msgspec.Struct, kw_only=True):
    """docs/api.md §11 **item**: a question, heading or group (which holds `items`), as
    stored; the keys that do not belong to its type are absent."""

    id: str
    type: ItemType
    text: str
    required: bool
    options: list[ItemOption] | UnsetType = UNSET
    repeats: bool | UnsetType = UNSET
    min: float | UnsetType = UNSET
    max: float | UnsetType = UNSET
    integer: bool | UnsetType = UNSET
    unit: ItemCoding | UnsetType = UNSET
    max_length: int | UnsetType = UNSET
    code: ItemCoding | UnsetType = UNSET
    show_when: ShowWhen | UnsetType = UNSET
    enable_when: list[EnableWhen] | UnsetType = UNSET
    enable_behavior: Literal["all", "any"] | UnsetType = UNSET
    hidden: bool | UnsetType = UNSET
    item_control: str | UnsetType = UNSET
    calculated: Calculation | UnsetType = UNSET
    variables: list[FormVariable] | UnsetType = UNSET
    items: list[FormItem] | UnsetType = UNSET


class FormView(msgspec.Struct, kw_only=True):
    """docs/api.md §11 **form**; `items` and `variables` are absent from `GET /forms`."""

    id: str
    title: str
    description: str
    code: dict[str, str] | None  # stored as given: an object of strings
    score_code: dict[str, str] | None
    version: int
    archived: bool
    created_at: datetime
    items: list[FormItem] | UnsetType = UNSET
    variables: list[FormVariable] | UnsetType = UNSET


class OtherAnswer(msgspec.Struct):
    """An `open_choice` answer typed by the client instead of an option."""

    other: str


class ObjectAnswer(msgspec.Struct, kw_only=True):
    """An answer that is an object, by its item's type: an `open_choice`'s other answer
    `{other}`; a `consent` `{name, agreed, at}` (`at`: when it was submitted); an `attachment`,
    the file `{id, name, content_type, size}` (images add `width`, `height`, `thumbnail`).

    One Struct for the three: a msgspec union holds at most one object type."""

    other: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    agreed: bool | UnsetType = UNSET
    at: str | UnsetType = UNSET
    id: str | UnsetType = UNSET
    content_type: str | UnsetType = UNSET
    size: int | UnsetType = UNSET
    width: int | UnsetType | None = UNSET
    height: int | UnsetType | None = UNSET
    thumbnail: bool | UnsetType = UNSET


# An answer, by its item's type: text, dates, times and a choice's code are strings; numbers
# and scales numbers; yes/no a boolean; a multiple (or repeating open) choice a list; a
# consent, an attachment and an open choice's other answer objects.
Answer = str | float | bool | list[str | OtherAnswer] | ObjectAnswer
Answers = dict[str, Answer]  # item id -> answer
CalculatedValues = dict[str, Scalar]  # item id -> the server's value of a calculated item


class FormRequestView(msgspec.Struct, kw_only=True):
    """docs/api.md §11 **form request**: the first eleven fields always; the others by route
    and reader (`draft` the client's, `score` the care team's)."""

    id: str
    form_id: str
    client_id: str
    status: RequestStatus
    due_at: datetime | None
    overdue: bool
    from_intake_flow: bool
    reminders_sent: int
    created_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    form_title: str | UnsetType = UNSET
    client_name: str | UnsetType = UNSET
    form_description: str | UnsetType = UNSET
    version: int | UnsetType = UNSET
    items: list[FormItem] | UnsetType = UNSET
    draft: Answers | UnsetType | None = UNSET
    answers: Answers | UnsetType | None = UNSET
    score: float | UnsetType | None = UNSET


class DraftSaved(msgspec.Struct):
    id: str
    draft: Answers
    calculated: CalculatedValues


class Calculated(msgspec.Struct):
    """The live values of a request's calculated items (by linkId)."""

    id: str
    calculated: CalculatedValues


class StatusChanged(msgspec.Struct):
    """A submitted or cancelled request."""

    id: str
    status: RequestStatus


class Reminded(msgspec.Struct):
    id: str
    reminded: bool


class AuditEntryView(msgspec.Struct):
    """Who read or exported which client's response (or document), and when: never an answer."""

    id: str
    action: str
    actor_id: str | None
    actor_name: str | None
    form_request_id: str | None
    document_id: str | None
    client_id: str | None
    created_at: datetime


class IntakeFlowView(msgspec.Struct):
    group_id: str | None  # null: the practice default
    form_ids: list[str]


# --- built from the stored JSON ----------------------------------------------------------------


def _given(raw: dict[str, Any], key: str) -> Any:
    """A stored key's value, UNSET when the key is absent."""
    return raw.get(key, UNSET)


def _coding(raw: dict[str, Any]) -> ItemCoding:
    return ItemCoding(system=_given(raw, "system"), code=_given(raw, "code"),
                  display=_given(raw, "display"))


def _option(raw: dict[str, Any]) -> ItemOption:
    return ItemOption(value=raw["value"], label=raw["label"], score=_given(raw, "score"),
                  system=_given(raw, "system"))


def variables(raw: list[dict[str, Any]]) -> list[FormVariable]:
    return [FormVariable(name=v["name"], expression=v["expression"]) for v in raw]


def _many(raw: dict[str, Any], key: str, build: Any) -> Any:
    return [build(r) for r in raw[key]] if key in raw else UNSET


def _one(raw: dict[str, Any], key: str, build: Any) -> Any:
    return build(raw[key]) if key in raw else UNSET


def form_item(raw: dict[str, Any]) -> FormItem:
    """A stored item (server/forms/schema.py `check_definition`) as its view."""
    return FormItem(
        id=raw["id"], type=raw["type"], text=raw["text"], required=raw["required"],
        options=_many(raw, "options", _option), repeats=_given(raw, "repeats"),
        min=_given(raw, "min"), max=_given(raw, "max"), integer=_given(raw, "integer"),
        unit=_one(raw, "unit", _coding), max_length=_given(raw, "max_length"),
        code=_one(raw, "code", _coding),
        show_when=_one(raw, "show_when", lambda c: ShowWhen(c["question"], c["equals"])),
        enable_when=_many(raw, "enable_when",
                          lambda c: EnableWhen(c["question"], c["operator"], c["answer"])),
        enable_behavior=_given(raw, "enable_behavior"), hidden=_given(raw, "hidden"),
        item_control=_given(raw, "item_control"),
        calculated=_one(raw, "calculated", lambda c: Calculation(c["expression"])),
        variables=_one(raw, "variables", variables), items=_many(raw, "items", form_item),
    )


def form_items(raw: list[dict[str, Any]]) -> list[FormItem]:
    return [form_item(item) for item in raw]


def answer(value: Any) -> Answer:
    """A stored answer as its view (see `Answer`)."""
    if isinstance(value, list):
        return [v if isinstance(v, str) else OtherAnswer(v["other"]) for v in value]
    if isinstance(value, dict):
        return ObjectAnswer(**{k: value[k] for k in ObjectAnswer.__struct_fields__
                               if k in value})
    return value


def answers(raw: dict[str, Any] | None) -> Answers | None:
    return None if raw is None else {key: answer(value) for key, value in raw.items()}
