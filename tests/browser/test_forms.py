"""Forms in the web client: the builder and FHIR import, requests from a client's profile and a
whole group, the card in the care chat, the client filling it in (conditions, drafts, field
errors), completion and score seen live by the team, tracking, intake flows."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.ui import (
    PASSWORD,
    accept_invitation,
    add_client,
    api,
    fits,
    invitation_link,
    nav,
    open_thread,
    practice_with_client,
    section,
    sign_up,
    unique_email,
)

PHQ9_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "phq9_questionnaire.json"
PHQ9 = "PHQ-9 quick depression assessment panel"
PHQ9_QUESTIONS = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself",
    "Trouble concentrating on things",
    "Moving or speaking so slowly",
    "Thoughts that you would be better off dead",
]
PHONE_375 = {"width": 375, "height": 740}


def question(page: Any, text: str) -> Any:
    """The box of one question on the filling screen."""
    return page.locator(".q").filter(has=page.get_by_text(text, exact=False)).first


def import_phq9(page: Any) -> None:
    nav(page, "Forms")
    page.get_by_label("Import a FHIR Questionnaire").set_input_files(str(PHQ9_FILE))
    expect(page.get_by_role("status").filter(has_text="Imported")).to_contain_text(
        f"Imported “{PHQ9}” with 10 questions")
    expect(page.get_by_role("list", name="Forms")).to_contain_text(PHQ9)
    expect(page.get_by_role("list", name="Forms")).to_contain_text("Version 1")


def request_from_profile(page: Any, client: str, form: str, due: str | None = None) -> None:
    nav(page, "Clients")
    page.get_by_role("link", name=re.compile(client)).click()
    card = section(page, "Forms")
    card.get_by_role("checkbox", name=form).check()
    if due:
        card.get_by_label("Due date (optional)").fill(due)
    card.get_by_role("button", name="Request forms").click()
    expect(card.get_by_role("status")).to_contain_text(f"Requested “{form}” from {client}")


def test_a_client_fills_and_submits_a_form_from_the_chat_card(pages, mailbox, shot):
    owner, client = practice_with_client(pages, mailbox, client="Casey Client")
    import_phq9(owner)
    shot(owner, "forms-list-desktop")
    request_from_profile(owner, "Casey Client", PHQ9, due="2031-12-05")
    card = section(owner, "Forms")
    expect(card.get_by_role("list", name="Forms requested from Casey Client")).to_contain_text(
        "Open")
    shot(owner, "client-forms-desktop")

    # The provider watches the care chat: the request is a line with its due date.
    nav(owner, "Chats")
    open_thread(owner, "Casey Client")
    requested = owner.locator("li[data-kind='form.requested']")
    expect(requested).to_contain_text(f"You requested “{PHQ9}”")
    expect(requested).to_contain_text("Waiting for the client")

    # The client gets a card in their care chat and opens it.
    open_thread(client, "Your care team")
    card = client.get_by_role("article", name=f"Form: {PHQ9}")
    expect(card).to_contain_text("Olivia Owner asked you to fill this in")
    expect(card).to_contain_text("Due Dec 5, 2031")
    shot(client, "form-card-desktop")
    card.get_by_role("link", name="Open form").click()
    expect(client.get_by_role("heading", level=1, name=PHQ9)).to_be_visible()

    # Answers: all but the fifth; a draft is saved as they go and survives a reload.
    for n, text in enumerate(PHQ9_QUESTIONS):
        if n == 4:
            continue
        answer = "Several days" if n == 0 else "Nearly every day"
        question(client, text).get_by_role("radio", name=answer).check()
    expect(client.locator(".save-state")).to_contain_text("Draft saved")
    client.reload()
    expect(question(client, PHQ9_QUESTIONS[0]).get_by_role("radio", name="Several days")
           ).to_be_checked()
    expect(question(client, PHQ9_QUESTIONS[8]).get_by_role("radio", name="Nearly every day")
           ).to_be_checked()

    # Submitting without a required answer: the server's error shows next to that question.
    client.get_by_role("button", name="Submit").click()
    fifth = question(client, PHQ9_QUESTIONS[4])
    expect(fifth.locator(".field-error")).to_have_text("This question needs an answer.")
    expect(client.locator(".field-error")).to_have_count(1)
    expect(client.get_by_role("alert")).to_contain_text("Some answers need attention")
    expect(fifth.get_by_role("radio").first).to_be_focused()
    shot(client, "form-fill-error-desktop")
    fifth.get_by_role("radio", name="Nearly every day").check()
    expect(client.locator(".field-error")).to_have_count(0)
    client.get_by_role("button", name="Submit").click()
    expect(client.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(client.get_by_role("main")).to_contain_text("Your answers were sent to your care team")
    shot(client, "form-thanks-desktop")

    # The provider sees the completion and the score live, then the answers.
    completed = owner.locator("li[data-kind='form.completed']")
    expect(completed).to_contain_text(f"Casey Client completed “{PHQ9}”")
    scored = owner.locator("li[data-kind='form.scored']")
    expect(scored).to_contain_text(f"Score for “{PHQ9}”: 25")
    expect(scored.locator(".team-only")).to_have_text("Team only")
    expect(requested.get_by_role("link", name="View answers")).to_be_visible()
    shot(owner, "form-events-desktop")
    completed.get_by_role("link", name="view answers").click()
    expect(owner.get_by_role("heading", level=1, name=PHQ9)).to_be_visible()
    expect(owner.locator(".score")).to_have_text("Score: 25")
    answers = owner.locator(".answer")
    expect(answers.first).to_contain_text("Several days (1 point)")
    expect(answers.nth(4)).to_contain_text("Nearly every day (3 points)")
    expect(answers.nth(9)).to_contain_text("25 (calculated)")  # the total, worked out
    expect(answers.nth(10)).to_contain_text("No answer")
    shot(owner, "form-response-desktop")
    fhir = owner.get_by_role("link", name="Export FHIR")
    response = owner.request.get(fhir.get_attribute("href"))
    assert response.ok, response.status
    assert response.json()["resourceType"] == "QuestionnaireResponse"
    json_link = owner.get_by_role("link", name="Export JSON").get_attribute("href")
    exported = owner.request.get(json_link)
    assert exported.json()["score"] == 25

    # Back in the chat, the client's card is done and the thank-you line is there; no score.
    client.get_by_role("link", name="Back to your care team").click()
    expect(card).to_contain_text("Done — thank you!")
    expect(card.get_by_role("link", name="Open form")).to_have_count(0)
    expect(client.locator("li[data-kind='form.completed']")).to_contain_text(
        f"Thank you for filling in “{PHQ9}”")
    expect(client.locator("li[data-kind='form.scored']")).to_have_count(0)
    # The client's own list of forms has it under "Sent", with their answers (no score).
    nav(client, "Forms")
    expect(client.get_by_text("Nothing to fill in right now.")).to_be_visible()
    client.get_by_role("list", name="Forms you sent").get_by_role(
        "link", name=f"Your answers: {PHQ9}").click()
    expect(client.get_by_role("heading", name="Thank you!")).to_be_visible()
    client.get_by_text("Your answers", exact=True).click()
    expect(client.locator(".answer").first).to_contain_text("Several days")
    expect(client.locator(".answer").first).not_to_contain_text("point")
    expect(client.get_by_role("main")).not_to_contain_text("Score")


def build_question(page: Any, kind: str, text: str, *, required: bool = False) -> Any:
    """Add a question of `kind` at the end of the builder; the new question's group."""
    page.get_by_label("New question type").select_option(label=kind)
    page.get_by_role("button", name="Add question").click()
    group = page.get_by_role("list", name="Questions").get_by_role("group").filter(
        has=page.get_by_label("Type")).last
    text_box = group.get_by_label(re.compile("^(Question|Heading) text$"))
    expect(text_box).to_be_focused()
    text_box.fill(text)
    if required:
        group.get_by_label("Required").check()
    return group


