"""Care between visits in the web client: the team's Tasks, Goals, Care plan and Programs tabs
on a client's profile and the practice library; the client's Today on a phone (check off a
task with a note, finish a module, check in towards a goal) and a shared care plan, printable.
Markdown with a script in a plan section shows as text, never runs."""

from __future__ import annotations

import re
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
    open_thread,
    section,
    sign_up,
    unique_email,
)
from tests.mailbox import Mailbox

HOSTILE = ("Sleep **first**.\n\n<script>window.pwned = 1</script>\n\n"
           '<img src=x onerror="window.pwned = 2">')


def tab(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Client sections").get_by_role("link", name=name).click()


def test_team_plans_care_and_the_client_follows_it_on_a_phone(
    pages: Any, mailbox: Mailbox, shot: Any
) -> None:
    owner = pages.new()
    sign_up(owner, practice="Between Visits")
    email = unique_email("client")
    add_client(owner, "Robin Hart", email)
    client_url = owner.url

    # Tasks: one a day, due tomorrow.
    tab(owner, "Tasks")
    form = section(owner, "Assign a task")
    form.get_by_label("Title").fill("Walk after lunch")
    form.get_by_label("Repeat").select_option(label="Every day")
    form.get_by_role("button", name="Assign task").click()
    tasks = owner.get_by_role("list", name="Tasks of Robin Hart")
    expect(tasks).to_contain_text("Walk after lunch")
    expect(tasks).to_contain_text("Every day")

    # Goals: 8,000 steps a day.
    tab(owner, "Goals")
    form = section(owner, "Set a goal")
    form.get_by_label("Title").fill("Walk 8,000 steps a day")
    form.get_by_label("Measured by").select_option(label="Steps")
    form.get_by_label("Target").fill("8000")
    form.get_by_label("Per").select_option(label="Day")
    form.get_by_role("button", name="Set goal").click()
    expect(owner.get_by_role("list", name="Goals of Robin Hart")).to_contain_text(
        "0 of 8000 steps this day")

    # A care plan, drafted (with a script in its Markdown), then shared.
    tab(owner, "Care plan")
    owner.get_by_role("button", name="New care plan").click()
    owner.get_by_label("Title", exact=True).fill("Sleep plan")
    owner.get_by_label("Section 1 title").fill("Evenings")
    owner.get_by_label("Section 1 text (Markdown)").fill(HOSTILE)
    owner.get_by_role("checkbox", name="Walk 8,000 steps a day").check()
    owner.get_by_role("button", name="Save draft").click()
    plan = owner.get_by_role("article", name="Sleep plan")
    expect(plan.locator("strong")).to_have_text("first")
    expect(plan).to_contain_text("<script>window.pwned = 1</script>")  # as text
    assert plan.locator("script, img").count() == 0
    expect(plan).to_contain_text("Draft: only the team sees it")
    shot(owner, "care-plan-draft-desktop")
    plan.get_by_role("button", name="Share with client").click()
    expect(owner.locator("p.success")).to_contain_text("is shared with Robin Hart")

    # The library: a task template and a program with a day-0 module.
    nav(owner, "Library")
    form = section(owner, "New program")
    form.get_by_label("Program title").fill("Better sleep")
    form.get_by_label("Module 1: title").fill("Welcome to the program")
    form.get_by_label("Module 1: text (Markdown)").fill("Read this **today**.")
    form.get_by_label("Module 1: task to do").fill("Set a bedtime alarm")
    form.get_by_role("button", name="Create program").click()
    expect(owner.get_by_role("article", name="Better sleep")).to_contain_text("1 modules")
    templates = section(owner, "Task templates")
    templates.get_by_label("Title").fill("Drink a glass of water")
    templates.get_by_label("Repeat").select_option(label="Every day")
    templates.get_by_role("button", name="Add task template").click()
    expect(owner.get_by_role("list", name="Task templates")).to_contain_text(
        "Drink a glass of water")
    shot(owner, "library-desktop")

    # Enrol the client from their profile.
    owner.goto(client_url)
    tab(owner, "Programs")
    owner.get_by_label("Program", exact=True).select_option(label="Better sleep")
    owner.get_by_role("button", name="Enrol").click()
    card = owner.get_by_role("article", name=re.compile("Better sleep"))
    expect(card.locator(".module-list")).to_contain_text("Welcome to the program")
    shot(owner, "client-programs-desktop")

    # The client, on a phone: Today.
    client = pages.new(viewport=PHONE)
    accept_invitation(client, invitation_link(mailbox, email))
    nav(client, "Today")
    expect(client.get_by_role("heading", name="Today")).to_be_visible()
    tasks = client.get_by_role("list", name="Tasks")
    expect(tasks).to_contain_text("Set a bedtime alarm")
    modules = client.get_by_role("list", name="Program modules")
    expect(modules).to_contain_text("Welcome to the program")
    expect(modules.locator("strong")).to_have_text("today")
    expect(client.get_by_role("list", name="Goals")).to_contain_text("Walk 8,000 steps a day")
    fits(client)
    shot(client, "today-phone")

    client.get_by_role("button", name="Done: Set a bedtime alarm").click()
    expect(client.locator("p.success")).to_have_text("Done: Set a bedtime alarm")
    client.get_by_role("button", name="Done with a note: Walk after lunch").click()
    client.get_by_label("Note for your team (optional)").fill("20 minutes by the river")
    client.get_by_role("button", name="Mark done", exact=True).click()
    expect(client.locator("p.success")).to_have_text("Done: Walk after lunch")
    client.get_by_role("button", name="Mark done: Welcome to the program").click()
    expect(client.locator("p.success")).to_have_text("Done: Welcome to the program")
    expect(client.get_by_role("list", name="Program modules")).to_have_count(0)
    # A goal on steps takes what the client logs: no separate check-in.
    client.get_by_label("Log for Walk 8,000 steps a day").fill("8200")
    client.get_by_role("button", name="Log: Walk 8,000 steps a day").click()
    expect(client.locator("p.success")).to_have_text("Goal met: Walk 8,000 steps a day")

    # Tomorrow's walk is not on Today; the shared plan is.
    expect(client.get_by_role("list", name="Tasks")).to_have_count(0)
    expect(client.get_by_text("Nothing due today.")).to_be_visible()
    client.get_by_role("list", name="Care plans").get_by_role("link", name="Sleep plan").click()
    expect(client.get_by_role("heading", level=1, name="Sleep plan")).to_be_visible()
    expect(client.locator(".care-plan-page strong")).to_have_text("first")
    assert client.evaluate("() => window.pwned") is None
    fits(client)
    shot(client, "care-plan-phone")
    client.emulate_media(media="print")
    expect(client.locator(".topbar")).to_be_hidden()
    expect(client.get_by_role("button", name="Print")).to_be_hidden()
    expect(client.get_by_role("heading", level=1, name="Sleep plan")).to_be_visible()
    shot(client, "care-plan-print")
    client.emulate_media(media="screen")

    # The team sees it all: the check-offs (with the note), the next walk, the moments in the
    # chat.
    owner.goto(client_url + "?tab=tasks")
    tasks = owner.get_by_role("list", name="Tasks of Robin Hart")
    expect(tasks).to_contain_text("“20 minutes by the river”")
    expect(tasks.locator("li", has_text="Walk after lunch")).to_have_count(2)
    tab(owner, "Programs")
    card = owner.get_by_role("article", name=re.compile("Better sleep"))
    expect(card).to_contain_text("1 done, 0 to do, 0 late, 0 upcoming")
    expect(card.locator(".module-list .state-done")).to_have_text("Done")
    nav(owner, "Chats")
    open_thread(owner, "Robin Hart")
    log = owner.locator(".events")
    for words in ["assigned the task “Walk after lunch”", "set a goal: “Walk 8,000 steps a day”",
                  "shared the care plan “Sleep plan”", "Better sleep, day 0",
                  "completed “Set a bedtime alarm”",
                  "completed “Walk after lunch”: “20 minutes by the river”",
                  "Goal met: “Walk 8,000 steps a day”",
                  "finished “Welcome to the program”"]:
        expect(log).to_contain_text(words)
    shot(owner, "care-chat-desktop")


def test_a_draft_plan_is_not_the_clients_to_open(pages: Any, mailbox: Mailbox) -> None:
    owner = pages.new()
    sign_up(owner, practice="Drafts Practice")
    email = unique_email("client")
    add_client(owner, "Dana Draft", email)
    tab(owner, "Care plan")
    owner.get_by_role("button", name="New care plan").click()
    owner.get_by_label("Title", exact=True).fill("Not yet")
    owner.get_by_role("button", name="Save draft").click()
    plan = owner.get_by_role("article", name="Not yet")
    plan.get_by_role("link", name="Print view").click()
    expect(owner.get_by_role("heading", level=1, name="Not yet")).to_be_visible()
    plan_url = owner.url
    client = pages.new(viewport=PHONE)
    accept_invitation(client, invitation_link(mailbox, email))
    client.goto(plan_url)
    expect(client.get_by_role("alert")).to_contain_text("No such care plan")
    nav(client, "Today")
    expect(client.get_by_text("Nothing due today.")).to_be_visible()
    expect(client.get_by_role("list", name="Care plans")).to_have_count(0)


def test_a_whole_group_is_enrolled_from_the_library(pages: Any, app_server: Any,
                                                    shot: Any) -> None:
    owner = pages.new()
    sign_up(owner, practice="Cohort Practice")
    with api(owner, app_server.url) as http:
        group = http.post("/groups", json={"name": "Spring cohort"}).json()["group"]
        for name in ("Ana Lima", "Ben Okafor"):
            http.post("/clients", json={"name": name, "group_id": group["id"],
                                        "send_invite": False}).raise_for_status()
        http.post("/clients", json={"name": "Chen Wu", "send_invite": False}).raise_for_status()
        http.post("/programs", json={"title": "Move more", "modules": [
            {"day": 0, "title": "Start walking", "body": "Ten minutes today."}]}
        ).raise_for_status()
    nav(owner, "Library")
    card = owner.get_by_role("article", name="Move more", exact=True)
    card.get_by_role("button", name="Modules and progress").click()
    enrol = card.get_by_role("form", name="Enrol a group in Move more")
    enrol.get_by_label("Enrol a group").select_option(label="Spring cohort")
    enrol.get_by_role("button", name="Enrol group").click()
    expect(enrol.get_by_role("status")).to_have_text("Enrolled 2 clients.")
    expect(card.get_by_role("article", name="Move more for Ana Lima")).to_be_visible()
    expect(card.get_by_role("article", name="Move more for Ben Okafor")).to_be_visible()
    expect(card.get_by_role("article", name="Move more for Chen Wu")).to_have_count(0)
    shot(owner, "library-enrol-group-desktop")
    # Again: both are already in it, nobody is enrolled twice.
    enrol.get_by_role("button", name="Enrol group").click()
    expect(enrol.get_by_role("status")).to_have_text("Enrolled 0 clients (2 already enrolled).")
