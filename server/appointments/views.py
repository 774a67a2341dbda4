"""What the appointment routes answer (docs/api.md §14), as msgspec Structs.

They exist so that `/schema/openapi.json` names every field of these answers, with `null`
where a field may be null; on the wire they are the same JSON objects as before. Times are
RFC 3339 strings in UTC (`...Z`), as the service formats them.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

from server.onboarding.service import Named

Location = Literal["video", "in_person", "phone"]
BookableBy = Literal["clients", "team", "public"]
Status = Literal["booked", "cancelled"]


class AppointmentTypeView(msgspec.Struct):
    """docs/api.md §14 **appointment_type**."""

    id: str
    name: str
    minutes: int
    location: Location
    buffer_before: int
    buffer_after: int
    min_notice_minutes: int
    horizon_days: int
    slot_interval: int  # the minutes between starts: `minutes` when the type names none
    cancel_notice_minutes: int
    form_ids: list[str]
    bookable_by: BookableBy
    archived: bool


class WeeklySpan(msgspec.Struct):
    """Hours of one weekday, in the provider's time zone."""

    day: int  # 0 (Monday) to 6 (Sunday)
    start: str  # "HH:MM"
    end: str  # "HH:MM", up to "24:00"


class HoursException(msgspec.Struct, omit_defaults=True):
    """A dated change to the weekly hours: the day off (no `start`/`end`), those hours off,
    or extra hours (`available`). `start` and `end` are absent, never null, for a whole day."""

    date: date
    available: bool
    start: str | msgspec.UnsetType = msgspec.UNSET
    end: str | msgspec.UnsetType = msgspec.UNSET


class AvailabilityView(msgspec.Struct):
    """A provider's hours; `time_zone` is null (and the lists empty) before the first PUT."""

    provider_id: str
    time_zone: str | None
    weekly: list[WeeklySpan]
    exceptions: list[HoursException]


class Slot(msgspec.Struct):
    start: str
    end: str


class BookableProvider(msgspec.Struct):
    """A provider who has set their hours."""

    id: str
    name: str
    time_zone: str


class AppointmentView(msgspec.Struct):
    """docs/api.md §14 **appointment**. The names are null if the profile or type is gone."""

    id: str
    provider_id: str
    provider_name: str | None
    client_id: str
    client_name: str | None
    type_id: str
    type_name: str | None
    start: str
    end: str
    location: Location
    video_url: str | None
    status: Status
    cancel_reason: str | None
    cancel_notice_minutes: int
    created_at: str


class AppointmentSettingsView(msgspec.Struct):
    """The practice's appointment settings; `booking_code`/`booking_url` are null while the
    public booking link is off."""

    reminder_hours: list[float]  # hours before; whole hours are written as integers
    meeting_url_template: str | None
    prospective_group_id: str | None
    booking_code: str | None
    booking_url: str | None


class CalendarFeedLink(msgspec.Struct):
    """The secret address of a calendar feed, shown only when it is made."""

    url: str


class PublicType(msgspec.Struct):
    """A type offered on the public booking page: only what a stranger needs."""

    id: str
    name: str
    minutes: int
    location: Location


class PublicProvider(msgspec.Struct):
    id: str
    name: str


class PublicPage(msgspec.Struct):
    """What the public booking page offers (GET /booking/{code})."""

    organization: Named
    types: list[PublicType]
    providers: list[PublicProvider]


class PublicAppointment(msgspec.Struct):
    """A booking made through the public link, as its booker may see it."""

    id: str
    start: str
    end: str
    location: Location
    provider_name: str
    type_name: str


class PublicBooking(msgspec.Struct):
    """The answer of POST /booking/{code}: the booking and the email its confirmation went to."""

    appointment: PublicAppointment
    email: str