def test_staff_build_a_form_with_a_condition_and_request_it_from_a_group(
        pages, mailbox, app_server, shot):
    owner = pages.new()
    sign_up(owner)
    nav(owner, "Settings")
    groups = section(owner, "Groups and sign-up links")
    groups.get_by_label("New group name").fill("Prenatal")
    groups.get_by_role("button", name="Create group").click()
    expect(groups.get_by_text("Prenatal", exact=True)).to_be_visible()
    ada_email = unique_email("ada")
    add_client(owner, "Ada Lovelace", ada_email, group="Prenatal")
    add_client(owner, "Grace Hopper", group="Prenatal")

    # The builder: every type of question, options with scores, a condition, a new order.
    nav(owner, "Forms")
    owner.get_by_role("link", name="New form").click()
    owner.get_by_label("Title").fill("Lifestyle check-in")
    owner.get_by_label("Description (optional)").fill("A few questions before your visit.")
    build_question(owner, "Section heading", "About you")
    build_question(owner, "Short text", "Preferred name")
    smoke = build_question(owner, "Yes / no", "Do you smoke?", required=True)
    cigs = build_question(owner, "Number", "How many cigarettes a day?", required=True)
    cigs.get_by_label("Lowest allowed (optional)").fill("1")
    cigs.get_by_label("Highest allowed (optional)").fill("100")
    cigs.get_by_label("Only show when an earlier question has a given answer").check()
    cigs.get_by_label("Show when", exact=True).select_option(label="3. Do you smoke?")
    cigs.get_by_label("has the answer").select_option(label="Yes")
    sleep = build_question(owner, "Single choice", "How do you sleep?", required=True)
    sleep.get_by_label("Option 1", exact=True).fill("Well")
    sleep.get_by_label("Score of option 1 (optional)").fill("0")
    sleep.get_by_label("Option 2", exact=True).fill("Badly")
    sleep.get_by_label("Score of option 2 (optional)").fill("2")
    sleep.get_by_role("button", name="Add an option to question 5").click()
    sleep.get_by_label("Option 3", exact=True).fill("It depends")
    foods = build_question(owner, "Multiple choice", "Which do you eat?")
    foods.get_by_label("Option 1", exact=True).fill("Meat")
    foods.get_by_label("Option 2", exact=True).fill("Fish")
    stress = build_question(owner, "Scale", "Stress this week")
    stress.get_by_label("Lowest value").fill("1")
    stress.get_by_label("Highest value").fill("5")
    build_question(owner, "Long text", "Anything else?")
    build_question(owner, "Date", "Date of your last visit")
    build_question(owner, "Consent", "I agree to share these answers with my care team.",
                   required=True)
    build_question(owner, "Short text", "Remove me")
    questions = owner.get_by_role("list", name="Questions").get_by_role("group").filter(
        has=owner.get_by_label("Type"))
    expect(questions).to_have_count(11)
    owner.get_by_role("button", name="Remove question 11").click()
    expect(questions).to_have_count(10)
    # "Anything else?" moves up above the scale; the focus stays on the moved question.
    owner.get_by_role("button", name="Move question 8 up").click()
    expect(owner.get_by_role("button", name="Move question 7 up")).to_be_focused()
    expect(questions.nth(6).get_by_label("Question text")).to_have_value("Anything else?")
    # A condition that would point below itself is refused before saving.
    owner.get_by_role("button", name="Move question 3 down").click()
    owner.get_by_role("button", name="Create form").click()
    expect(owner.get_by_role("alert")).to_contain_text(
        "Question 3: its condition must name a question above it.")
    owner.get_by_role("button", name="Move question 4 up").click()
    expect(questions.nth(2).get_by_label("Question text")).to_have_value("Do you smoke?")
    shot(owner, "form-builder-desktop")
    owner.get_by_role("button", name="Create form").click()
    expect(owner.get_by_role("heading", name="Edit form")).to_be_visible()
    expect(owner.get_by_role("main")).to_contain_text("Version 1")
    assert smoke  # built above

    # Changing a question makes version 2; only the title does not.
    owner.get_by_label("Title").fill("Lifestyle check-in (prenatal)")
    owner.get_by_role("button", name="Save form").click()
    expect(owner.get_by_role("main").get_by_role("status")).to_have_text("Saved.")
    expect(owner.get_by_role("main")).to_contain_text("Version 1")
    questions.nth(1).get_by_label("Question text").fill("What should we call you?")
    owner.get_by_role("button", name="Save form").click()
    expect(owner.get_by_role("main").get_by_role("status")).to_contain_text("Saved as version 2")
    with api(owner, app_server.url) as http:
        forms = http.get("/forms").json()["forms"]
        form = http.get(f"/forms/{forms[0]['id']}").json()["form"]
    assert form["version"] == 2
    by_text = {item["text"]: item for item in form["items"]}
    assert by_text["How many cigarettes a day?"]["show_when"] == {
        "question": by_text["Do you smoke?"]["id"], "equals": True}
    assert [o.get("score") for o in by_text["How do you sleep?"]["options"]] == [0, 2, None]
    assert [item["type"] for item in form["items"]] == [
        "heading", "short_text", "yes_no", "number", "single_choice", "multiple_choice",
        "long_text", "scale", "date", "consent"]

    # The whole group is asked, from the group's settings.
    nav(owner, "Settings")
    groups = section(owner, "Groups and sign-up links")
    groups.get_by_text("Forms for Prenatal").click()
    ask = groups.get_by_role("form", name="Request forms from Prenatal")
    ask.get_by_role("checkbox", name="Lifestyle check-in (prenatal)").check()
    ask.get_by_role("button", name="Request from group").click()
    expect(ask.get_by_role("status")).to_contain_text(
        "Requested “Lifestyle check-in (prenatal)” from 2 clients in Prenatal")
    shot(owner, "group-forms-desktop")

    # Ada opens her card: the cigarettes question shows only after "Yes".
    ada = pages.new()
    accept_invitation(ada, invitation_link(mailbox, ada_email))
    open_thread(ada, "Your care team")
    ada.get_by_role("link", name="Open form").click()
    expect(ada.get_by_role("heading", level=2, name="About you")).to_be_visible()
    expect(ada.get_by_label("What should we call you?")).to_be_visible()
    expect(ada.get_by_label("How many cigarettes a day?")).to_have_count(0)
    smoking = ada.get_by_role("group", name="Do you smoke?")
    smoking.get_by_role("radio", name="Yes").check()
    expect(ada.get_by_label("How many cigarettes a day?")).to_be_visible()
    smoking.get_by_role("radio", name="No").check()
    expect(ada.get_by_label("How many cigarettes a day?")).to_have_count(0)
    smoking.get_by_role("radio", name="Yes").check()
    ada.get_by_label("How many cigarettes a day?").fill("500")
    ada.get_by_role("group", name="How do you sleep?").get_by_role("radio", name="Badly").check()
    foods = ada.get_by_role("group", name="Which do you eat?")
    foods.get_by_role("checkbox", name="Fish").check()
    ada.get_by_role("group", name="Stress this week").get_by_text("4", exact=True).click()
    ada.get_by_label("Anything else?").fill("<b>not bold</b>")
    ada.get_by_label("Date of your last visit").fill("2031-01-15")
    consent = ada.get_by_role("group", name="I agree to share these answers")
    consent.get_by_label("Your full name").fill("Ada Lovelace")
    # The draft tells at once that 500 is out of range; submit shows every problem.
    cigarettes = question(ada, "How many cigarettes a day?")
    expect(cigarettes.locator(".field-error")).to_contain_text("Between 1 and 100")
    ada.get_by_role("button", name="Submit").click()
    expect(question(ada, "I agree to share").locator(".field-error")).to_have_text(
        "Consent must be given.")
    expect(cigarettes.locator(".field-error")).to_contain_text("Between 1 and 100")
    expect(ada.get_by_label("How many cigarettes a day?")).to_be_focused()
    ada.get_by_label("How many cigarettes a day?").fill("5")
    consent.get_by_label("I agree").check()
    ada.get_by_role("button", name="Submit").click()
    expect(ada.get_by_role("heading", name="Thank you!")).to_be_visible()

    # Tracking: Ada's is completed, Grace's open; remind, then cancel Grace's.
    nav(owner, "Forms")
    owner.get_by_role("link", name="Requests").click()
    rows = owner.get_by_role("list", name="Form requests").locator(".req-row")
    expect(rows).to_have_count(2)
    owner.get_by_label("Show").select_option(label="Completed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ada Lovelace")
    owner.get_by_label("Show").select_option(label="Open")
    expect(rows).to_have_count(1)
    grace = rows.first
    expect(grace).to_contain_text("Grace Hopper")
    grace.get_by_role("button", name=re.compile("^Remind about")).click()
    expect(grace.get_by_role("status")).to_have_text("Reminder sent.")
    shot(owner, "form-requests-desktop")
    grace.get_by_role("button", name=re.compile("^Cancel Lifestyle")).click()
    grace.get_by_role("button", name="Yes, cancel it").click()
    expect(rows).to_have_count(0)
    owner.get_by_label("Show").select_option(label="Cancelled")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Grace Hopper")

    # Ada's answers, read by the team: the score adds the chosen option and the scale.
    owner.get_by_label("Show").select_option(label="Completed")
    rows.first.get_by_role("link", name=re.compile("^View answers")).click()
    expect(owner.locator(".score")).to_have_text("Score: 6")
    expect(owner.locator(".answer").filter(has_text="Anything else?")).to_contain_text(
        "<b>not bold</b>")
    expect(owner.locator("main b")).to_have_count(0)
    expect(owner.locator(".answer").filter(has_text="I agree to share")).to_contain_text(
        "Agreed, signed “Ada Lovelace”")
    expect(owner.locator(".answer").filter(has_text="How many cigarettes")).to_contain_text("5")
    expect(owner.locator(".answer").filter(has_text="How do you sleep?")).to_contain_text(
        "Badly (2 points)")


