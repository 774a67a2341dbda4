"""HTTP for appointment types, availability, slots, appointments, the public booking link and
calendar feeds."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.appointments import service, views
from server.identity import Identity
from server.inputs import RFC3339_PATTERN
from server.runtime import Runtime

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Minutes = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
Location = Literal["video", "in_person", "phone"]
BookableBy = Literal["clients", "team", "public"]
Reason = Annotated[str, msgspec.Meta(max_length=500)]
Url = Annotated[str, msgspec.Meta(max_length=500)]


class TypeIn(msgspec.Struct):
    name: Name
    minutes: Minutes
    location: Location
    buffer_before: Minutes = 0
    buffer_after: Minutes = 0
    min_notice_minutes: Minutes = 0
    horizon_days: Minutes = 60
    slot_interval: Minutes | None = None
    cancel_notice_minutes: Minutes = 0
    form_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=list)
    bookable_by: BookableBy = "clients"


class TypePatch(msgspec.Struct, omit_defaults=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    minutes: Minutes | msgspec.UnsetType = msgspec.UNSET
    location: Location | msgspec.UnsetType = msgspec.UNSET
    buffer_before: Minutes | msgspec.UnsetType = msgspec.UNSET
    buffer_after: Minutes | msgspec.UnsetType = msgspec.UNSET
    min_notice_minutes: Minutes | msgspec.UnsetType = msgspec.UNSET
    horizon_days: Minutes | msgspec.UnsetType = msgspec.UNSET
    slot_interval: Minutes | msgspec.UnsetType | None = msgspec.UNSET
    cancel_notice_minutes: Minutes | msgspec.UnsetType = msgspec.UNSET
    form_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=10)] | msgspec.UnsetType = (
        msgspec.UNSET)
    bookable_by: BookableBy | msgspec.UnsetType = msgspec.UNSET
    archived: bool | msgspec.UnsetType = msgspec.UNSET


# A time of day as hours are given: "HH:MM", 00:00 to 24:00 (the end of the day).
HHMM = Annotated[str, msgspec.Meta(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
# 0 (Monday) to 6 (Sunday). A JSON number that is whole: `3` and `3.0` alike, as JSON Schema's
# integers are (the strict decoder takes `3.0` for an int field as a type error otherwise).
Weekday = Annotated[float, msgspec.Meta(ge=0, le=6, multiple_of=1)]


class WeeklyIn(msgspec.Struct):
    day: Weekday
    start: HHMM
    end: HHMM


class ExceptionIn(msgspec.Struct):
    date: date
    available: bool = False
    start: HHMM | None = None
    end: HHMM | None = None


class AvailabilityIn(msgspec.Struct):
    time_zone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    weekly: Annotated[list[WeeklyIn], msgspec.Meta(max_length=100)]
    exceptions: Annotated[list[ExceptionIn], msgspec.Meta(max_length=400)] = msgspec.field(
        default_factory=list)


class BookIn(msgspec.Struct):
    provider_id: uuid.UUID
    type_id: uuid.UUID
    start: datetime
    client_id: uuid.UUID | None = None


class RescheduleIn(msgspec.Struct):
    start: datetime
    reason: Reason | None = None


class CancelIn(msgspec.Struct):
    reason: Reason | None = None


class PublicBookIn(msgspec.Struct):
    provider_id: uuid.UUID
    type_id: uuid.UUID
    start: datetime
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class SettingsPatch(msgspec.Struct, omit_defaults=True):
    reminder_hours: Annotated[list[float], msgspec.Meta(max_length=5)] | msgspec.UnsetType = (
        msgspec.UNSET)
    meeting_url_template: Url | msgspec.UnsetType | None = msgspec.UNSET
    prospective_group_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    booking_enabled: bool | msgspec.UnsetType = msgspec.UNSET


class AppointmentTypeOut(msgspec.Struct):
    appointment_type: views.AppointmentTypeView


class AppointmentTypesOut(msgspec.Struct):
    appointment_types: list[views.AppointmentTypeView]


class BookableProvidersOut(msgspec.Struct):
    providers: list[views.BookableProvider]


class AvailabilityOut(msgspec.Struct):
    availability: views.AvailabilityView


class SlotsOut(msgspec.Struct):
    """Free slots in UTC, by start."""

    slots: list[views.Slot]


class AppointmentOut(msgspec.Struct):
    appointment: views.AppointmentView


class AppointmentsOut(msgspec.Struct):
    appointments: list[views.AppointmentView]


class CalendarFeedStateOut(msgspec.Struct):
    active: bool


class AppointmentSettingsOut(msgspec.Struct):
    settings: views.AppointmentSettingsView


def _given(data: msgspec.Struct) -> dict[str, Any]:
    return {k: getattr(data, k) for k in data.__struct_fields__
            if getattr(data, k) is not msgspec.UNSET}


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _exceptions(items: list[ExceptionIn]) -> list[service.ExceptionInput]:
    return [service.ExceptionInput(item.date, item.available, item.start, item.end)
            for item in items]


# `from`/`to`: strict RFC 3339 (server/inputs.py), parsed by the service once it has found
# what they are a range of (an unknown provider is 404 whatever the range).
# The pattern is stated in the schema only: the service's parser answers a clear 400 naming
# the field (`validation_error`, `field: "from"`), the same for any wrong value.
RANGE_NOTE = "RFC 3339 with a zone, e.g. 2026-12-01T09:00:00Z (years 1900-9000)"
_TIME_SCHEMA = {"pattern": RFC3339_PATTERN}
Range = Annotated[str | None, Parameter(query="from", description=RANGE_NOTE,
                                        schema_extra=_TIME_SCHEMA)]
RangeEnd = Annotated[str | None, Parameter(query="to", description=RANGE_NOTE,
                                           schema_extra=_TIME_SCHEMA)]


class AppointmentTypesController(Controller):
    path = "/api/v1/appointment-types"
    tags = ["appointments"]

    @get("/")
    async def list(self, identity: Identity, archived: bool = False) -> AppointmentTypesOut:
        """The practice's types (clients see those they may book)."""
        return AppointmentTypesOut(await service.list_types(identity,
                                                            include_archived=archived))

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, data: TypeIn, identity: Identity) -> AppointmentTypeOut:
        """Owners and admins define a type: length, location, buffers, notice, horizon,
        forms requested on booking, and who may book it."""
        return AppointmentTypeOut(await service.create_type(
            identity, msgspec.convert(msgspec.to_builtins(data), service.TypeInput)))

    @patch("/{type_id:str}")
    async def edit(self, type_id: str, data: TypePatch, identity: Identity
                   ) -> AppointmentTypeOut:
        changes = _given(data)
        if "form_ids" in changes:
            changes["form_ids"] = [str(f) for f in changes["form_ids"]]
        return AppointmentTypeOut(await service.update_type(identity, type_id, changes))


