"""Appointments in the web client: a provider sets hours and a type on the calendar screen and
books for a client from the profile; the card in the care chat (join, reschedule, cancel);
a client's "Book" flow on a phone; the public booking page for someone new."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.ui import (
    PHONE,
    api,
    fits,
    nav,
    open_thread,
    practice_with_client,
    section,
    unique_email,
)
from tests.mailbox import Mailbox

ALL_WEEK = [{"day": d, "start": "08:00", "end": "20:00"} for d in range(7)]


def _calendar_with_appointment(page: Any) -> Any:
    """The week that holds the booked appointment (it may be next week)."""
    for _ in range(3):
        expect(page.locator(".week[data-loaded='true']")).to_be_visible()
        found = page.locator(".cal-appt.booked")
        # Wait a little for it: right after "Next week" the previous week may still show as
        # loaded, and counting at once would skip the week that holds the appointment.
        try:
            expect(found.first).to_be_visible(timeout=2000)
            return found.first
        except AssertionError:
            page.get_by_role("button", name="Next week").click()
    raise AssertionError("the booked appointment is not on the calendar")


def test_a_provider_sets_hours_and_books_from_the_client_profile_and_the_client_cancels(
    pages: Any, mailbox: Mailbox, shot: Any
) -> None:
    owner, client = practice_with_client(pages, mailbox, client="Robin Hart")
    nav(owner, "Calendar")
    hours = section(owner, "Working hours")
    hours.get_by_label("Time zone").fill("UTC")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        hours.get_by_role("checkbox", name=day).check()
    hours.get_by_role("button", name="Save hours").click()
    expect(hours.get_by_role("status")).to_have_text("Hours saved.")

    types = section(owner, "Appointment types")
    types.get_by_label("Name").fill("Follow-up")
    types.get_by_label("Minutes", exact=True).fill("45")
    types.get_by_label("Notice (hours)").fill("2")
    types.get_by_label("Cancel until (hours before)").fill("0")
    types.get_by_role("button", name="Add type").click()
    expect(types.get_by_role("listitem").filter(has_text="Follow-up")).to_contain_text(
        "45 minutes · Video call")
    settings = section(owner, "Booking settings")
    settings.get_by_label("Video meeting address").fill(
        "https://meet.example.org/sunrise-{appointment_id}")
    settings.get_by_role("button", name="Save settings").click()
    expect(settings.get_by_role("status")).to_have_text("Saved.")

    nav(owner, "Clients")
    owner.get_by_role("link", name="Robin Hart").click()
    owner.get_by_role("link", name="Book appointment").click()
    expect(owner.get_by_role("heading", name="Book for Robin Hart")).to_be_visible()
    free = owner.get_by_role("group", name="Free times", exact=True)
    first_slot = free.get_by_role("button").first
    start = first_slot.get_attribute("data-start")
    first_slot.click()
    shot(owner, "appointment-book-for-client-desktop")
    owner.get_by_role("region", name="Confirm").get_by_role("button", name="Book").click()
    expect(owner.get_by_role("heading", name="Appointment booked")).to_be_visible()
    expect(owner.locator(".booked-summary")).to_contain_text("Follow-up with Olivia Owner")

    nav(owner, "Calendar")
    appointment = _calendar_with_appointment(owner)
    expect(appointment).to_contain_text("Robin Hart")
    expect(appointment).to_contain_text("Follow-up")
    shot(owner, "appointment-calendar-desktop")

    # The client sees the card in the care chat, with join, reschedule and cancel.
    open_thread(client, "Your care team")
    card = client.locator("li[data-kind='appointment.booked']")
    expect(card).to_contain_text("Follow-up with Olivia Owner")
    expect(card.get_by_role("link", name="Join")).to_have_attribute(
        "href", re.compile(r"^https://meet\.example\.org/sunrise-"))
    expect(card.get_by_role("link", name="Reschedule")).to_be_visible()
    shot(client, "appointment-chat-card-desktop")
    card.get_by_role("button", name="Cancel").click()
    card.get_by_label("Reason (optional)").fill("Travelling that week")
    card.get_by_role("button", name="Cancel appointment").click()
    expect(card).to_contain_text("Appointment · cancelled")
    expect(card.get_by_role("link", name="Join")).to_have_count(0)
    line = client.locator("li[data-kind='appointment.cancelled']")
    expect(line).to_contain_text("cancelled the appointment")
    expect(line).to_contain_text("Travelling that week")
    # The team sees it live in the same chat.
    nav(owner, "Chats")
    open_thread(owner, "Robin Hart")
    expect(owner.locator("li[data-kind='appointment.cancelled']")).to_contain_text(
        "Robin Hart cancelled")
    with api(owner, pages.base_url) as http:
        listed = http.get("/appointments").json()["appointments"]
    assert [(a["start"], a["status"]) for a in listed] == [(start, "cancelled")]


def test_a_client_books_on_a_phone_and_reschedules(
    pages: Any, mailbox: Mailbox, shot: Any
) -> None:
    owner, desktop_client = practice_with_client(pages, mailbox, client="Kim Lee")
    with api(owner, pages.base_url) as http:
        me = http.get("/me").json()["user"]
        http.put(f"/providers/{me['id']}/availability",
                 json={"time_zone": "UTC", "weekly": ALL_WEEK}).raise_for_status()
        for name in ("Check-in", "Nutrition session"):
            http.post("/appointment-types", json={
                "name": name, "minutes": 30, "location": "phone",
                "min_notice_minutes": 60}).raise_for_status()
    phone = pages.new(PHONE)
    phone.context.add_cookies(desktop_client.context.cookies())
    phone.goto("/#/appointments")
    expect(phone.get_by_role("heading", name="Appointments")).to_be_visible()
    expect(phone.get_by_text("No upcoming appointments.")).to_be_visible()
    phone.get_by_role("link", name="Book", exact=True).click()
    types = phone.get_by_role("group", name="Appointment type")
    types.get_by_role("button", name=re.compile("Nutrition session")).click()
    days = phone.get_by_role("group", name="Days with free times")
    days.get_by_role("button").nth(1).click()
    shot(phone, "appointment-book-phone")
    fits(phone)
    slot = phone.get_by_role("group", name="Free times", exact=True).get_by_role("button").nth(2)
    start = slot.get_attribute("data-start")
    slot.click()
    confirm = phone.get_by_role("region", name="Confirm")
    expect(confirm).to_contain_text("Nutrition session")
    shot(phone, "appointment-confirm-phone")
    confirm.get_by_role("button", name="Book").click()
    expect(phone.get_by_role("heading", name="Appointment booked")).to_be_visible()
    shot(phone, "appointment-booked-phone")
    fits(phone)

    phone.get_by_role("link", name="My appointments").click()
    item = phone.locator(".appt-card")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Nutrition session")
    item.get_by_role("link", name="Reschedule").click()
    expect(phone.get_by_role("heading", name="Move appointment")).to_be_visible()
    # The second day with free times is a whole day; the first may be today's last hours.
    phone.get_by_role("group", name="Days with free times").get_by_role("button").nth(1).click()
    other = phone.get_by_role("group", name="Free times", exact=True).get_by_role("button").nth(4)
    new_start = other.get_attribute("data-start")
    other.click()
    phone.get_by_label("Reason (optional)").fill("Clashes with work")
    phone.get_by_role("button", name="Move to this time").click()
    expect(phone.get_by_role("heading", name="Appointment moved")).to_be_visible()
    with api(desktop_client, pages.base_url) as http:
        [mine] = http.get("/appointments").json()["appointments"]
    assert mine["start"] == new_start != start
    # The move is a line in the care chat.
    phone.goto("/#/")
    open_thread(phone, "Your care team")
    moved = phone.locator("li[data-kind='appointment.rescheduled']")
    expect(moved).to_contain_text("moved the appointment")
    expect(moved).to_contain_text("Clashes with work")
    shot(phone, "appointment-chat-phone")


def test_someone_new_books_a_discovery_call_on_the_public_page(
    pages: Any, mailbox: Mailbox, shot: Any
) -> None:
    owner, _ = practice_with_client(pages, mailbox, practice="Meadow Nutrition")
    with api(owner, pages.base_url) as http:
        me = http.get("/me").json()["user"]
        http.put(f"/providers/{me['id']}/availability",
                 json={"time_zone": "Europe/Berlin", "weekly": ALL_WEEK}).raise_for_status()
        http.post("/appointment-types", json={
            "name": "Discovery call", "minutes": 20, "location": "phone",
            "bookable_by": "public", "slot_interval": 30}).raise_for_status()
        http.post("/groups", json={"name": "Prospects", "kind": "prospective"}
                  ).raise_for_status()
    nav(owner, "Calendar")
    booking = section(owner, "Booking settings")
    booking.get_by_role("button", name="Turn on").click()
    link = booking.locator("a.booking-url")
    expect(link).to_have_text(re.compile(r"/book/"))
    url = link.inner_text()

    for viewport, name in ((None, "desktop"), (PHONE, "phone")):
        visitor = pages.new(viewport)
        visitor.goto(url)
        expect(visitor.get_by_role("heading", name="Book with Meadow Nutrition")).to_be_visible()
        expect(visitor.get_by_text("Discovery call")).to_be_visible()
        # The second day with free times is a whole day; the first may be today's last hours.
        visitor.get_by_role("group", name="Days with free times").get_by_role("button").nth(
            1).click()
        slots = visitor.get_by_role("group", name="Free times", exact=True).get_by_role("button")
        slots.nth(1 if name == "desktop" else 3).click()
        email = unique_email("prospect")
        visitor.get_by_label("Your name").fill(f"Pat {name.title()}")
        visitor.get_by_label("Email").fill(email)
        shot(visitor, f"appointment-public-page-{name}")
        fits(visitor)
        visitor.get_by_role("button", name="Book this time").click()
        expect(visitor.get_by_role("heading", name="You're booked")).to_be_visible()
        expect(visitor.get_by_text(email)).to_be_visible()
        shot(visitor, f"appointment-public-booked-{name}")
        mail = mailbox.wait_for_sync(email, lambda m: m.subject.startswith(
            "Appointment confirmed"))
        assert mail.attachments and mail.attachments[0].content_type == "text/calendar"

    nav(owner, "Clients")
    expect(owner.get_by_role("link", name="Pat Desktop")).to_be_visible()
    expect(owner.get_by_role("link", name="Pat Phone")).to_be_visible()
    with api(owner, pages.base_url) as http:
        prospects = [c for c in http.get("/clients").json()["clients"]
                     if c["name"].startswith("Pat ")]
    assert {c["group"]["name"] for c in prospects} == {"Prospects"}
    # A link that was reset no longer works.
    nav(owner, "Calendar")
    booking.get_by_role("button", name="New link").click()
    expect(link).not_to_have_text(url)
    stale = pages.new()
    stale.goto(url)
    expect(stale.get_by_role("heading", name="Booking link not valid")).to_be_visible()


def test_hours_keep_a_lunch_break_and_exceptions_and_a_type_asks_for_a_form(
    pages: Any, mailbox: Mailbox, shot: Any
) -> None:
    owner, client = practice_with_client(pages, mailbox, client="Ada Stone")
    with api(owner, pages.base_url) as http:
        me = http.get("/me").json()["user"]
        form = http.post("/forms", json={"title": "Pre-visit check-in", "items": [
            {"id": "goal", "type": "short_text", "text": "What brings you?", "required": True}]})
        assert form.status_code == 201, form.text
    nav(owner, "Calendar")
    hours = section(owner, "Working hours")
    hours.get_by_label("Time zone").fill("Europe/Berlin")
    hours.get_by_role("checkbox", name="Monday").check()
    hours.get_by_label("Monday from", exact=True).fill("09:00")
    hours.get_by_label("Monday until", exact=True).fill("12:00")
    hours.get_by_role("button", name="Add hours on Monday").click()
    hours.get_by_label("Monday from (2)").fill("13:00")
    hours.get_by_label("Monday until (2)").fill("17:30")
    for day in ("Tuesday", "Wednesday", "Thursday", "Friday"):
        hours.get_by_role("checkbox", name=day).check()
    hours.get_by_label("Date").fill("2030-06-03")
    hours.get_by_label("What").select_option(label="Extra hours")
    hours.get_by_label("From", exact=True).fill("18:00")
    hours.get_by_label("Until", exact=True).fill("20:00")
    hours.get_by_role("button", name="Add", exact=True).click()
    hours.get_by_label("Date").fill("2030-06-04")
    hours.get_by_label("What").select_option(label="Day off")
    hours.get_by_role("button", name="Add", exact=True).click()
    expect(hours.get_by_role("list", name="Exceptions").get_by_role("listitem")).to_have_count(2)
    shot(owner, "appointment-hours-desktop")
    hours.get_by_role("button", name="Save hours").click()
    expect(hours.get_by_role("status")).to_have_text("Hours saved.")
    with api(owner, pages.base_url) as http:
        saved = http.get(f"/providers/{me['id']}/availability").json()["availability"]
    assert [(w["day"], w["start"], w["end"]) for w in saved["weekly"]][:2] == [
        (0, "09:00", "12:00"), (0, "13:00", "17:30")]
    assert saved["exceptions"] == [
        {"date": "2030-06-03", "available": True, "start": "18:00", "end": "20:00"},
        {"date": "2030-06-04", "available": False}]
    # Opened again, the editor shows everything the server holds (saving keeps it all).
    owner.reload()
    hours = section(owner, "Working hours")
    expect(hours.get_by_label("Monday until (2)")).to_have_value("17:30")
    expect(hours.get_by_role("list", name="Exceptions").get_by_role("listitem")).to_have_count(2)
    hours.get_by_role("list", name="Exceptions").get_by_role("listitem").filter(
        has_text="day off").get_by_role("button", name=re.compile("^Remove")).click()
    hours.get_by_role("button", name="Save hours").click()
    expect(hours.get_by_role("status")).to_have_text("Hours saved.")
    with api(owner, pages.base_url) as http:
        saved = http.get(f"/providers/{me['id']}/availability").json()["availability"]
    assert len(saved["weekly"]) == 6 and len(saved["exceptions"]) == 1

    # A type with buffers and a form asked for on booking.
    types = section(owner, "Appointment types")
    types.get_by_label("Name").fill("First session")
    types.get_by_label("Minutes", exact=True).fill("60")
    types.get_by_label("Notice (hours)").fill("0")
    types.get_by_text("More options").click()
    types.get_by_label("Free after (minutes)").fill("15")
    types.get_by_role("checkbox", name="Pre-visit check-in").check()
    types.get_by_role("button", name="Add type").click()
    expect(types.get_by_role("listitem").filter(has_text="First session")).to_contain_text(
        "1 form on booking")
    # Changed later: five minutes free before it too.
    types.get_by_role("button", name="Change First session").click()
    change = owner.get_by_role("form", name="Change First session")
    expect(change.get_by_label("Free after (minutes)")).to_have_value("15")
    change.get_by_label("Free before (minutes)").fill("5")
    change.get_by_role("button", name="Save type").click()
    expect(change).to_have_count(0)
    expect(types.get_by_role("listitem").filter(has_text="First session")).to_contain_text(
        "5/15 min free")
    # Booked for the client, the form arrives in the care chat with the booking.
    nav(owner, "Clients")
    owner.get_by_role("link", name="Ada Stone").click()
    owner.get_by_role("link", name="Book appointment").click()
    owner.get_by_role("group", name="Free times", exact=True).get_by_role("button").first.click()
    owner.get_by_role("region", name="Confirm").get_by_role("button", name="Book").click()
    expect(owner.get_by_role("heading", name="Appointment booked")).to_be_visible()
    open_thread(client, "Your care team")
    expect(client.locator("li[data-kind='appointment.booked']")).to_contain_text("First session")
    expect(client.locator("li[data-kind='form.requested']")).to_contain_text("Pre-visit check-in")