def test_intake_flows_and_the_incomplete_intake_filter(pages, app_server):
    owner = pages.new()
    sign_up(owner)
    with api(owner, app_server.url) as http:
        intake = http.post("/forms", json={"title": "New client intake", "items": [
            {"id": "goal", "type": "short_text", "text": "Your main goal", "required": True}]})
        assert intake.status_code == 201, intake.text
        consent = http.post("/forms", json={"title": "Prenatal consent", "items": [
            {"id": "ok", "type": "consent", "text": "I consent.", "required": True}]})
        assert consent.status_code == 201, consent.text
        assert http.post("/groups", json={"name": "Prenatal"}).status_code == 201

    # The practice default flow, then the group's own flow (two forms, reordered).
    nav(owner, "Settings")
    default = section(owner, "Default intake flow")
    default.get_by_label("Add a form to the flow").select_option(label="New client intake")
    default.get_by_role("button", name="Add", exact=True).click()
    default.get_by_role("button", name="Save intake flow").click()
    expect(default.get_by_role("status")).to_have_text(
        "Intake flow saved: 1 form for new clients.")
    groups = section(owner, "Groups and sign-up links")
    groups.get_by_text("Forms for Prenatal").click()
    flow = groups.get_by_role("form", name="Intake flow for Prenatal")
    for title in ("New client intake", "Prenatal consent"):
        flow.get_by_label("Add a form to the flow").select_option(label=title)
        flow.get_by_role("button", name="Add", exact=True).click()
    flow.get_by_role("button", name="Move Prenatal consent up").click()
    expect(flow.get_by_role("list")).to_contain_text("1. Prenatal consent")
    flow.get_by_role("button", name="Save intake flow").click()
    expect(flow.get_by_role("status")).to_have_text("Intake flow saved: 2 forms for Prenatal.")

    add_client(owner, "Nora Nogroup")
    add_client(owner, "Paula Prenatal", group="Prenatal")
    add_client(owner, "<img src=x onerror=alert(1)> Mallory")
    nav(owner, "Forms")
    owner.get_by_role("link", name="Requests").click()
    rows = owner.get_by_role("list", name="Form requests").locator(".req-row")
    # Nora and Mallory get the default flow; Paula her group's two forms.
    expect(rows).to_have_count(4)
    expect(rows.filter(has_text="Paula Prenatal")).to_have_count(2)
    expect(rows.first).to_contain_text("intake flow")

    # The filter: clients with an open intake request; one answered (by API) drops out.
    with api(owner, app_server.url) as http:
        nora = http.get("/clients", params={"search": "Nora"}).json()["clients"][0]
        request = http.get("/form-requests", params={"client_id": nora["id"]}
                           ).json()["requests"][0]
        assert http.post(f"/form-requests/{request['id']}/cancel").status_code == 200
        late = http.post("/form-requests", json={
            "form_ids": [consent.json()["form"]["id"]], "client_ids": [nora["id"]],
            "due_at": "2021-03-01T12:00:00Z"})
        assert late.status_code == 201, late.text

    # Overdue requests have a filter of their own.
    owner.reload()
    owner.get_by_label("Show").select_option(label="Overdue")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Nora Nogroup")
    expect(rows.first.locator(".pill")).to_have_text("Overdue")
    expect(rows.first).to_contain_text("due Mar 1, 2021")

    nav(owner, "Clients")
    names = owner.get_by_role("list", name="Clients").locator(".client-name")
    expect(names).to_have_count(3)
    owner.get_by_label("Has incomplete intake").check()
    expect(names).to_have_count(2)
    expect(names.filter(has_text="Paula Prenatal")).to_have_count(1)
    expect(owner.locator("main img")).to_have_count(0)


