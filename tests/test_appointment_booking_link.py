"""The public booking link: someone not yet a client picks a discovery-call slot and gives a
name and email; they become a prospective client with an invitation, the call is booked, and a
confirmation (with an .ics) is emailed. Reminders go out before appointments, once each, on the
jobs' clock, across two processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from icalendar import Calendar

from tests.appointments_helpers import book, free_slots, iso, new_type, set_hours
from tests.conftest import app_client
from tests.helpers import accept, add_client, all_events, invite_staff, new_practice, unique_email
from tests.mailbox import Mailbox


async def test_someone_new_books_a_discovery_call_through_the_public_link(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http, "Meadow Nutrition")
    provider = await invite_staff(http, mailbox, owner, name="Nora Nutri")
    resp = await http.post("/groups", json={"name": "Prospective clients",
                                            "kind": "prospective"}, headers=owner.headers)
    group = resp.json()["group"]
    discovery = await new_type(http, owner, name="Discovery call", minutes=20,
                               location="phone", bookable_by="public", slot_interval=30)
    await new_type(http, owner, name="Session", bookable_by="clients")
    await set_hours(http, provider, provider.id, time_zone="Europe/Berlin")
    resp = await http.patch("/appointment-settings", json={"booking_enabled": True},
                            headers=owner.headers)
    settings = resp.json()["settings"]
    code = settings["booking_code"]
    assert settings["booking_url"] == f"http://carethread.test/book/{code}"

    # The page, without a login.
    page = (await http.get(f"/booking/{code}")).json()
    assert page["organization"]["name"] == "Meadow Nutrition"
    assert [t["name"] for t in page["types"]] == ["Discovery call"]
    assert [p["name"] for p in page["providers"]] == ["Nora Nutri"]
    start = datetime.now(UTC) + timedelta(days=2)
    resp = await http.get(f"/booking/{code}/slots", params={
        "provider_id": provider.id, "type_id": discovery["id"], "from": iso(start),
        "to": iso(start + timedelta(days=2))})
    slots = resp.json()["slots"]
    assert len(slots) > 10

    email = unique_email("prospect")
    resp = await http.post(f"/booking/{code}", json={
        "provider_id": provider.id, "type_id": discovery["id"], "start": slots[0]["start"],
        "name": "Pat Prospect", "email": email.upper(), "time_zone": "America/Chicago"})
    assert resp.status_code == 201, resp.text
    booked = resp.json()
    assert booked["appointment"]["start"] == slots[0]["start"] and booked["email"] == email

    mails = [await mailbox.wait_for(email, count=n) for n in (1, 2)]
    invite = next(m for m in mails if "invited" in m.subject)
    confirmation = next(m for m in mails if m.subject.startswith("Appointment confirmed"))
    assert "(America/Chicago)" in confirmation.subject
    [event] = Calendar.from_ical(confirmation.attachments[0].text).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime.fromisoformat(slots[0]["start"])

    clients = (await http.get("/clients", headers=owner.headers)).json()["clients"]
    [pat] = [c for c in clients if c["email"] == email]
    assert pat["name"] == "Pat Prospect" and pat["group"]["id"] == group["id"]
    assert pat["primary_provider"]["id"] == provider.id and pat["invitation"] == "sent"
    assert pat["timezone"] == "America/Chicago"
    events = await all_events(http, provider, pat["care_thread_id"])
    card = next(e for e in events if e["kind"] == "appointment.booked")
    assert card["actor_id"] is None and card["data"]["type_name"] == "Discovery call"

    # The slot is taken; the same person again is already a client.
    resp = await http.post(f"/booking/{code}", json={
        "provider_id": provider.id, "type_id": discovery["id"], "start": slots[0]["start"],
        "name": "Someone Else", "email": unique_email("prospect")})
    assert resp.status_code == 409 and resp.json()["code"] == "slot_taken"
    resp = await http.post(f"/booking/{code}", json={
        "provider_id": provider.id, "type_id": discovery["id"], "start": slots[1]["start"],
        "name": "Pat Again", "email": email})
    assert resp.status_code == 409 and resp.json()["code"] == "email_taken"

    # Once they accept the invitation, the call is theirs to see.
    pat_user = await accept(http, invite.token)
    mine = (await http.get("/appointments", headers=pat_user.headers)).json()["appointments"]
    assert [a["id"] for a in mine] == [booked["appointment"]["id"]]

    # Only public types, valid codes and well-formed bodies.
    session = next(t for t in (await http.get("/appointment-types", headers=owner.headers)
                               ).json()["appointment_types"] if t["name"] == "Session")
    resp = await http.get(f"/booking/{code}/slots", params={
        "provider_id": provider.id, "type_id": session["id"]})
    assert resp.status_code == 404
    for body in ({"provider_id": provider.id, "type_id": discovery["id"],
                  "start": slots[2]["start"], "name": "N", "email": "not-an-email"},
                 {"provider_id": provider.id, "type_id": discovery["id"],
                  "start": slots[2]["start"], "name": "N", "email": unique_email(),
                  "time_zone": "Nowhere/Land"},
                 {"name": "N"}):
        resp = await http.post(f"/booking/{code}", json=body)
        assert resp.status_code == 400, resp.text
    resp = await http.post("/appointment-settings/booking-link", headers=owner.headers)
    assert resp.json()["settings"]["booking_code"] != code
    resp = await http.get(f"/booking/{code}")
    assert resp.status_code == 404 and resp.json()["code"] == "booking_link_invalid"
    resp = await http.patch("/appointment-settings", json={"booking_enabled": True},
                            headers=provider.headers)
    assert resp.status_code == 403


async def _reminders(mailbox: Mailbox, email: str) -> list[str]:
    return [m.subject for m in mailbox.to(email) if m.subject.startswith("Reminder")]


async def _wait_reminders(mailbox: Mailbox, email: str, count: int) -> list[str]:
    for _ in range(100):
        if len(await _reminders(mailbox, email)) >= count:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # a double send gets every chance to show itself
    return await _reminders(mailbox, email)


async def test_reminders_go_out_24h_and_1h_before_once_across_two_processes(
    http: httpx.AsyncClient, mailbox: Mailbox, start_server: object, tmp_path: Path
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner, name="Rhea Remind")
    kind = await new_type(http, owner)
    await set_hours(http, provider, provider.id)
    email = unique_email("client")
    client = await add_client(http, provider, name="Cal Client", email=email)
    cal = await accept(http, (await mailbox.wait_for(email)).token)
    slots = await free_slots(http, cal, provider.id, kind["id"], days_ahead=3)
    resp = await book(http, cal, provider.id, kind["id"], slots[0]["start"])
    assert resp.status_code == 201
    starts = datetime.fromisoformat(resp.json()["appointment"]["start"])
    dropped = (await book(http, cal, provider.id, kind["id"], slots[2]["start"])).json()
    await http.post(f"/appointments/{dropped['appointment']['id']}/cancel",
                    headers=cal.headers)

    clock = tmp_path / "clock-offset"
    clock.write_text("0")

    def at(moment: datetime) -> None:
        clock.write_text(str((moment - datetime.now(UTC)).total_seconds()))

    for _ in range(2):
        start_server(CLOCK_OFFSET_FILE=str(clock),  # type: ignore[operator]
                     APPOINTMENT_REMINDER_POLL_SECONDS="0.1")
    at(starts - timedelta(hours=25))
    await asyncio.sleep(1.0)
    assert await _reminders(mailbox, email) == []
    at(starts - timedelta(hours=23, minutes=50))
    [day_before] = await _wait_reminders(mailbox, email, 1)
    assert day_before.startswith("Reminder: appointment tomorrow")
    at(starts - timedelta(minutes=40))
    reminders = await _wait_reminders(mailbox, email, 2)
    assert len(reminders) == 2 and reminders[1].startswith("Reminder: appointment in an hour")
    at(starts + timedelta(hours=2))
    await asyncio.sleep(1.0)
    assert len(await _reminders(mailbox, email)) == 2

    events = await all_events(http, cal, client["care_thread_id"])
    reminded = [e["data"] for e in events if e["kind"] == "appointment.reminded"]
    assert [r["hours"] for r in reminded] == [24, 1]
    assert {r["appointment_id"] for r in reminded} == {resp.json()["appointment"]["id"]}


async def test_reminder_hours_are_a_practice_setting(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    resp = await http.get("/appointment-settings", headers=owner.headers)
    assert resp.json()["settings"]["reminder_hours"] == [24, 1]
    resp = await http.patch("/appointment-settings", json={"reminder_hours": [2, 48]},
                            headers=owner.headers)
    assert resp.json()["settings"]["reminder_hours"] == [48, 2]
    for bad in ({"reminder_hours": [-1]}, {"reminder_hours": [1, 2, 3, 4, 5, 6]},
                {"meeting_url_template": "javascript:alert(1)"}):
        resp = await http.patch("/appointment-settings", json=bad, headers=owner.headers)
        assert resp.status_code == 400, bad
    async with app_client(str(http.base_url).rsplit("/api/v1", 1)[0]) as stranger:
        assert (await stranger.get("/appointment-settings")).status_code == 401