class ProvidersAvailabilityController(Controller):
    path = "/api/v1/providers"
    tags = ["appointments"]

    @get("/bookable")
    async def bookable(self, identity: Identity) -> BookableProvidersOut:
        """Providers of the practice who have set their hours."""
        return BookableProvidersOut(await service.bookable_providers(identity))

    @get("/{provider_id:str}/availability")
    async def availability(self, provider_id: str, identity: Identity) -> AvailabilityOut:
        return AvailabilityOut(await service.get_availability(identity, provider_id))

    @put("/{provider_id:str}/availability")
    async def set_availability(self, provider_id: str, data: AvailabilityIn,
                               identity: Identity) -> AvailabilityOut:
        """Weekly hours in the provider's time zone (replaced whole) and dated exceptions."""
        return AvailabilityOut(await service.set_availability(
            identity, provider_id, time_zone=data.time_zone,
            weekly=[service.WeeklyInput(int(w.day), w.start, w.end) for w in data.weekly],
            exceptions=_exceptions(data.exceptions)))

    @get("/{provider_id:str}/slots")
    async def slots(self, provider_id: str, type_id: str, identity: Identity,
                    start: Range = None, end: RangeEnd = None) -> SlotsOut:
        """Free slots in UTC for a type, between `from` and `to` (RFC 3339)."""
        return SlotsOut(await service.provider_slots(identity, provider_id, type_id,
                                                     start, end))