def test_the_filling_screen_fits_a_phone_and_works_by_keyboard(pages, mailbox, app_server,
                                                               shot):
    owner = pages.new()
    sign_up(owner)
    email = unique_email("phone")
    add_client(owner, "Pia Phone", email)
    client_id = owner.url.rsplit("/", 1)[-1]
    with api(owner, app_server.url) as http:
        form = http.post("/forms", json={
            "title": "Weekly check-in with a rather long title that has to wrap on a phone",
            "items": [
                {"id": "h", "type": "heading", "text": "How was your week?"},
                {"id": "mood", "type": "scale", "text": "Mood", "min": 0, "max": 10,
                 "required": True},
                {"id": "slept", "type": "yes_no", "text": "Did you sleep well?"},
                {"id": "why", "type": "long_text", "text": "What kept you awake?",
                 "show_when": {"question": "slept", "equals": False}},
                {"id": "meals", "type": "multiple_choice", "text": "Meals you had most days",
                 "options": [{"value": "b", "label": "Breakfast"},
                             {"value": "l", "label": "Lunch"},
                             {"value": "d", "label": "Dinner"}]},
                {"id": "weight", "type": "number", "text": "Weight (kg)", "min": 30,
                 "max": 300},
                {"id": "ok", "type": "consent", "required": True,
                 "text": "I understand my care team reads these answers within two days."},
            ]}).json()["form"]
        made = http.post("/form-requests", json={"form_ids": [form["id"]],
                                                 "client_ids": [client_id]})
        assert made.status_code == 201, made.text

    pia = pages.new(viewport=PHONE_375)
    accept_invitation(pia, invitation_link(mailbox, email))
    # Pia's one conversation opens by itself.
    expect(pia.get_by_role("heading", level=2, name="Your care team")).to_be_visible()
    expect(pia.get_by_role("article")).to_be_visible()
    fits(pia)
    shot(pia, "form-card-phone")
    pia.get_by_role("link", name="Open form").click()
    expect(pia.get_by_role("heading", level=2, name="How was your week?")).to_be_visible()
    fits(pia)
    shot(pia, "form-fill-phone")

    # Keyboard only: Tab into the scale, arrows pick a value; Space answers yes/no.
    pia.get_by_role("link", name="Back to chat").focus()
    pia.keyboard.press("Tab")
    expect(pia.get_by_role("radio", name="0", exact=True)).to_be_focused()
    pia.keyboard.press("ArrowRight")
    pia.keyboard.press("ArrowRight")
    expect(pia.get_by_role("radio", name="2", exact=True)).to_be_checked()
    outline = pia.evaluate(
        "() => getComputedStyle(document.activeElement.nextElementSibling).outlineStyle")
    assert outline not in ("none", ""), outline
    pia.keyboard.press("Tab")
    expect(pia.get_by_role("radio", name="Yes")).to_be_focused()
    pia.keyboard.press("ArrowDown")
    expect(pia.get_by_role("radio", name="No")).to_be_checked()
    expect(pia.get_by_label("What kept you awake?")).to_be_visible()
    pia.keyboard.press("Tab")
    expect(pia.get_by_label("What kept you awake?")).to_be_focused()
    pia.keyboard.type("Noisy neighbours")
    pia.keyboard.press("Tab")
    expect(pia.get_by_role("checkbox", name="Breakfast")).to_be_focused()
    pia.keyboard.press("Space")
    expect(pia.get_by_role("checkbox", name="Breakfast")).to_be_checked()
    fits(pia)
    pia.get_by_role("button", name="Submit").focus()
    pia.keyboard.press("Enter")
    consent = question(pia, "I understand my care team")
    expect(consent.locator(".field-error")).to_have_text("This question needs an answer.")
    expect(consent.get_by_label("I agree")).to_be_focused()
    pia.keyboard.press("Space")
    pia.keyboard.press("Tab")
    pia.keyboard.type("Pia Phone")
    fits(pia)
    shot(pia, "form-fill-error-phone")
    pia.keyboard.press("Enter")
    expect(pia.get_by_role("heading", name="Thank you!")).to_be_visible()
    fits(pia)
    shot(pia, "form-thanks-phone")


