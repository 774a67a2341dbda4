"""Care between visits, with files and metric goals, in the web client: the provider attaches a
handout to a care plan and sets a steps goal and a weight goal; the client, on a phone, adds a
photo of lunch to the food journal and logs steps towards the goal; the provider's feed shows
the photo; the client reads the handout on the shared plan. In eating-disorder mode the weight
goal leaves the client's screen."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.browser.ui import (
    PHONE,
    accept_invitation,
    add_client,
    api,
    fits,
    invitation_link,
    nav,
    section,
    sign_up,
    unique_email,
)
from tests.mailbox import Mailbox


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), (230, 160, 60)).save(out, "PNG")
    return out.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
       b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")


def tab(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Client sections").get_by_role("link", name=name).click()


def loaded(page: Any, image: Any) -> None:
    """The image's bytes arrived (the session may read the file) and decoded."""
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=image.element_handle(), timeout=10_000)


def test_a_meal_photo_a_plan_handout_and_goals_from_logged_steps(
    pages: Any, mailbox: Mailbox, app_server: Any, shot: Any
) -> None:
    owner = pages.new()
    sign_up(owner, practice="Photos and Goals")
    email = unique_email("client")
    add_client(owner, "Robin Hart", email)
    client_url = owner.url

    # Two goals on metrics: steps a day, and a weight to stay under.
    tab(owner, "Goals")
    form = section(owner, "Set a goal")
    form.get_by_label("Title").fill("Walk 8,000 steps a day")
    form.get_by_label("Measured by").select_option(label="Steps")
    form.get_by_label("Target").fill("8000")
    form.get_by_label("Per").select_option(label="Day")
    form.get_by_role("button", name="Set goal").click()
    goals = owner.get_by_role("list", name="Goals of Robin Hart")
    expect(goals).to_contain_text("0 of 8000 steps this day")
    form.get_by_label("Title").fill("Stay under 80 kg")
    form.get_by_label("Measured by").select_option(label="Body weight (kg)")
    form.get_by_label("Aim").select_option(label="At most the target")
    expect(form.get_by_label("Target (kg)")).to_be_visible()
    form.get_by_label("Target").fill("80")
    form.get_by_role("button", name="Set goal").click()
    expect(goals).to_contain_text("Stay under 80 kg")

    # A care plan with a handout, shared.
    tab(owner, "Care plan")
    owner.get_by_role("button", name="New care plan").click()
    owner.get_by_label("Title", exact=True).fill("Eating well")
    owner.get_by_label("Section 1 title").fill("Meals")
    owner.get_by_label("Section 1 text (Markdown)").fill("Three meals, **no skipping**.")
    owner.get_by_label("Attach a file to the plan").set_input_files(files=[{
        "name": "plate-guide.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    expect(owner.get_by_role("list", name="Files of the plan")).to_contain_text(
        "plate-guide.pdf")
    owner.get_by_role("button", name="Save draft").click()
    plan = owner.get_by_role("article", name="Eating well")
    expect(plan.locator(".file-card")).to_contain_text("plate-guide.pdf")
    plan.get_by_role("button", name="Share with client").click()
    expect(owner.locator("p.success")).to_contain_text("is shared with Robin Hart")
    # An edit is a new version; the earlier one stays readable (and is what the client reads).
    plan.get_by_role("button", name="Edit").click()
    owner.get_by_label("Section 1 text (Markdown)").fill("Three meals and two snacks.")
    owner.get_by_role("button", name="Save new version").click()
    expect(owner.locator("p.success")).to_contain_text("Saved version 2")
    plan.get_by_role("button", name="Versions").click()
    versions = owner.get_by_role("list", name="Versions of Eating well")
    expect(versions.get_by_role("listitem")).to_have_count(2)
    versions.get_by_role("link", name="Version 1").click()
    expect(owner.locator(".care-plan-page")).to_contain_text("no skipping")
    expect(owner.locator(".care-plan-page .file-card")).to_contain_text("plate-guide.pdf")
    owner.go_back()

    # The client, on a phone: a photo of lunch in the food journal.
    client = pages.new(viewport=PHONE)
    accept_invitation(client, invitation_link(mailbox, email))
    nav(client, "My health")
    client.get_by_label("Kind", exact=True).select_option(label="Food")
    client.get_by_label("Add a photo to the entry").set_input_files(files=[{
        "name": "lunch.png", "mimeType": "image/png", "buffer": _png()}])
    pending = client.get_by_role("list", name="Photos to add")
    expect(pending.locator("img")).to_have_count(1)
    client.get_by_label("Entry", exact=True).fill("Lentil salad")
    client.get_by_role("button", name="Add to journal").click()
    entry = client.locator(".journal-entry").first
    expect(entry).to_contain_text("Lentil salad")
    photo = entry.locator(".att-image img")
    expect(photo).to_be_visible()
    loaded(client, photo)
    fits(client)
    shot(client, "journal-photo-phone")

    # A task that slipped: the team's feed lists it as overdue.
    client_id = client_url.split("#/clients/")[1].split("?")[0]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    with api(owner, app_server.url) as http:
        resp = http.post(f"/clients/{client_id}/tasks",
                         json={"title": "Book a blood test", "due_at": yesterday})
        assert resp.status_code == 201, resp.text

    # The provider's feed shows the photo with the entry.
    nav(owner, "Feed")
    overdue = owner.get_by_role("list", name="Overdue tasks")
    expect(overdue).to_contain_text("Robin Hart")
    expect(overdue).to_contain_text("Book a blood test")
    item = owner.locator(".feed-item[data-kind='journal.entry']")
    expect(item).to_contain_text("Food: Lentil salad (a photo)")
    image = item.locator(".att-image img")
    expect(image).to_be_visible()
    loaded(owner, image)
    shot(owner, "feed-journal-photo-desktop")

    # Today: steps logged against the goal meet it; the weight goal takes a weight.
    nav(client, "Today")
    goals_today = client.get_by_role("list", name="Goals")
    expect(goals_today).to_contain_text("Walk 8,000 steps a day")
    expect(goals_today).to_contain_text("Stay under 80 kg")
    expect(goals_today).to_contain_text("Nothing logged yet, target at most 80 kg")
    client.get_by_label("Log for Walk 8,000 steps a day").fill("5000")
    client.get_by_role("button", name="Log: Walk 8,000 steps a day").click()
    expect(client.locator("p.success")).to_have_text("Logged for: Walk 8,000 steps a day")
    expect(goals_today).to_contain_text("5000 of 8000 steps this day")
    client.get_by_label("Log for Walk 8,000 steps a day").fill("3500")
    client.get_by_role("button", name="Log: Walk 8,000 steps a day").click()
    expect(client.locator("p.success")).to_have_text("Goal met: Walk 8,000 steps a day")
    expect(goals_today).to_contain_text("8500 of 8000 steps this day · met")
    fits(client)
    shot(client, "today-metric-goals-phone")

    # The shared plan carries its handout.
    client.get_by_role("list", name="Care plans").get_by_role("link", name="Eating well").click()
    handout = client.locator(".care-plan-page .file-card")
    expect(handout).to_contain_text("plate-guide.pdf")
    with client.expect_download() as download:
        handout.click()
    assert download.value.suggested_filename == "plate-guide.pdf"
    shot(client, "care-plan-files-phone")

    # The team: the steps in the feed, the goal met on the profile.
    owner.goto(client_url + "?tab=goals")
    expect(owner.get_by_role("list", name="Goals of Robin Hart")).to_contain_text(
        "8500 of 8000 steps this day · met")

    # Eating-disorder mode: the weight goal leaves the client's Today.
    owner.goto(client_url)
    owner.get_by_role("link", name="Health and journal").click()
    with owner.expect_response(lambda r: r.url.endswith("/metric-settings")
                               and r.request.method == "PUT") as switched:
        owner.get_by_label("Eating-disorder mode: hide weight and BMI from the client").check()
    assert switched.value.ok
    nav(client, "Today")
    goals_today = client.get_by_role("list", name="Goals")
    expect(goals_today).to_contain_text("Walk 8,000 steps a day")
    expect(goals_today).not_to_contain_text("Stay under 80 kg")