class AppointmentsController(Controller):
    path = "/api/v1"
    tags = ["appointments"]

    @post("/appointments", status_code=HTTP_201_CREATED)
    async def book(self, data: BookIn, identity: Identity, runtime: Runtime) -> AppointmentOut:
        """Book a slot: a client for themselves, the team for a client; 409 `slot_taken`."""
        return AppointmentOut(await service.book(
            runtime.settings, identity, provider_id=str(data.provider_id),
            type_id=str(data.type_id), start=data.start,
            client_id=str(data.client_id) if data.client_id else None))

    @get("/appointments")
    async def list(
        self, identity: Identity, start: Range = None, end: RangeEnd = None,
        provider_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None,
        status: Literal["booked", "cancelled"] | None = None,
    ) -> AppointmentsOut:
        return AppointmentsOut(await service.list_appointments(
            identity, start=start, end=end, provider_id=provider_id, client_id=client_id,
            status=status))

    @get("/appointments.ics", media_type="text/calendar; charset=utf-8")
    async def feed(self, runtime: Runtime, token: Annotated[str, Parameter(max_length=200)]
                   ) -> Response[bytes]:
        """The caller's appointments as an iCalendar feed; the secret is in the address."""
        body = await service.feed(runtime.settings, token)
        return Response(body, media_type="text/calendar; charset=utf-8",
                        headers={"Cache-Control": "no-store"})

    @get("/appointments/{appointment_id:str}")
    async def show(self, appointment_id: str, identity: Identity) -> AppointmentOut:
        return AppointmentOut(await service.get_appointment(identity, appointment_id))

    @post("/appointments/{appointment_id:str}/reschedule", status_code=HTTP_200_OK)
    async def reschedule(self, appointment_id: str, data: RescheduleIn, identity: Identity,
                         runtime: Runtime) -> AppointmentOut:
        return AppointmentOut(await service.reschedule(
            runtime.settings, identity, appointment_id, start=data.start, reason=data.reason))

    @post("/appointments/{appointment_id:str}/cancel", status_code=HTTP_200_OK)
    async def cancel(self, appointment_id: str, identity: Identity, runtime: Runtime,
                     data: CancelIn | None = None) -> AppointmentOut:
        return AppointmentOut(await service.cancel(
            runtime.settings, identity, appointment_id,
            reason=data.reason if data else None))

    @get("/me/calendar-feed")
    async def feed_state(self, identity: Identity) -> CalendarFeedStateOut:
        """Whether the caller has a calendar feed (its address is shown only when made)."""
        return CalendarFeedStateOut(await service.feed_exists(identity))

    @post("/me/calendar-feed", status_code=HTTP_201_CREATED)
    async def reset_feed(self, identity: Identity, runtime: Runtime
                         ) -> views.CalendarFeedLink:
        """A new secret feed address; the previous one stops working."""
        return await service.reset_feed(runtime.settings, identity)

    @delete("/me/calendar-feed", status_code=HTTP_204_NO_CONTENT)
    async def stop_feed(self, identity: Identity) -> None:
        await service.stop_feed(identity)

    @get("/appointment-settings")
    async def get_settings(self, identity: Identity, runtime: Runtime
                           ) -> AppointmentSettingsOut:
        return AppointmentSettingsOut(await service.get_practice_settings(runtime.settings,
                                                                          identity))

    @patch("/appointment-settings")
    async def edit_settings(self, data: SettingsPatch, identity: Identity, runtime: Runtime
                            ) -> AppointmentSettingsOut:
        """Reminder hours, the meeting URL template, the prospective group, the public link."""
        return AppointmentSettingsOut(await service.update_practice_settings(
            runtime.settings, identity, **_given(data)))

    @post("/appointment-settings/booking-link", status_code=HTTP_201_CREATED)
    async def reset_link(self, identity: Identity, runtime: Runtime) -> AppointmentSettingsOut:
        return AppointmentSettingsOut(await service.reset_booking_link(runtime.settings,
                                                                       identity))

    @get("/booking/{code:str}")
    async def public_page(self, code: str) -> views.PublicPage:
        """The public booking page's offer (no login)."""
        return await service.public_page(code)

    @get("/booking/{code:str}/slots")
    async def public_slots(
        self, code: str, provider_id: str, type_id: str, start: Range = None,
        end: RangeEnd = None,
    ) -> SlotsOut:
        return SlotsOut(await service.public_slots(code, provider_id, type_id, start, end))

    @post("/booking/{code:str}", status_code=HTTP_201_CREATED)
    async def public_book(self, request: Request[Any, Any, Any], code: str,
                          data: PublicBookIn, runtime: Runtime) -> views.PublicBooking:
        """Someone new books a discovery call: a prospective client, an invitation, the
        booking, a confirmation email."""
        return await service.public_book(
            runtime.settings, runtime.throttle, code, provider_id=str(data.provider_id),
            type_id=str(data.type_id), start=data.start, name=data.name, email=data.email,
            time_zone=data.time_zone, address=_address(request))