def test_an_imported_questionnaire_is_edited_in_the_builder_and_keeps_its_codes(
        pages, app_server):
    owner = pages.new()
    sign_up(owner)
    import_phq9(owner)
    owner.get_by_role("list", name="Forms").get_by_role("link", name=re.compile("PHQ-9")).click()
    expect(owner.get_by_role("heading", name="Edit form")).to_be_visible()
    questions = owner.get_by_role("list", name="Questions").get_by_role("group").filter(
        has=owner.get_by_label("Type"))
    expect(questions).to_have_count(10)
    first = questions.first
    expect(first.get_by_label("Question text")).to_have_value(PHQ9_QUESTIONS[0])
    expect(first.get_by_label("Type")).to_have_value("single_choice")
    expect(first.get_by_label("Option 2", exact=True)).to_have_value("Several days")
    expect(first.get_by_label("Score of option 2 (optional)")).to_have_value("1")
    expect(first.get_by_label("Required")).to_be_checked()
    status = owner.get_by_role("main").get_by_role("status")
    owner.get_by_role("button", name="Save form").click()
    expect(status).to_have_text("Nothing changed.")

    questions.nth(9).get_by_label("Required").check()
    first.get_by_label("Option 1", exact=True).fill("Not at all (0 days)")
    owner.get_by_role("button", name="Save form").click()
    expect(status).to_contain_text("Saved as version 2")
    with api(owner, app_server.url) as http:
        form_id = http.get("/forms").json()["forms"][0]["id"]
        form = http.get(f"/forms/{form_id}").json()["form"]
        fhir = http.get(f"/forms/{form_id}/fhir").json()
    assert form["version"] == 2
    assert form["code"]["code"] == "44249-1"
    assert form["items"][0]["code"]["code"] == "44250-9"
    assert form["items"][0]["options"][:2] == [
        {"value": "LA6568-5", "label": "Not at all (0 days)", "score": 0,
         "system": "http://loinc.org"},
        {"value": "LA6569-3", "label": "Several days", "score": 1, "system": "http://loinc.org"},
    ]
    assert form["items"][10]["required"] is True  # items[9] is the calculated total
    assert fhir["item"][0]["answerOption"][1]["valueCoding"]["system"] == "http://loinc.org"

    # The FHIR download link serves the Questionnaire; archiving stops new requests.
    download = owner.get_by_role("link", name="Download as FHIR Questionnaire")
    exported = owner.request.get(download.get_attribute("href"))
    assert exported.json()["resourceType"] == "Questionnaire"
    owner.get_by_role("button", name="Archive").click()
    expect(status).to_contain_text("Archived")
    nav(owner, "Forms")
    expect(owner.get_by_role("list", name="Forms")).to_contain_text("Archived")
    add_client(owner, "Casey Client")
    expect(section(owner, "Forms")).to_contain_text("No forms to request yet")


