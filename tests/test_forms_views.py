"""The typed views of forms write the stored JSON back unchanged (server/forms/views.py).

The views are built field by field so that the OpenAPI schema names every field; what goes on
the wire must stay what was stored: the same keys (absent stays absent, null stays null) and
the same numbers (a whole `3` is not written `3.0`). Fast: no server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from server.forms import fhir, views

FIXTURES = Path(__file__).parent / "fixtures"


def _wire(value: Any) -> str:
    """JSON as sent, keys sorted: `3` and `3.0` stay different."""
    return json.dumps(json.loads(msgspec.json.encode(value)), sort_keys=True)


@pytest.mark.parametrize("name", ["sdc_phq9.json", "sdc_hunger_vital_sign.json",
                                  "sdc_weight_height_bmi.json"])
def test_a_definition_goes_out_as_stored(name: str) -> None:
    imported = fhir.import_questionnaire(json.loads((FIXTURES / name).read_text()))
    assert _wire(views.form_items(imported["items"])) == _wire(imported["items"])
    assert _wire(views.variables(imported["variables"])) == _wire(imported["variables"])


def test_every_kind_of_answer_goes_out_as_stored() -> None:
    stored = {
        "text": "hi", "whole": 3, "fraction": 2.5, "yes": False, "date": "2026-11-30",
        "many": ["a", "b"], "open": {"other": "typed"}, "opens": ["a", {"other": "typed"}],
        "consent": {"name": "Robin Hart", "agreed": True, "at": "2026-11-30T08:00:00+00:00"},
        "draft_consent": {"name": "Robin Hart", "agreed": True},
        "file": {"id": "9b0c6c1e-4c1a-4a57-9d8e-2b1f0f3c2a11", "name": "meal.jpg",
                 "content_type": "image/jpeg", "size": 2048, "width": 640, "height": 480,
                 "thumbnail": True},
        "pdf": {"id": "0d0c6c1e-4c1a-4a57-9d8e-2b1f0f3c2a11", "name": "a.pdf",
                "content_type": "application/pdf", "size": 10},
    }
    assert _wire(views.answers(stored)) == _wire(stored)
    assert views.answers(None) is None


def test_fhir_numbers_keep_their_kind() -> None:
    items = [{"id": "q", "type": "single_choice", "text": "Q", "required": True,
              "options": [{"value": "a", "label": "A", "score": 0},
                          {"value": "b", "label": "B", "score": 1.5}]},
             {"id": "n", "type": "number", "text": "N", "required": False, "min": 0}]
    exported = msgspec.json.encode(fhir.questionnaire(
        {"id": "f", "title": "T"}, {"version": 1, "definition": items}, ""))
    assert b'"valueDecimal":0}' in exported and b'"valueDecimal":1.5}' in exported
    response = fhir.export_response(
        {"id": "f", "score_code": {"code": "total"}}, {"version": 1, "definition": items},
        {"id": "r", "answers": {"q": "a", "n": 80}, "status": "completed", "client": "c",
         "completed_at": None, "score": 0}, "")
    assert response["item"][-1] == {"linkId": "total-score", "answer": [{"valueInteger": 0}]}
    assert msgspec.json.encode(response["item"][1]["answer"]) == b'[{"valueDecimal":80}]'
