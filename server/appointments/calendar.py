"""iCalendar (RFC 5545) for appointments, with the icalendar library: the attachment of a
confirmation email and a user's feed. No health details: summaries name the practice (and,
for the provider, the client's first name); types and reasons stay out."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from typing import Any

from icalendar import Calendar, Event

from server import clock
from server.appointments.views import AppointmentView
from server.settings import Settings

PRODID = "-//Carethread//Appointments//EN"
LOCATION_WORDS = {"video": "video call", "in_person": "in person", "phone": "phone call"}


def spoken_time(when: datetime, tz_name: str) -> str:
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    local = when.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} ({tz_name})"


def _uid(appointment_id: uuid.UUID | str) -> str:
    return f"{appointment_id}@carethread"


def _event(settings: Settings, row: dict[str, Any], summary: str, *, cancelled: bool
           ) -> Event:
    event = Event()
    event.add("uid", _uid(row["id"]))
    event.add("dtstamp", clock.now())
    event.add("dtstart", row["starts_at"])
    event.add("dtend", row["ends_at"])
    event.add("sequence", row["sequence"])
    event.add("summary", summary)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    description = f"{LOCATION_WORDS.get(row['location'], row['location'])}."
    if row["video_url"] and not cancelled:
        event.add("location", row["video_url"])
        event.add("url", row["video_url"])
        description += f" Join: {row['video_url']}"
    description += f"\nOpen Carethread: {settings.base_url}/#/appointments"
    event.add("description", description)
    return event


def _calendar(method: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    return cal


def invitation(settings: Settings, row: dict[str, Any], practice_name: str,
               provider_name: str, *, cancelled: bool = False) -> str:
    """The .ics of one appointment for the client's email (REQUEST, or CANCEL)."""
    cal = _calendar("CANCEL" if cancelled else "REQUEST")
    cal.add_component(_event(settings, row, f"Appointment with {provider_name} "
                                            f"({practice_name})", cancelled=cancelled))
    return str(cal.to_ical().decode())


def feed(settings: Settings, rows: list[dict[str, Any]], views: list[AppointmentView],
         practice_name: str, *, owner: uuid.UUID) -> bytes:
    cal = _calendar()
    cal.add("x-wr-calname", f"{practice_name} appointments")
    for row, view in zip(rows, views, strict=True):
        if row["provider"] == owner:
            first = (view.client_name or "client").split()[0]
            summary = f"Appointment with {first}"
        else:
            summary = f"Appointment with {view.provider_name} ({practice_name})"
        cal.add_component(_event(settings, row, summary, cancelled=row["status"] != "booked"))
    return bytes(cal.to_ical())