def new_form(http: Any, title: str, **extra: Any) -> str:
    """A one-question form made through the API; its id."""
    made = http.post("/forms", json={"title": title, **extra, "items": [
        {"id": "q", "type": "short_text", "text": f"About {title}", "required": True}]})
    assert made.status_code == 201, made.text
    return str(made.json()["form"]["id"])


def flow_titles(flow: Any) -> Any:
    """The numbered titles of the forms listed in an intake flow editor."""
    return flow.get_by_role("list").locator(".flow-title")


def test_the_intake_flow_editors_show_the_saved_flows_after_a_reload(pages, app_server):
    owner = pages.new()
    sign_up(owner)
    with api(owner, app_server.url) as http:
        intake = new_form(http, "New client intake")
        consent = new_form(http, "Prenatal consent")
        old = new_form(http, "Old questionnaire")
        group = http.post("/groups", json={"name": "Prenatal"})
        assert group.status_code == 201, group.text
        group_id = group.json()["group"]["id"]

    nav(owner, "Settings")
    default = owner.get_by_role("form", name="Intake flow for new clients")
    expect(default).to_contain_text("No forms in this flow.")
    expect(owner.get_by_role("main")).not_to_contain_text("Saving replaces")
    for title in ("New client intake", "Old questionnaire"):
        default.get_by_label("Add a form to the flow").select_option(label=title)
        default.get_by_role("button", name="Add", exact=True).click()
    default.get_by_role("button", name="Save intake flow").click()
    expect(default.get_by_role("status")).to_have_text(
        "Intake flow saved: 2 forms for new clients.")
    groups = section(owner, "Groups and sign-up links")
    groups.get_by_text("Forms for Prenatal").click()
    flow = groups.get_by_role("form", name="Intake flow for Prenatal")
    expect(flow).to_contain_text("No forms in this flow.")
    for title in ("New client intake", "Prenatal consent"):
        flow.get_by_label("Add a form to the flow").select_option(label=title)
        flow.get_by_role("button", name="Add", exact=True).click()
    flow.get_by_role("button", name="Move Prenatal consent up").click()
    flow.get_by_role("button", name="Save intake flow").click()
    expect(flow.get_by_role("status")).to_have_text("Intake flow saved: 2 forms for Prenatal.")
    with api(owner, app_server.url) as http:
        archived = http.patch(f"/forms/{old}", json={"archived": True})
        assert archived.status_code == 200, archived.text

    # After a reload both editors start from what was saved, in order; an archived form says
    # it is skipped, and is not offered again.
    owner.reload()
    default = owner.get_by_role("form", name="Intake flow for new clients")
    expect(flow_titles(default)).to_have_text([
        "1. New client intake",
        "2. Old questionnaire (archived: skipped when the flow runs)"])
    expect(default.get_by_label("Add a form to the flow").locator("option")).to_have_text(
        ["Choose…", "Prenatal consent"])
    groups = section(owner, "Groups and sign-up links")
    groups.get_by_text("Forms for Prenatal").click()
    flow = groups.get_by_role("form", name="Intake flow for Prenatal")
    expect(flow_titles(flow)).to_have_text(["1. Prenatal consent", "2. New client intake"])

    # Editing the flow shown changes only what was edited.
    flow.get_by_role("button", name="Remove New client intake").click()
    flow.get_by_role("button", name="Save intake flow").click()
    expect(flow.get_by_role("status")).to_have_text("Intake flow saved: 1 form for Prenatal.")
    with api(owner, app_server.url) as http:
        flows = {f["group_id"]: f["form_ids"] for f in http.get("/intake-flows").json()["flows"]}
    assert flows == {None: [intake, old], group_id: [consent]}
    owner.reload()
    groups = section(owner, "Groups and sign-up links")
    groups.get_by_text("Forms for Prenatal").click()
    expect(flow_titles(groups.get_by_role("form", name="Intake flow for Prenatal"))).to_have_text(
        ["1. Prenatal consent"])


