"""Appointments: a practice defines a type, a provider sets hours, clients book, move and cancel
their own; the team books for its clients; every moment is an event in the care thread; a
confirmation email carries an .ics; nobody holds one provider's time twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from icalendar import Calendar

from tests.appointments_helpers import book, free_slots, iso, new_type, set_hours
from tests.conftest import Server, app_client
from tests.forms_helpers import new_form
from tests.helpers import (
    accept,
    add_client,
    all_events,
    invite_staff,
    new_practice,
    unique_email,
)
from tests.mailbox import Mailbox


async def test_a_client_books_moves_and_cancels_their_own_appointment(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http, "Harbor Health")
    await http.patch("/appointment-settings", headers=owner.headers, json={
        "meeting_url_template": "https://meet.example.org/harbor-{appointment_id}"})
    provider = await invite_staff(http, mailbox, owner, name="Dana Doctor")
    intake = await new_form(http, owner, "Before your first visit")
    kind = await new_type(http, owner, name="First visit", minutes=50, buffer_after=10,
                          slot_interval=60, form_ids=[intake["id"]], cancel_notice_minutes=60)
    await set_hours(http, provider, provider.id)
    email = unique_email("client")
    client = await add_client(http, provider, name="Robin Hart", email=email,
                              timezone="Europe/Berlin")
    robin = await accept(http, (await mailbox.wait_for(email)).token)

    resp = await http.get("/appointment-types", headers=robin.headers)
    assert [t["name"] for t in resp.json()["appointment_types"]] == ["First visit"]
    resp = await http.get("/providers/bookable", headers=robin.headers)
    assert [p["name"] for p in resp.json()["providers"]] == ["Dana Doctor"]
    slots = await free_slots(http, robin, provider.id, kind["id"])
    assert slots and all(s["start"].endswith(":00:00Z") for s in slots)
    first = slots[0]
    assert (datetime.fromisoformat(first["end"]) - datetime.fromisoformat(first["start"])
            == timedelta(minutes=50))

    resp = await book(http, robin, provider.id, kind["id"], first["start"])
    assert resp.status_code == 201, resp.text
    booked = resp.json()["appointment"]
    assert booked["status"] == "booked" and booked["client_id"] == robin.id
    assert booked["video_url"] == f"https://meet.example.org/harbor-{booked['id']}"
    # The slot is gone for everyone; the same slot again is taken.
    assert first not in await free_slots(http, robin, provider.id, kind["id"])
    again = await book(http, robin, provider.id, kind["id"], first["start"])
    assert again.status_code == 409 and again.json()["code"] == "slot_taken"

    thread = client["care_thread_id"]
    events = await all_events(http, robin, thread)
    kinds = [e["kind"] for e in events]
    assert "appointment.booked" in kinds and "form.requested" in kinds
    card = next(e for e in events if e["kind"] == "appointment.booked")
    assert card["data"]["appointment_id"] == booked["id"]
    assert card["data"]["start"] == first["start"]
    assert card["actor_id"] == robin.id
    request = next(e for e in events if e["kind"] == "form.requested")
    assert request["data"]["form_title"] == "Before your first visit"
    assert kinds.index("appointment.booked") < kinds.index("form.requested")

    mail = await mailbox.wait_for(email, count=2)
    assert mail.subject.startswith("Appointment confirmed")
    assert "Dana Doctor" in mail.body and booked["video_url"] in mail.body
    assert "First visit" not in mail.body + mail.subject  # no type (health) details
    [ics] = mail.attachments
    assert ics.content_type == "text/calendar" and ics.filename == "appointment.ics"
    [event] = Calendar.from_ical(ics.text).walk("VEVENT")
    assert event["UID"] == f"{booked['id']}@carethread"
    assert event.decoded("DTSTART") == datetime.fromisoformat(first["start"])

    later = slots[3]["start"]
    resp = await http.post(f"/appointments/{booked['id']}/reschedule",
                           json={"start": later, "reason": "A meeting came up"},
                           headers=robin.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["appointment"]["start"] == later
    moved = await mailbox.wait_for(email, count=3)
    assert moved.subject.startswith("Appointment moved")
    assert "SEQUENCE:1" in moved.attachments[0].text
    # The old time is free again.
    assert first in await free_slots(http, robin, provider.id, kind["id"])

    resp = await http.post(f"/appointments/{booked['id']}/cancel",
                           json={"reason": "Feeling better"}, headers=robin.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["appointment"]["status"] == "cancelled"
    gone = await mailbox.wait_for(email, count=4)
    assert gone.subject.startswith("Appointment cancelled")
    assert "METHOD:CANCEL" in gone.attachments[0].text
    resp = await http.post(f"/appointments/{booked['id']}/cancel", json={},
                           headers=robin.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "not_booked"

    events = await all_events(http, provider, thread)
    moved_ev = next(e for e in events if e["kind"] == "appointment.rescheduled")
    assert moved_ev["data"]["from"] == first["start"] and moved_ev["data"]["start"] == later
    assert moved_ev["data"]["reason"] == "A meeting came up"
    cancelled = next(e for e in events if e["kind"] == "appointment.cancelled")
    assert cancelled["data"]["reason"] == "Feeling better"

    # The provider's calendar and the client's list show it, cancelled.
    resp = await http.get("/appointments", params={"provider_id": provider.id},
                          headers=provider.headers)
    assert [(a["id"], a["status"]) for a in resp.json()["appointments"]] == [
        (booked["id"], "cancelled")]
    resp = await http.get("/appointments", headers=robin.headers)
    assert [a["id"] for a in resp.json()["appointments"]] == [booked["id"]]


async def test_the_team_books_for_a_client_they_may_see_and_others_get_404(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    dana = await invite_staff(http, mailbox, owner, name="Dana Doctor")
    sam = await invite_staff(http, mailbox, owner, name="Sam Second")
    kind = await new_type(http, owner, bookable_by="team", location="in_person")
    await set_hours(http, dana, dana.id)
    client = await add_client(http, dana, name="Kim Lee")  # no email: no mail to send
    slots = await free_slots(http, dana, dana.id, kind["id"])

    # Sam is not on Kim's care team: Kim does not exist for Sam.
    resp = await book(http, sam, dana.id, kind["id"], slots[0]["start"], client["id"])
    assert resp.status_code == 404
    resp = await book(http, dana, dana.id, kind["id"], slots[0]["start"])
    assert resp.status_code == 400 and resp.json()["code"] == "validation_error"

    resp = await book(http, dana, dana.id, kind["id"], slots[0]["start"], client["id"])
    assert resp.status_code == 201, resp.text
    appointment = resp.json()["appointment"]
    assert appointment["video_url"] is None and appointment["location"] == "in_person"
    resp = await http.get(f"/appointments/{appointment['id']}", headers=sam.headers)
    assert resp.status_code == 404
    resp = await http.post(f"/appointments/{appointment['id']}/cancel", json={},
                           headers=sam.headers)
    assert resp.status_code == 404
    # The team may book inside the notice: a team-only type with 2 days' notice still offers
    # tomorrow to the team.
    quick = await new_type(http, owner, name="Check-in", bookable_by="team",
                           min_notice_minutes=2 * 24 * 60)
    assert await free_slots(http, dana, dana.id, quick["id"], days_ahead=0.5, span_days=1)

    events = await all_events(http, dana, client["care_thread_id"])
    assert [e["actor_id"] for e in events if e["kind"] == "appointment.booked"] == [dana.id]


async def test_a_client_cannot_cancel_inside_the_notice_window_but_the_team_can(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    kind = await new_type(http, owner, cancel_notice_minutes=3 * 24 * 60)
    await set_hours(http, provider, provider.id)
    email = unique_email("client")
    await add_client(http, provider, email=email)
    client = await accept(http, (await mailbox.wait_for(email)).token)
    slots = await free_slots(http, client, provider.id, kind["id"], days_ahead=1)
    resp = await book(http, client, provider.id, kind["id"], slots[0]["start"])
    assert resp.status_code == 201, resp.text
    appointment = resp.json()["appointment"]
    for action, body in (("cancel", {}), ("reschedule", {"start": slots[2]["start"]})):
        resp = await http.post(f"/appointments/{appointment['id']}/{action}", json=body,
                               headers=client.headers)
        assert resp.status_code == 409 and resp.json()["code"] == "cancellation_window"
    resp = await http.post(f"/appointments/{appointment['id']}/cancel",
                           json={"reason": "Provider is ill"}, headers=provider.headers)
    assert resp.status_code == 200 and resp.json()["appointment"]["status"] == "cancelled"


async def test_twenty_parallel_bookings_of_one_slot_across_two_processes_one_wins(
    http: httpx.AsyncClient, mailbox: Mailbox, server: Server, start_server: object
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    kind = await new_type(http, owner, minutes=30, buffer_before=15, bookable_by="team")
    await set_hours(http, provider, provider.id)
    clients = [await add_client(http, owner, name=f"Client {i}") for i in range(20)]
    slots = await free_slots(http, owner, provider.id, kind["id"])
    starts = {datetime.fromisoformat(s["start"]) for s in slots}
    # One whose half hour after is a slot too (not past the end of the day: at 22:16 UTC the
    # fifth slot's was, and that booking was refused as outside hours, not as taken).
    slot = next(s for s in slots[4:]
                if datetime.fromisoformat(s["start"]) + timedelta(minutes=30) in starts)
    other = start_server()  # type: ignore[operator]
    async with app_client(other.url) as http2:
        results = await asyncio.gather(*[
            book(http if i % 2 else http2, owner, provider.id, kind["id"], slot["start"],
                 c["id"]) for i, c in enumerate(clients)])
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 19, [r.text for r in results if r.status_code >= 500]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"slot_taken"}
    # A slot overlapping it through the buffer is taken too (15 minutes later).
    overlapping = iso(datetime.fromisoformat(slot["start"]) + timedelta(minutes=30))
    resp = await http.get("/appointments", params={"provider_id": provider.id},
                          headers=owner.headers)
    assert len(resp.json()["appointments"]) == 1
    resp = await book(http, owner, provider.id, kind["id"], overlapping, clients[0]["id"])
    assert resp.status_code == 409 and resp.json()["code"] == "slot_taken"


async def test_a_calendar_feed_lists_the_callers_appointments_until_it_is_reset(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http, "Feed Practice")
    provider = await invite_staff(http, mailbox, owner, name="Fran Feed")
    kind = await new_type(http, owner)
    await set_hours(http, provider, provider.id, time_zone="Europe/Berlin")
    client = await add_client(http, provider, name="Alex Stone")
    slots = await free_slots(http, provider, provider.id, kind["id"])
    resp = await book(http, provider, provider.id, kind["id"], slots[1]["start"], client["id"])
    assert resp.status_code == 201
    appointment = resp.json()["appointment"]

    assert (await http.get("/me/calendar-feed", headers=provider.headers)).json() == {
        "active": False}
    resp = await http.post("/me/calendar-feed", headers=provider.headers)
    assert resp.status_code == 201
    url = resp.json()["url"]
    assert url.startswith("http://carethread.test/api/v1/appointments.ics?token=")
    token = url.split("token=")[1]
    resp = await http.get("/appointments.ics", params={"token": token})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(resp.content)
    [event] = cal.walk("VEVENT")
    assert event["UID"] == f"{appointment['id']}@carethread"
    assert str(event["SUMMARY"]) == "Appointment with Alex"
    assert event.decoded("DTSTART") == datetime.fromisoformat(slots[1]["start"])

    resp = await http.post("/me/calendar-feed", headers=provider.headers)
    assert (await http.get("/appointments.ics", params={"token": token})).status_code == 404
    new_token = resp.json()["url"].split("token=")[1]
    assert (await http.get("/appointments.ics", params={"token": new_token})).status_code == 200
    assert (await http.get("/appointments.ics", params={"token": ""})).status_code == 404
    assert (await http.get("/appointments.ics")).status_code == 400


async def test_availability_exceptions_and_who_may_set_hours(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    dana = await invite_staff(http, mailbox, owner)
    sam = await invite_staff(http, mailbox, owner)
    kind = await new_type(http, owner)
    day_off = (datetime.now(UTC) + timedelta(days=3)).astimezone().date()
    saved = await set_hours(http, owner, dana.id, time_zone="UTC", exceptions=[
        {"date": day_off.isoformat(), "available": False}])
    assert saved["exceptions"] == [{"date": day_off.isoformat(), "available": False}]
    slots = await free_slots(http, dana, dana.id, kind["id"], days_ahead=1, span_days=5)
    assert slots and not [s for s in slots if s["start"].startswith(day_off.isoformat())]
    resp = await http.put(f"/providers/{dana.id}/availability", headers=sam.headers,
                          json={"time_zone": "UTC", "weekly": []})
    assert resp.status_code == 403
    resp = await http.get(f"/providers/{dana.id}/availability", headers=sam.headers)
    assert resp.status_code == 200 and resp.json()["availability"]["time_zone"] == "UTC"
