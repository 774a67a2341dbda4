"""An SDC form in the web client: the owner imports a weight-and-height Questionnaire (a group,
units, a BMI calculated by the server, a question shown when the BMI is over 25); the client
fills it in and watches the BMI appear as they type; the team reads the answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.ui import PHONE, fits, nav, open_thread, practice_with_client, section

BODY_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "sdc_weight_height_bmi.json"
TITLE = "Weight and height"
ADVICE = "Would you like to talk about your weight with your care team?"


def question(page: Any, text: str) -> Any:
    return page.locator(".q").filter(has=page.get_by_text(text, exact=False)).first


def test_a_client_sees_the_bmi_worked_out_as_they_type(pages, mailbox, shot):
    owner, client = practice_with_client(pages, mailbox, client="Casey Client")
    nav(owner, "Forms")
    owner.get_by_label("Import a FHIR Questionnaire").set_input_files(str(BODY_FILE))
    expect(owner.get_by_role("status").filter(has_text="Imported")).to_contain_text(
        f"Imported “{TITLE}” with 8 questions")
    # The builder keeps what it cannot edit, and says so; the outline shows the tree.
    owner.get_by_role("list", name="Forms").get_by_role("link", name=re.compile(TITLE)).click()
    note = owner.get_by_role("note")
    expect(note).to_contain_text("which this builder cannot edit")
    expect(note.locator("[data-item-id='39156-5']")).to_contain_text("calculated")
    expect(note.locator("[data-item-id='29463-7']")).to_contain_text("(kg)")
    shot(owner, "form-sdc-builder-desktop")

    nav(owner, "Clients")
    owner.get_by_role("link", name=re.compile("Casey Client")).click()
    card = section(owner, "Forms")
    card.get_by_role("checkbox", name=TITLE).check()
    card.get_by_role("button", name="Request forms").click()
    expect(card.get_by_role("status")).to_contain_text(f"Requested “{TITLE}” from Casey Client")

    open_thread(client, "Your care team")
    client.get_by_role("article", name=f"Form: {TITLE}").get_by_role(
        "link", name="Open form").click()
    expect(client.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    group = client.get_by_role("region", name="Your measurements")
    expect(group).to_be_visible()
    weight = question(client, "Body weight")
    expect(weight.locator(".unit")).to_have_text("kg")
    expect(question(client, "Body height").locator(".unit")).to_have_text("cm")
    bmi = client.locator(".computed[data-question='39156-5']")
    expect(bmi).to_contain_text("Worked out from your answers")
    # The hidden height in metres is never shown; the advice question waits for a BMI over 25.
    expect(client.locator("[data-question='height-m']")).to_have_count(0)
    expect(client.get_by_text(ADVICE)).to_have_count(0)

    weight.get_by_role("spinbutton").fill("72")
    question(client, "Body height").get_by_role("spinbutton").fill("180")
    expect(bmi.locator("output")).to_have_text("22.2 kg/m2")
    expect(client.get_by_text(ADVICE)).to_have_count(0)
    weight.get_by_role("spinbutton").fill("95")
    expect(bmi.locator("output")).to_have_text("29.3 kg/m2")  # live, from the server
    advice = question(client, ADVICE)
    expect(advice).to_be_visible()
    shot(client, "form-sdc-fill-desktop")
    advice.get_by_role("radio", name="Yes").check()
    where = question(client, "Where were you measured?")
    where.get_by_role("radio", name="Other").check()
    where.get_by_label("Other: Where were you measured?").fill("At the pharmacy")
    expect(question(client, "Was it the same scale as usual?")).to_be_visible()
    question(client, "At what time of day do you usually weigh yourself?").locator(
        "input").fill("07:30")
    client.set_viewport_size(PHONE)
    fits(client)
    shot(client, "form-sdc-fill-phone")
    client.get_by_role("button", name="Submit").click()
    expect(client.get_by_role("heading", name="Thank you!")).to_be_visible()

    # The team reads the answers: the BMI the server worked out, with its unit.
    nav(owner, "Chats")
    open_thread(owner, "Casey Client")
    owner.locator("li[data-kind='form.completed']").get_by_role(
        "link", name="view answers").click()
    expect(owner.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    expect(owner.locator(".answer[data-question='39156-5']")).to_contain_text(
        "29.3 kg/m2 (calculated)")
    expect(owner.locator(".answer[data-question='where']")).to_contain_text(
        "Other: At the pharmacy")
    expect(owner.locator(".answer[data-question='weight-advice']")).to_contain_text("Yes")
    expect(owner.locator(".answer[data-question='weigh-time']")).to_contain_text("07:30")
    shot(owner, "form-sdc-response-desktop")