def test_the_tracking_list_names_clients_and_filters_by_form_on_the_server(
        pages, app_server):
    owner = pages.new()
    sign_up(owner)
    add_client(owner, "Rita Removed")
    rita = owner.url.rsplit("/", 1)[-1]
    add_client(owner, "Sam Staying")
    sam = owner.url.rsplit("/", 1)[-1]
    with api(owner, app_server.url) as http:
        mood = new_form(http, "Mood diary")
        sleep = new_form(http, "Sleep log")
        made = http.post("/form-requests", json={"form_ids": [mood, sleep],
                                                 "client_ids": [rita, sam]})
        assert made.status_code == 201, made.text
        # Rita leaves the practice: GET /clients no longer lists her, her requests stay.
        assert http.delete(f"/team/{rita}").status_code == 200
        assert all(c["id"] != rita for c in http.get("/clients").json()["clients"])

    nav(owner, "Forms")
    owner.get_by_role("link", name="Requests").click()
    rows = owner.get_by_role("list", name="Form requests").locator(".req-row")
    expect(rows).to_have_count(4)
    expect(rows.filter(has_text="Rita Removed")).to_have_count(2)
    expect(rows.filter(has_text="Sam Staying")).to_have_count(2)
    expect(owner.locator(".req-client", has_text=re.compile("^Client$"))).to_have_count(0)
    expect(owner.get_by_label("Client", exact=True).locator("option")).to_have_text(
        ["All clients", "Rita Removed", "Sam Staying"])

    # The form filter asks the server for that form's requests only.
    with owner.expect_response(lambda r: "/api/v1/form-requests?" in r.url
                               and f"form_id={sleep}" in r.url) as answer:
        owner.get_by_label("Form", exact=True).select_option(label="Sleep log")
    assert {r["form_id"] for r in answer.value.json()["requests"]} == {sleep}
    expect(rows).to_have_count(2)
    expect(rows.locator(".req-title")).to_have_text(["Sleep log", "Sleep log"])
    expect(owner.get_by_role("main").get_by_role("status")).to_have_text(
        re.compile(r"^2 open\s+\(0 overdue\) · 0 completed$"))
    # Combined with a client: the client filter still offers every client.
    owner.get_by_label("Client", exact=True).select_option(label="Rita Removed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Rita Removed")
    expect(owner.get_by_label("Client", exact=True).locator("option")).to_have_count(3)
    owner.get_by_label("Form", exact=True).select_option(label="All forms")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Mood diary")).to_have_count(1)

    # The builder's "See requests" opens the list filtered by that form.
    nav(owner, "Forms")
    owner.get_by_role("list", name="Forms").get_by_role("link", name="Mood diary").click()
    owner.get_by_role("link", name="See requests").click()
    expect(owner.get_by_label("Form", exact=True)).to_have_value(mood)
    expect(rows).to_have_count(2)
    expect(rows.locator(".req-title")).to_have_text(["Mood diary", "Mood diary"])
    owner.get_by_role("navigation", name="Forms sections").get_by_role(
        "link", name="Requests").click()
    expect(owner.get_by_label("Form", exact=True)).to_have_value("")
    expect(rows).to_have_count(4)


