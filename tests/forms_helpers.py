"""Building blocks for the forms stories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import Person

PHQ9 = json.loads((Path(__file__).parent / "fixtures" / "phq9_questionnaire.json").read_text())
PHQ9_QUESTIONS = [item["linkId"] for item in PHQ9["item"][:9]]
NEARLY_EVERY_DAY = "LA6571-9"
SEVERAL_DAYS = "LA6569-3"

INTAKE_ITEMS: list[dict[str, Any]] = [
    {"id": "about", "type": "heading", "text": "About you"},
    {"id": "goal", "type": "short_text", "text": "Your main goal", "required": True,
     "max_length": 100},
    {"id": "history", "type": "long_text", "text": "Anything we should know?"},
    {"id": "weight", "type": "number", "text": "Weight (kg)", "min": 20, "max": 400},
    {"id": "last_visit", "type": "date", "text": "Last doctor visit"},
    {"id": "diet", "type": "single_choice", "text": "Diet", "required": True,
     "options": [{"value": "omni", "label": "Omnivore"}, {"value": "veg", "label": "Vegetarian"}]},
    {"id": "allergies", "type": "multiple_choice", "text": "Allergies",
     "options": [{"value": "nuts", "label": "Nuts"}, {"value": "dairy", "label": "Dairy"}]},
    {"id": "meds", "type": "yes_no", "text": "Do you take medication?", "required": True},
    {"id": "which_meds", "type": "short_text", "text": "Which ones?", "required": True,
     "show_when": {"question": "meds", "equals": True}},
    {"id": "stress", "type": "scale", "text": "Stress today", "min": 0, "max": 3},
    {"id": "consent", "type": "consent", "text": "I agree to the terms", "required": True},
]

GOOD_INTAKE = {"goal": "Sleep better", "diet": "veg", "meds": False, "stress": 2,
               "consent": {"name": "Robin Hart", "agreed": True}}


async def import_phq9(http: httpx.AsyncClient, admin: Person) -> dict[str, Any]:
    resp = await http.post("/forms/import-fhir", json=PHQ9, headers=admin.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["form"])


async def new_form(http: httpx.AsyncClient, admin: Person, title: str = "Intake",
                   items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    resp = await http.post("/forms", json={"title": title, "items": items or INTAKE_ITEMS},
                           headers=admin.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["form"])


async def request_form(http: httpx.AsyncClient, provider: Person, form_id: str,
                       *client_ids: str, **extra: Any) -> list[dict[str, Any]]:
    resp = await http.post("/form-requests", json={"form_ids": [form_id],
                                                   "client_ids": list(client_ids), **extra},
                           headers=provider.headers)
    assert resp.status_code == 201, resp.text
    return list(resp.json()["requests"])


def phq9_answers(value: str = NEARLY_EVERY_DAY) -> dict[str, Any]:
    return {q: value for q in PHQ9_QUESTIONS}