def request_link(mailbox: Any, email: str, wait: float = 15) -> str:
    """The link to a form request in a mail to `email`."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        for mail in mailbox.to(email):
            for link in mail.links:
                if "/#/form-requests/" in link:
                    return link
        time.sleep(0.05)
    raise AssertionError(f"no form request link for {email} within {wait}s")


def test_the_emailed_link_opens_the_form_with_its_description_before_and_after_login(
        pages, mailbox, app_server):
    owner = pages.new()
    sign_up(owner)
    email = unique_email("dora")
    add_client(owner, "Dora Described", email)
    dora_id = owner.url.rsplit("/", 1)[-1]
    dora = pages.new()
    accept_invitation(dora, invitation_link(mailbox, email))
    description = "<b>Before your visit</b> <script>alert(1)</script>\nIt takes 5 minutes."
    with api(owner, app_server.url) as http:
        form = new_form(http, "Visit prep", description=description)
        made = http.post("/form-requests", json={"form_ids": [form], "client_ids": [dora_id],
                                                 "notify": True})
        assert made.status_code == 201, made.text
        request_id = made.json()["requests"][0]["id"]
    link = request_link(mailbox, email)
    assert link == f"{app_server.url}/#/form-requests/{request_id}"

    # Signed in: the link opens the filling screen, the description (as text) on top.
    dora.goto(link)
    expect(dora.get_by_role("heading", level=1, name="Visit prep")).to_be_visible()
    shown = dora.locator(".form-description")
    expect(shown).to_have_text(description)
    expect(dora.locator("main b, main script")).to_have_count(0)
    assert dora.evaluate("() => document.querySelector('.form-description').innerText") == (
        description)
    expect(dora.get_by_label("About Visit prep")).to_be_visible()

    # Signed out: the login screen first, then the same form.
    dora.get_by_role("button", name="Log out").click()
    expect(dora.get_by_role("heading", name="Log in")).to_be_visible()
    dora.goto(link)
    expect(dora.get_by_role("heading", name="Log in")).to_be_visible()
    dora.get_by_label("Email").fill(email)
    dora.get_by_label("Password").fill(PASSWORD)
    dora.get_by_role("button", name="Log in").click()
    expect(dora.get_by_role("heading", level=1, name="Visit prep")).to_be_visible()
    expect(dora.locator(".form-description")).to_have_text(description)
    assert dora.url == link
    dora.get_by_label("About Visit prep").fill("Ready")
    dora.get_by_role("button", name="Submit").click()
    expect(dora.get_by_role("heading", name="Thank you!")).to_be_visible()


def test_a_condition_compares_a_number_and_stays_editable_after_saving(
        pages, app_server, shot):
    """"Show when the cigarettes a day are above 10": an enableWhen with `>` made in the
    builder, tried in the preview, saved, and still editable when the form is opened again."""
    owner = pages.new()
    sign_up(owner)
    nav(owner, "Forms")
    owner.get_by_role("link", name="New form").click()
    owner.get_by_label("Title").fill("Smoking check-in")
    build_question(owner, "Number", "How many cigarettes a day?", required=True)
    help_ = build_question(owner, "Long text", "What would help you cut down?")
    help_.get_by_label("Only show when an earlier question has a given answer").check()
    help_.get_by_label("Show when", exact=True).select_option(
        label="1. How many cigarettes a day?")
    help_.get_by_label("Comparison").select_option(label="is above")
    help_.get_by_label("Compared with").fill("10")
    shot(owner, "form-builder-comparison-desktop")

    owner.get_by_role("button", name="Preview").click()
    preview = owner.locator(".preview")
    preview.get_by_label("How many cigarettes a day?").fill("5")
    expect(preview.get_by_label("What would help you cut down?")).to_have_count(0)
    preview.get_by_label("How many cigarettes a day?").fill("20")
    expect(preview.get_by_label("What would help you cut down?")).to_be_visible()
    owner.get_by_role("button", name="Back to editing").click()

    owner.get_by_role("button", name="Create form").click()
    expect(owner.get_by_role("heading", name="Edit form")).to_be_visible()
    with api(owner, app_server.url) as http:
        form_id = http.get("/forms").json()["forms"][0]["id"]
        form = http.get(f"/forms/{form_id}").json()["form"]
    first, second = form["items"]
    assert second["enable_when"] == [{"question": first["id"], "operator": ">", "answer": 10}]
    assert "show_when" not in second

    # Opened again: the condition is the builder's own, not a locked import.
    owner.reload()
    questions = owner.get_by_role("list", name="Questions").get_by_role("group").filter(
        has=owner.get_by_label("Type"))
    expect(questions).to_have_count(2)
    again = questions.nth(1)
    expect(again.get_by_label("Comparison")).to_have_value(">")
    expect(again.get_by_label("Compared with")).to_have_value("10")
    again.get_by_label("Comparison").select_option(label="is answered")
    expect(again.get_by_label("Compared with")).to_have_count(0)
    owner.get_by_role("button", name="Save form").click()
    expect(owner.get_by_role("main").get_by_role("status")).to_contain_text("Saved as version 2")
    with api(owner, app_server.url) as http:
        form = http.get(f"/forms/{form_id}").json()["form"]
    assert form["items"][1]["enable_when"] == [
        {"question": first["id"], "operator": "exists", "answer": True}]
