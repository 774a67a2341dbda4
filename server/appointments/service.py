"""Appointments: types, providers' availability, slots, booking, rescheduling, cancelling, the
public booking link, calendar feeds and the practice's appointment settings.

Booking, rescheduling and cancelling are events in the client's care thread
(`appointment.booked`, `appointment.rescheduled`, `appointment.cancelled`). Nobody holds one
provider's time twice: the booking re-checks inside its write transaction (SQLite: the single
writer serializes every process), and on PostgreSQL an exclusion constraint over the held time
range refuses the loser of a race; either way the loser gets 409 `slot_taken`.

Who may do what: owners and admins manage types and settings; a provider sets their own hours
(admins anyone's); a client books, moves and cancels only their own appointments (moving and
cancelling until the type's cancellation notice); the team books for any client they may see
(onboarding/access.py) and may book inside the minimum notice and beyond the horizon. Anything
of another practice is 404.
"""

from __future__ import annotations

import json
import time
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from server import clock
from server.accounts.tables import Account, Organization, Profile
from server.appointments import calendar
from server.appointments.slots import (
    Busy,
    DateException,
    Schedule,
    SlotRules,
    check_weekly,
    format_hhmm,
    parse_hhmm,
    refusal,
    slot_starts,
)
from server.appointments.tables import (
    Appointment,
    AppointmentSettings,
    AppointmentType,
    Availability,
    CalendarFeed,
)
from server.appointments.views import (
    AppointmentSettingsView,
    AppointmentTypeView,
    AppointmentView,
    AvailabilityView,
    BookableProvider,
    CalendarFeedLink,
    HoursException,
    PublicAppointment,
    PublicBooking,
    PublicPage,
    PublicProvider,
    PublicType,
    Slot,
    WeeklySpan,
)
from server.db import is_unique_violation, write_transaction
from server.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from server.forms import service as forms
from server.identity import PROVIDER_ROLES, Identity
from server.inputs import parse_rfc3339
from server.mail import service as mail
from server.onboarding import service as onboarding
from server.onboarding.access import ClientAccess, client_access, team_client_ids
from server.onboarding.tables import Client, ClientGroup
from server.security import hash_token, new_token
from server.settings import Settings
from server.threads import service as threads
from server.throttle import LoginThrottle

LOCATIONS = ("video", "in_person", "phone")
BOOKABLE_BY = ("clients", "team", "public")
BOOKED, CANCELLED = "booked", "cancelled"
MAX_RANGE = timedelta(days=62)
MAX_EXCEPTIONS = 400
PUBLIC_BOOKINGS_PER_ADDRESS = 20


class SlotTaken(Conflict):
    code = "slot_taken"


# --- inputs ------------------------------------------------------------------------------------


class TypeInput(msgspec.Struct):
    name: str
    minutes: int
    location: str
    buffer_before: int = 0
    buffer_after: int = 0
    min_notice_minutes: int = 0
    horizon_days: int = 60
    slot_interval: int | None = None
    cancel_notice_minutes: int = 0
    form_ids: list[uuid.UUID] = msgspec.field(default_factory=list)
    bookable_by: str = "clients"


class WeeklyInput(msgspec.Struct):
    day: int
    start: str
    end: str


class ExceptionInput(msgspec.Struct):
    date: date
    available: bool = False
    start: str | None = None
    end: str | None = None


# --- small helpers -----------------------------------------------------------------------------


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _id(raw: str | uuid.UUID, what: str) -> uuid.UUID:
    if isinstance(raw, uuid.UUID):
        return raw
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise NotFound(f"No such {what}.") from None


def _utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(f"{field} needs a time zone (RFC 3339, e.g. ...Z).",
                           extra={"field": field})
    return value.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _stamp(posix: float) -> str:
    """RFC 3339 UTC of whole seconds, cheaply (hundreds per slots answer)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(posix))


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown time zone {name!r}.", code="unknown_time_zone",
                           extra={"field": "time_zone"}) from None


def _require_admin(identity: Identity) -> None:
    if not identity.is_admin:
        raise Forbidden("Only owners and admins can change this.")


# --- practice settings -------------------------------------------------------------------------


async def practice_row(organization_id: uuid.UUID) -> dict[str, Any]:
    row = await AppointmentSettings.select().where(
        AppointmentSettings.organization == organization_id).first()
    if row is not None:
        return row
    # ON CONFLICT DO NOTHING: a race of two first readers never aborts a transaction.
    await AppointmentSettings.insert(AppointmentSettings(organization=organization_id)
                                     ).on_conflict(action="DO NOTHING")
    row = await AppointmentSettings.select().where(
        AppointmentSettings.organization == organization_id).first()
    assert row is not None
    return row


def booking_link(settings: Settings, code: str) -> str:
    return f"{settings.base_url}/book/{code}"


def settings_view(settings: Settings, row: dict[str, Any]) -> AppointmentSettingsView:
    return AppointmentSettingsView(
        reminder_hours=_json(row["reminder_hours"]),
        meeting_url_template=row["meeting_url_template"],
        prospective_group_id=str(row["prospective_group"])
        if row["prospective_group"] else None,
        booking_code=row["booking_code"],
        booking_url=booking_link(settings, row["booking_code"])
        if row["booking_code"] else None,
    )


async def get_practice_settings(settings: Settings, identity: Identity
                                ) -> AppointmentSettingsView:
    if not identity.is_staff:
        raise NotFound()
    return settings_view(settings, await practice_row(identity.organization_id))


UNSET: Any = object()


async def update_practice_settings(
    settings: Settings, identity: Identity, *, reminder_hours: Any = UNSET,
    meeting_url_template: Any = UNSET, prospective_group_id: Any = UNSET,
    booking_enabled: Any = UNSET,
) -> AppointmentSettingsView:
    _require_admin(identity)
    row = await practice_row(identity.organization_id)
    updates: dict[Any, Any] = {}
    if reminder_hours is not UNSET:
        hours = sorted({float(h) for h in reminder_hours}, reverse=True)
        if any(h <= 0 or h > 24 * 14 for h in hours) or len(hours) > 5:
            raise InvalidInput("Reminders are up to five, each 0-336 hours before.",
                               extra={"field": "reminder_hours"})
        updates[AppointmentSettings.reminder_hours] = json.dumps(
            [int(h) if h.is_integer() else h for h in hours])
    if meeting_url_template is not UNSET:
        template = (meeting_url_template or "").strip() or None
        if template is not None and not template.startswith(("https://", "http://")):
            raise InvalidInput("The meeting URL template must be an http(s) address.",
                               extra={"field": "meeting_url_template"})
        updates[AppointmentSettings.meeting_url_template] = template
    if prospective_group_id is not UNSET:
        if prospective_group_id is not None and not await ClientGroup.exists().where(
                ClientGroup.id == prospective_group_id,
                ClientGroup.organization == identity.organization_id):
            raise NotFound("No such group.")
        updates[AppointmentSettings.prospective_group] = prospective_group_id
    if booking_enabled is not UNSET:
        if booking_enabled and not row["booking_code"]:
            updates[AppointmentSettings.booking_code] = new_token()[:24]
        elif not booking_enabled:
            updates[AppointmentSettings.booking_code] = None
    if updates:
        await AppointmentSettings.update(updates).where(AppointmentSettings.id == row["id"])
    return await get_practice_settings(settings, identity)


async def reset_booking_link(settings: Settings, identity: Identity
                             ) -> AppointmentSettingsView:
    """A new public booking address; the old one stops working."""
    _require_admin(identity)
    row = await practice_row(identity.organization_id)
    await AppointmentSettings.update({AppointmentSettings.booking_code: new_token()[:24]}).where(
        AppointmentSettings.id == row["id"])
    return await get_practice_settings(settings, identity)


# --- appointment types -------------------------------------------------------------------------


def type_view(row: dict[str, Any]) -> AppointmentTypeView:
    return AppointmentTypeView(
        id=str(row["id"]),
        name=row["name"],
        minutes=row["minutes"],
        location=row["location"],
        buffer_before=row["buffer_before"],
        buffer_after=row["buffer_after"],
        min_notice_minutes=row["min_notice_minutes"],
        horizon_days=row["horizon_days"],
        slot_interval=row["slot_interval"] or row["minutes"],
        cancel_notice_minutes=row["cancel_notice_minutes"],
        form_ids=_json(row["form_ids"]),
        bookable_by=row["bookable_by"],
        archived=row["archived"],
    )


def _check_type(data: TypeInput) -> dict[Any, Any]:
    name = " ".join(data.name.split())
    if not name or len(name) > 100:
        raise InvalidInput("A type needs a name of up to 100 characters.",
                           extra={"field": "name"})
    checks = [
        ("minutes", data.minutes, 5, 8 * 60),
        ("buffer_before", data.buffer_before, 0, 240),
        ("buffer_after", data.buffer_after, 0, 240),
        ("min_notice_minutes", data.min_notice_minutes, 0, 60 * 24 * 60),
        ("horizon_days", data.horizon_days, 1, 730),
        ("cancel_notice_minutes", data.cancel_notice_minutes, 0, 60 * 24 * 30),
    ]
    if data.slot_interval is not None:
        checks.append(("slot_interval", data.slot_interval, 5, 8 * 60))
    for field, value, low, high in checks:
        if not low <= value <= high:
            raise InvalidInput(f"{field} must be from {low} to {high}.", extra={"field": field})
    if data.location not in LOCATIONS:
        raise InvalidInput("location is one of video, in_person, phone.",
                           extra={"field": "location"})
    if data.bookable_by not in BOOKABLE_BY:
        raise InvalidInput("bookable_by is one of clients, team, public.",
                           extra={"field": "bookable_by"})
    return {
        AppointmentType.name: name, AppointmentType.minutes: data.minutes,
        AppointmentType.location: data.location,
        AppointmentType.buffer_before: data.buffer_before,
        AppointmentType.buffer_after: data.buffer_after,
        AppointmentType.min_notice_minutes: data.min_notice_minutes,
        AppointmentType.horizon_days: data.horizon_days,
        AppointmentType.slot_interval: data.slot_interval,
        AppointmentType.cancel_notice_minutes: data.cancel_notice_minutes,
        AppointmentType.bookable_by: data.bookable_by,
    }


async def _check_forms(identity: Identity, form_ids: list[uuid.UUID]) -> str:
    ids = list(dict.fromkeys(form_ids))
    if len(ids) > 10:
        raise InvalidInput("At most 10 forms per type.", extra={"field": "form_ids"})
    for fid in ids:
        form = await forms.get_form(identity, str(fid))  # NotFound for another practice's
        if form.archived:
            raise Conflict(f"The form {form.title!r} is archived.", code="form_archived")
    return json.dumps([str(f) for f in ids])


async def create_type(identity: Identity, data: TypeInput) -> AppointmentTypeView:
    _require_admin(identity)
    values = _check_type(data)
    values[AppointmentType.form_ids] = await _check_forms(identity, data.form_ids)
    row = AppointmentType(organization=identity.organization_id, created_at=clock.now(),
                          **{c._meta.name: v for c, v in values.items()})
    await row.save()
    return type_view(await _type_row(identity.organization_id, row.id))


async def update_type(identity: Identity, type_id: str, changes: dict[str, Any]
                      ) -> AppointmentTypeView:
    """Change a type: fields not given keep their value; `archived` hides it from booking."""
    _require_admin(identity)
    row = await _type_row(identity.organization_id, type_id)
    current = msgspec.structs.asdict(type_view(row))
    merged = {**current, **{k: v for k, v in changes.items() if k != "archived"}}
    merged["form_ids"] = [uuid.UUID(str(f)) for f in merged["form_ids"]]
    if "slot_interval" not in changes and row["slot_interval"] is None:
        merged["slot_interval"] = None
    data = msgspec.convert({k: v for k, v in merged.items()
                            if k in TypeInput.__struct_fields__}, TypeInput)
    values = _check_type(data)
    if "form_ids" in changes:
        values[AppointmentType.form_ids] = await _check_forms(identity, data.form_ids)
    if changes.get("archived") is not None:
        values[AppointmentType.archived] = bool(changes["archived"])
    await AppointmentType.update(values).where(AppointmentType.id == row["id"])
    return type_view(await _type_row(identity.organization_id, row["id"]))


async def _type_row(organization_id: uuid.UUID, type_id: str | uuid.UUID) -> dict[str, Any]:
    tid = _id(type_id, "appointment type")
    row = await AppointmentType.select().where(
        AppointmentType.id == tid, AppointmentType.organization == organization_id).first()
    if row is None:
        raise NotFound("No such appointment type.")
    return row


async def _bookable_type(identity: Identity, type_id: str | uuid.UUID) -> dict[str, Any]:
    """A type the caller may book (or see slots of); clients never see team-only types."""
    row = await _type_row(identity.organization_id, type_id)
    if row["archived"] or (not identity.is_staff and row["bookable_by"] == "team"):
        raise NotFound("No such appointment type.")
    return row


async def list_types(identity: Identity, *, include_archived: bool = False
                     ) -> list[AppointmentTypeView]:
    query = AppointmentType.select().where(
        AppointmentType.organization == identity.organization_id)
    rows = await query.order_by(AppointmentType.name)
    if not identity.is_staff:
        rows = [r for r in rows if r["bookable_by"] != "team" and not r["archived"]]
    elif not include_archived:
        rows = [r for r in rows if not r["archived"]]
    return [type_view(r) for r in rows]


# --- availability ------------------------------------------------------------------------------


async def _provider(organization_id: uuid.UUID, provider_id: str | uuid.UUID
                    ) -> dict[str, Any]:
    pid = _id(provider_id, "provider")
    row = await Profile.select(Profile.id, Profile.name, Profile.role, Profile.status).where(
        Profile.id == pid, Profile.organization == organization_id).first()
    if row is None or row["status"] == "removed" or row["role"] not in PROVIDER_ROLES:
        raise NotFound("No such provider.")
    return row


def availability_view(row: dict[str, Any] | None, provider_id: uuid.UUID
                      ) -> AvailabilityView:
    if row is None:
        return AvailabilityView(provider_id=str(provider_id), time_zone=None, weekly=[],
                                exceptions=[])
    # The JSON was written by set_availability: spans and exceptions in these shapes.
    return AvailabilityView(
        provider_id=str(provider_id), time_zone=row["time_zone"],
        weekly=msgspec.convert(_json(row["weekly"]), list[WeeklySpan]),
        exceptions=msgspec.convert(_json(row["exceptions"]), list[HoursException]))


async def get_availability(identity: Identity, provider_id: str) -> AvailabilityView:
    provider = await _provider(identity.organization_id, provider_id)
    if not identity.is_staff:
        raise NotFound("No such provider.")
    row = await Availability.select().where(Availability.provider == provider["id"]).first()
    return availability_view(row, provider["id"])


def _check_exceptions(items: list[ExceptionInput]) -> list[dict[str, Any]]:
    if len(items) > MAX_EXCEPTIONS:
        raise InvalidInput(f"At most {MAX_EXCEPTIONS} exceptions.",
                           extra={"field": "exceptions"})
    out = []
    for item in items:
        if (item.start is None) != (item.end is None):
            raise InvalidInput("An exception gives both start and end, or neither.",
                               extra={"field": "exceptions"})
        if item.available and item.start is None:
            raise InvalidInput("Extra hours need a start and an end.",
                               extra={"field": "exceptions"})
        entry: dict[str, Any] = {"date": item.date.isoformat(), "available": item.available}
        if item.start is not None and item.end is not None:
            try:
                a, b = parse_hhmm(item.start), parse_hhmm(item.end)
            except ValueError as exc:
                raise InvalidInput(str(exc), extra={"field": "exceptions"}) from None
            if b <= a:
                raise InvalidInput(f"{item.start}-{item.end} ends before it starts.",
                                   extra={"field": "exceptions"})
            entry.update(start=format_hhmm(a), end=format_hhmm(b))
        out.append(entry)
    return out


async def set_availability(
    identity: Identity, provider_id: str, *, time_zone: str, weekly: list[WeeklyInput],
    exceptions: list[ExceptionInput],
) -> AvailabilityView:
    """A provider's weekly hours (replaced whole) in their time zone, and exceptions."""
    provider = await _provider(identity.organization_id, provider_id)
    if provider["id"] != identity.user_id and not identity.is_admin:
        if not identity.is_staff:
            raise NotFound("No such provider.")
        raise Forbidden("Only the provider themselves or an admin can change their hours.")
    _zone(time_zone)
    if len(weekly) > 100:
        raise InvalidInput("At most 100 weekly spans.", extra={"field": "weekly"})
    try:
        hours = check_weekly([(w.day, w.start, w.end) for w in weekly])
    except ValueError as exc:
        raise InvalidInput(str(exc), extra={"field": "weekly"}) from None
    weekly_json = json.dumps([{"day": h.day, "start": format_hhmm(h.start),
                               "end": format_hhmm(h.end)} for h in hours])
    exceptions_json = json.dumps(_check_exceptions(exceptions))
    async with write_transaction():
        existing = await Availability.select(Availability.id).where(
            Availability.provider == provider["id"]).first()
        if existing:
            await Availability.update({
                Availability.time_zone: time_zone, Availability.weekly: weekly_json,
                Availability.exceptions: exceptions_json, Availability.updated_at: clock.now(),
            }).where(Availability.id == existing["id"])
        else:
            await Availability.insert(Availability(
                organization=identity.organization_id, provider=provider["id"],
                time_zone=time_zone, weekly=weekly_json, exceptions=exceptions_json,
                updated_at=clock.now()))
    row = await Availability.select().where(Availability.provider == provider["id"]).first()
    return availability_view(row, provider["id"])


def _schedule(row: dict[str, Any] | None) -> Schedule | None:
    if row is None:
        return None
    weekly = check_weekly([(w["day"], w["start"], w["end"]) for w in _json(row["weekly"])])
    exceptions = tuple(
        DateException(date.fromisoformat(e["date"]), e["available"],
                      parse_hhmm(e["start"]) if e.get("start") else None,
                      parse_hhmm(e["end"]) if e.get("end") else None)
        for e in _json(row["exceptions"]))
    return Schedule(zoneinfo.ZoneInfo(row["time_zone"]), weekly, exceptions)


def _rules(type_row: dict[str, Any], *, as_team: bool = False) -> SlotRules:
    """The type's rules; the team books inside the notice and beyond the horizon."""
    return SlotRules(
        minutes=type_row["minutes"], buffer_before=type_row["buffer_before"],
        buffer_after=type_row["buffer_after"], interval=type_row["slot_interval"],
        min_notice=timedelta(0) if as_team else timedelta(
            minutes=type_row["min_notice_minutes"]),
        horizon=timedelta(days=3650) if as_team else timedelta(days=type_row["horizon_days"]),
    )


async def _busy(provider_id: uuid.UUID, start: datetime, end: datetime,
                exclude: uuid.UUID | None = None) -> Busy:
    rows = await Appointment.select(Appointment.id, Appointment.block_start,
                                    Appointment.block_end).where(
        Appointment.provider == provider_id, Appointment.status == BOOKED,
        Appointment.block_start < end, Appointment.block_end > start)
    return Busy((r["block_start"], r["block_end"]) for r in rows if r["id"] != exclude)


def _in_reach(value: datetime | None, field: str) -> datetime | None:
    """Calendars end somewhere: times from 1900 to 9000 (no arithmetic near year 9999)."""
    if value is not None and not 1899 <= value.year <= 9001:  # UTC of a local 1900 to 9000
        raise InvalidInput(f"`{field}` must be an RFC 3339 time from the year 1900 to 9000.",
                           extra={"field": field})
    return value


def _range(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """A slots range from the query's strict RFC 3339 `from`/`to` (default: 7 days on)."""
    lo = _in_reach(parse_rfc3339(start, "from"), "from") or clock.now()
    hi = _in_reach(parse_rfc3339(end, "to"), "to") or lo + timedelta(days=7)
    if hi <= lo:
        raise InvalidInput("to must be after from.", extra={"field": "to"})
    if hi - lo > MAX_RANGE:
        raise InvalidInput(f"A range is at most {MAX_RANGE.days} days.",
                           extra={"field": "to"})
    return lo, hi


async def _slots_for(provider: dict[str, Any], type_row: dict[str, Any], lo: datetime,
                     hi: datetime, *, as_team: bool) -> list[Slot]:
    availability = await Availability.select().where(
        Availability.provider == provider["id"]).first()
    schedule = _schedule(availability)
    if schedule is None:
        return []
    rules = _rules(type_row, as_team=as_team)
    pad = rules.length + timedelta(minutes=rules.buffer_before + rules.buffer_after)
    busy = await _busy(provider["id"], lo - pad, hi + pad)
    length = rules.length.total_seconds()
    return [Slot(start=_stamp(t), end=_stamp(t + length))
            for t in slot_starts(schedule, rules, busy, now=clock.now(), start=lo, end=hi)]


async def provider_slots(identity: Identity, provider_id: str, type_id: str,
                         start: str | None, end: str | None) -> list[Slot]:
    """Free slots of a provider for a type, in UTC, as the caller could book them."""
    provider = await _provider(identity.organization_id, provider_id)
    type_row = await _bookable_type(identity, type_id)
    lo, hi = _range(start, end)
    return await _slots_for(provider, type_row, lo, hi, as_team=identity.is_staff)


async def bookable_providers(identity: Identity) -> list[BookableProvider]:
    """Providers of the caller's practice who have set their hours."""
    rows = await Availability.select(
        Availability.provider, Availability.time_zone,
        Availability.provider.name.as_alias("name"),
        Availability.provider.status.as_alias("status"),
        Availability.provider.role.as_alias("role"),
    ).where(Availability.organization == identity.organization_id)
    return sorted((BookableProvider(id=str(r["provider"]), name=r["name"],
                                    time_zone=r["time_zone"])
                   for r in rows if r["status"] != "removed" and r["role"] in PROVIDER_ROLES),
                  key=lambda p: p.name)


# --- appointments: reading ---------------------------------------------------------------------


def appointment_view(row: dict[str, Any], names: dict[uuid.UUID, str],
                     types: dict[uuid.UUID, dict[str, Any]]) -> AppointmentView:
    type_row = types.get(row["appointment_type"])
    return AppointmentView(
        id=str(row["id"]),
        provider_id=str(row["provider"]),
        provider_name=names.get(row["provider"]),
        client_id=str(row["client"]),
        client_name=names.get(row["client"]),
        type_id=str(row["appointment_type"]),
        type_name=type_row["name"] if type_row else None,
        start=_iso(row["starts_at"]),
        end=_iso(row["ends_at"]),
        location=row["location"],
        video_url=row["video_url"],
        status=row["status"],
        cancel_reason=row["cancel_reason"],
        cancel_notice_minutes=type_row["cancel_notice_minutes"] if type_row else 0,
        created_at=_iso(row["created_at"]),
    )


async def _views(rows: list[dict[str, Any]]) -> list[AppointmentView]:
    if not rows:
        return []
    people = list({r["provider"] for r in rows} | {r["client"] for r in rows})
    names = {p["id"]: p["name"] for p in await Profile.select(Profile.id, Profile.name).where(
        Profile.id.is_in(people))}
    type_ids = list({r["appointment_type"] for r in rows})
    types = {t["id"]: t for t in await AppointmentType.select().where(
        AppointmentType.id.is_in(type_ids))}
    return [appointment_view(r, names, types) for r in rows]


async def _visible(identity: Identity, row: dict[str, Any]) -> bool:
    if row["organization"] != identity.organization_id:
        return False
    if identity.user_id in (row["client"], row["provider"]) or identity.is_admin:
        return True
    if not identity.is_staff:
        return False
    try:
        await client_access(identity, row["client"], team_only=True)
    except NotFound:
        return False
    return True


async def _appointment(identity: Identity, appointment_id: str) -> dict[str, Any]:
    aid = _id(appointment_id, "appointment")
    row = await Appointment.select().where(Appointment.id == aid).first()
    if row is None or not await _visible(identity, row):
        raise NotFound("No such appointment.")
    return row


async def get_appointment(identity: Identity, appointment_id: str) -> AppointmentView:
    return (await _views([await _appointment(identity, appointment_id)]))[0]


async def list_appointments(
    identity: Identity, *, start: str | None, end: str | None,
    provider_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None,
    status: str | None = None,
) -> list[AppointmentView]:
    """A window of appointments the caller may see, by start time: their own as client or
    provider, and (team) those of clients they may see. `from`/`to` are strict RFC 3339."""
    lo = _in_reach(parse_rfc3339(start, "from"), "from") or clock.now() - timedelta(days=1)
    hi = _in_reach(parse_rfc3339(end, "to"), "to") or lo + timedelta(days=31)
    if hi <= lo or hi - lo > timedelta(days=366):
        raise InvalidInput("A range is up to 366 days, to after from.", extra={"field": "to"})
    query = Appointment.select().where(
        Appointment.organization == identity.organization_id,
        Appointment.starts_at < hi, Appointment.ends_at > lo)
    if status is not None:
        query = query.where(Appointment.status == status)
    if provider_id is not None:
        query = query.where(Appointment.provider == provider_id)
    if client_id is not None:
        query = query.where(Appointment.client == client_id)
    if not identity.is_staff:
        query = query.where(Appointment.client == identity.user_id)
    elif not identity.is_admin:
        mine = set(await team_client_ids(identity))
        rows = await query.order_by(Appointment.starts_at).limit(2000)
        return await _views([r for r in rows if r["provider"] == identity.user_id
                             or r["client"] in mine])
    return await _views(await query.order_by(Appointment.starts_at).limit(2000))


# --- appointments: booking ---------------------------------------------------------------------


@dataclass
class Booking:
    """What a booking needs, checked before its transaction."""

    organization_id: uuid.UUID
    provider: dict[str, Any]
    type_row: dict[str, Any]
    start: datetime
    as_team: bool


def _refuse(code: str | None) -> None:
    if code is None:
        return
    if code == "slot_taken":
        raise SlotTaken("Someone just took this time. Pick another slot.")
    detail = {
        "in_the_past": "That time has passed.",
        "inside_minimum_notice": "That is too soon: this type needs more notice.",
        "beyond_horizon": "That is too far ahead for this type.",
        "outside_hours": "The provider does not work at that time.",
        "not_on_slot": "That is not the start of a slot; pick one of the offered times.",
    }[code]
    raise InvalidInput(detail, code=code, extra={"field": "start"})


async def _check_start(b: Booking, exclude: uuid.UUID | None = None) -> None:
    availability = await Availability.select().where(
        Availability.provider == b.provider["id"]).first()
    schedule = _schedule(availability)
    if schedule is None:
        _refuse("outside_hours")
    assert schedule is not None
    rules = _rules(b.type_row, as_team=b.as_team)
    held = timedelta(minutes=rules.buffer_before + rules.buffer_after + rules.minutes)
    busy = await _busy(b.provider["id"], b.start - held, b.start + held, exclude)
    _refuse(refusal(schedule, rules, busy, now=clock.now(), start=b.start))


def _held(type_row: dict[str, Any], start: datetime) -> tuple[datetime, datetime, datetime]:
    end = start + timedelta(minutes=type_row["minutes"])
    return (end, start - timedelta(minutes=type_row["buffer_before"]),
            end + timedelta(minutes=type_row["buffer_after"]))


async def _claim_time(provider_id: uuid.UUID, block_start: datetime, block_end: datetime,
                      exclude: uuid.UUID | None = None) -> None:
    """Inside the write transaction: nobody else holds this time (PostgreSQL's exclusion
    constraint backs this up against a concurrent transaction)."""
    query = Appointment.select(Appointment.id).where(
        Appointment.provider == provider_id, Appointment.status == BOOKED,
        Appointment.block_start < block_end, Appointment.block_end > block_start)
    if exclude is not None:
        query = query.where(Appointment.id != exclude)
    if await query.first():
        raise SlotTaken("Someone just took this time. Pick another slot.")


def is_overlap_violation(exc: BaseException) -> bool:
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, asyncpg.ExclusionViolationError)


def _reminder_plan(hours: list[float], starts_at: datetime, now: datetime
                   ) -> tuple[int, datetime | None]:
    """The next reminder step still ahead (steps already past are skipped) and its time."""
    for step, h in enumerate(hours):
        at = starts_at - timedelta(hours=h)
        if at > now:
            return step, at
    return len(hours), None


async def _video_url(organization_id: uuid.UUID, location: str, appointment_id: uuid.UUID
                     ) -> str | None:
    if location != "video":
        return None
    template = (await practice_row(organization_id))["meeting_url_template"]
    if not template:
        return None
    return str(template).replace("{appointment_id}", str(appointment_id))


async def _client_contact(client_id: uuid.UUID) -> tuple[str | None, str | None]:
    """The client's email (if any) and time zone."""
    profile = await Profile.select(Profile.account, Profile.status).where(
        Profile.id == client_id).first()
    client = await Client.select(Client.timezone).where(Client.id == client_id).first()
    tz = client["timezone"] if client else None
    if profile is None or profile["account"] is None or profile["status"] == "removed":
        return None, tz
    account = await Account.select(Account.email).where(Account.id == profile["account"]).first()
    return (account["email"] if account else None), tz


async def display_zone(client_tz: str | None, provider_id: uuid.UUID) -> str:
    """Times in mail: the client's zone, else the provider's, else UTC."""
    if client_tz:
        return client_tz
    availability = await Availability.select(Availability.time_zone).where(
        Availability.provider == provider_id).first()
    return availability["time_zone"] if availability else "UTC"


async def _event_data(row: dict[str, Any], type_row: dict[str, Any],
                      provider: dict[str, Any]) -> dict[str, Any]:
    return {
        "appointment_id": str(row["id"]), "type_id": str(type_row["id"]),
        "type_name": type_row["name"], "provider_id": str(provider["id"]),
        "provider_name": provider["name"], "client_id": str(row["client"]),
        "start": _iso(row["starts_at"]), "end": _iso(row["ends_at"]),
        "location": row["location"], "video_url": row["video_url"],
    }


async def _mail_client(settings: Settings, row: dict[str, Any], provider: dict[str, Any],
                       what: str) -> None:
    """A confirmation, change or cancellation with an .ics; no health details in it."""
    email, client_tz = await _client_contact(row["client"])
    if email is None:
        return
    practice = await Organization.select(Organization.name).where(
        Organization.id == row["organization"]).first()
    practice_name = practice["name"] if practice else "your practice"
    when = calendar.spoken_time(row["starts_at"],
                                await display_zone(client_tz, provider["id"]))
    subject, lead = {
        "booked": (f"Appointment confirmed: {when}",
                   f"Your appointment with {provider['name']} at {practice_name} is booked."),
        "rescheduled": (f"Appointment moved: {when}",
                        f"Your appointment with {provider['name']} at {practice_name} "
                        "has moved."),
        "cancelled": (f"Appointment cancelled: {when}",
                      f"Your appointment with {provider['name']} at {practice_name} "
                      "was cancelled."),
    }[what]
    lines = [lead, "", f"When: {when}", f"How: {calendar.LOCATION_WORDS[row['location']]}"]
    if row["video_url"] and what != "cancelled":
        lines.append(f"Join: {row['video_url']}")
    lines += ["", f"See or change it in Carethread: {settings.base_url}/#/appointments", ""]
    ics = calendar.invitation(settings, row, practice_name, provider["name"],
                              cancelled=what == "cancelled")
    await mail.enqueue(email, subject, "\n".join(lines), attachments=[mail.Attachment(
        "appointment.ics",
        f"text/calendar; method={'CANCEL' if what == 'cancelled' else 'REQUEST'}", ics)])


async def _book_in_transaction(
    settings: Settings, b: Booking, access: ClientAccess, booked_by: uuid.UUID | None,
) -> dict[str, Any]:
    """Write the appointment, its event, its form requests and the confirmation email."""
    t = b.type_row
    end, block_start, block_end = _held(t, b.start)
    await _claim_time(b.provider["id"], block_start, block_end)
    now = clock.now()
    practice = await practice_row(b.organization_id)
    step, next_at = _reminder_plan(_json(practice["reminder_hours"]), b.start, now)
    appointment_id = uuid.uuid4()
    row: dict[str, Any] = {
        "id": appointment_id, "organization": b.organization_id,
        "provider": b.provider["id"], "client": access.client_id,
        "appointment_type": t["id"], "starts_at": b.start, "ends_at": end,
        "block_start": block_start, "block_end": block_end, "status": BOOKED,
        "location": t["location"],
        "video_url": await _video_url(b.organization_id, t["location"], appointment_id),
        "booked_by": booked_by, "cancel_reason": None, "cancelled_at": None,
        "cancelled_by": None, "sequence": 0, "reminder_step": step,
        "next_reminder_at": next_at, "created_at": now,
    }
    await Appointment.insert(Appointment(**row))
    await threads.append_in_transaction(
        access.care_thread_id, "appointment.booked", booked_by,
        data=await _event_data(row, t, b.provider))
    form_ids = [uuid.UUID(f) for f in _json(t["form_ids"])]
    await forms.request_on_booking_in_transaction(
        settings, b.organization_id, form_ids, access.client_id, booked_by)
    await _mail_client(settings, row, b.provider, "booked")
    return row


async def _booking(identity: Identity, provider_id: str, type_id: str, start: datetime
                   ) -> Booking:
    provider = await _provider(identity.organization_id, provider_id)
    type_row = await _bookable_type(identity, type_id)
    if not identity.is_staff and type_row["bookable_by"] not in ("clients", "public"):
        raise NotFound("No such appointment type.")
    return Booking(identity.organization_id, provider, type_row, _utc(start, "start"),
                   as_team=identity.is_staff)


async def book(settings: Settings, identity: Identity, *, provider_id: str, type_id: str,
               start: datetime, client_id: str | None = None) -> AppointmentView:
    """A client books their own slot; the team books for a client they may see."""
    if client_id is None:
        if identity.is_staff:
            raise InvalidInput("Name the client to book for.", extra={"field": "client_id"})
        client_id = str(identity.user_id)
    access = await client_access(identity, client_id)
    b = await _booking(identity, provider_id, type_id, start)
    await _check_start(b)
    try:
        async with write_transaction():
            row = await _book_in_transaction(settings, b, access, identity.user_id)
    except Exception as exc:
        if is_overlap_violation(exc):
            raise SlotTaken("Someone just took this time. Pick another slot.") from exc
        raise
    return (await _views([row]))[0]


def _may_change(identity: Identity, row: dict[str, Any], type_row: dict[str, Any],
                what: str) -> None:
    if row["status"] != BOOKED:
        raise Conflict("This appointment was cancelled.", code="not_booked")
    now = clock.now()
    if row["starts_at"] <= now:
        raise Conflict(f"This appointment has started; it cannot be {what}.",
                       code="already_started")
    if identity.user_id == row["client"] and not identity.is_staff:
        notice = timedelta(minutes=type_row["cancel_notice_minutes"])
        if row["starts_at"] - now < notice:
            raise Conflict(
                f"It is too late to change this appointment online; it can be {what} up to "
                f"{type_row['cancel_notice_minutes'] // 60} hours before. Message the "
                "practice instead.", code="cancellation_window")


async def _care_access(identity: Identity, row: dict[str, Any]) -> ClientAccess:
    """The care thread of the appointment's client, for whoever may act on it."""
    try:
        return await client_access(identity, row["client"])
    except NotFound:
        if identity.user_id != row["provider"]:
            raise
    # The provider of the appointment acts on it even when not on the client's team.
    client = await Client.select(Client.care_thread).where(Client.id == row["client"]).first()
    if client is None or client["care_thread"] is None:
        raise NotFound("No such appointment.")
    return ClientAccess(row["client"], row["organization"], client["care_thread"], True)


async def reschedule(settings: Settings, identity: Identity, appointment_id: str, *,
                     start: datetime, reason: str | None = None) -> AppointmentView:
    row = await _appointment(identity, appointment_id)
    access = await _care_access(identity, row)
    type_row = await _type_row(row["organization"], row["appointment_type"])
    _may_change(identity, row, type_row, "moved")
    provider = await _provider(row["organization"], row["provider"])
    b = Booking(row["organization"], provider, type_row, _utc(start, "start"),
                as_team=identity.is_staff)
    if b.start == row["starts_at"]:
        raise InvalidInput("That is the time it already has.", code="same_time",
                           extra={"field": "start"})
    await _check_start(b, exclude=row["id"])
    end, block_start, block_end = _held(type_row, b.start)
    try:
        async with write_transaction():
            await _claim_time(provider["id"], block_start, block_end, exclude=row["id"])
            practice = await practice_row(row["organization"])
            step, next_at = _reminder_plan(_json(practice["reminder_hours"]), b.start,
                                           clock.now())
            changed = await Appointment.update({
                Appointment.starts_at: b.start, Appointment.ends_at: end,
                Appointment.block_start: block_start, Appointment.block_end: block_end,
                Appointment.sequence: row["sequence"] + 1,
                Appointment.reminder_step: step, Appointment.next_reminder_at: next_at,
            }).where(Appointment.id == row["id"], Appointment.status == BOOKED,
                     Appointment.sequence == row["sequence"]).returning(Appointment.id)
            if not changed:
                raise Conflict("This appointment changed meanwhile; reload it.",
                               code="appointment_changed")
            new = {**row, "starts_at": b.start, "ends_at": end,
                   "sequence": row["sequence"] + 1}
            data = await _event_data(new, type_row, provider)
            data.update({"from": _iso(row["starts_at"]), "reason": _reason(reason)})
            await threads.append_in_transaction(
                access.care_thread_id, "appointment.rescheduled", identity.user_id, data=data)
            await _mail_client(settings, new, provider, "rescheduled")
    except Exception as exc:
        if is_overlap_violation(exc):
            raise SlotTaken("Someone just took this time. Pick another slot.") from exc
        raise
    return await get_appointment(identity, str(row["id"]))


def _reason(reason: str | None) -> str | None:
    text = " ".join((reason or "").split())
    if len(text) > 500:
        raise InvalidInput("A reason is at most 500 characters.", extra={"field": "reason"})
    return text or None


async def cancel(settings: Settings, identity: Identity, appointment_id: str, *,
                 reason: str | None = None) -> AppointmentView:
    row = await _appointment(identity, appointment_id)
    access = await _care_access(identity, row)
    type_row = await _type_row(row["organization"], row["appointment_type"])
    _may_change(identity, row, type_row, "cancelled")
    provider = await _provider(row["organization"], row["provider"])
    text = _reason(reason)
    async with write_transaction():
        changed = await Appointment.update({
            Appointment.status: CANCELLED, Appointment.cancel_reason: text,
            Appointment.cancelled_at: clock.now(), Appointment.cancelled_by: identity.user_id,
            Appointment.sequence: row["sequence"] + 1, Appointment.next_reminder_at: None,
        }).where(Appointment.id == row["id"], Appointment.status == BOOKED).returning(
            Appointment.id)
        if not changed:
            raise Conflict("This appointment was cancelled.", code="not_booked")
        new = {**row, "status": CANCELLED, "sequence": row["sequence"] + 1}
        data = await _event_data(new, type_row, provider)
        data["reason"] = text
        await threads.append_in_transaction(
            access.care_thread_id, "appointment.cancelled", identity.user_id, data=data)
        await _mail_client(settings, new, provider, "cancelled")
    return await get_appointment(identity, str(row["id"]))


# --- the public booking link -------------------------------------------------------------------


async def _practice_by_code(code: str) -> dict[str, Any]:
    row = await AppointmentSettings.select(
        *AppointmentSettings.all_columns(),
        AppointmentSettings.organization.name.as_alias("organization_name"),
    ).where(AppointmentSettings.booking_code == code).first() if code else None
    if row is None:
        raise NotFound("This booking link is not valid. Ask the practice for a new one.",
                       code="booking_link_invalid")
    return row


async def _public_type(organization_id: uuid.UUID, type_id: str | uuid.UUID
                       ) -> dict[str, Any]:
    row = await _type_row(organization_id, type_id)
    if row["archived"] or row["bookable_by"] != "public":
        raise NotFound("No such appointment type.")
    return row


async def public_page(code: str) -> PublicPage:
    """What the public booking page offers: the practice, its public types, its providers."""
    practice = await _practice_by_code(code)
    org = practice["organization"]
    types = await AppointmentType.select().where(
        AppointmentType.organization == org, AppointmentType.bookable_by == "public",
        AppointmentType.archived.eq(False)).order_by(AppointmentType.name)
    system = _system_identity(org, uuid.uuid4(), "")
    providers = await bookable_providers(system)
    return PublicPage(
        organization=onboarding.Named(practice["organization_name"]),
        types=[PublicType(id=str(t["id"]), name=t["name"], minutes=t["minutes"],
                          location=t["location"]) for t in types],
        providers=[PublicProvider(id=p.id, name=p.name) for p in providers])


async def public_slots(code: str, provider_id: str, type_id: str, start: str | None,
                       end: str | None) -> list[Slot]:
    practice = await _practice_by_code(code)
    provider = await _provider(practice["organization"], provider_id)
    type_row = await _public_type(practice["organization"], type_id)
    lo, hi = _range(start, end)
    return await _slots_for(provider, type_row, lo, hi, as_team=False)


def _system_identity(organization_id: uuid.UUID, user_id: uuid.UUID, name: str) -> Identity:
    return Identity(token_id=uuid.uuid4(), kind="system", user_id=user_id,
                    organization_id=organization_id, account_id=None, role="client",
                    name=name, expires_at=clock.now())


async def _prospective_group(practice: dict[str, Any]) -> uuid.UUID | None:
    if practice["prospective_group"]:
        return uuid.UUID(str(practice["prospective_group"]))
    row = await ClientGroup.select(ClientGroup.id).where(
        ClientGroup.organization == practice["organization"],
        ClientGroup.kind == "prospective").order_by(ClientGroup.created_at).first()
    return row["id"] if row else None


async def public_book(
    settings: Settings, throttle: LoginThrottle, code: str, *, provider_id: str, type_id: str,
    start: datetime, name: str, email: str, time_zone: str | None, address: str,
) -> PublicBooking:
    """Someone not yet a client books a discovery call: a prospective client (with an
    invitation) is added, the call booked, and a confirmation emailed."""
    practice = await _practice_by_code(code)
    org = practice["organization"]
    provider = await _provider(org, provider_id)
    type_row = await _public_type(org, type_id)
    if time_zone is not None:
        _zone(time_zone)
    b = Booking(org, provider, type_row, _utc(start, "start"), as_team=False)
    await _check_start(b)
    await throttle.action("book", address, PUBLIC_BOOKINGS_PER_ADDRESS)
    system = _system_identity(org, provider["id"], provider["name"])
    prepared = await onboarding.prepare_client(system, onboarding.ClientInput(
        name=name, email=email, timezone=time_zone, primary_provider_id=provider["id"],
        group_id=await _prospective_group(practice), send_invite=True))
    if prepared.email is None:
        raise InvalidInput("Give an email address.", extra={"field": "email"})
    try:
        async with write_transaction() as tx:
            created = await onboarding.create_client_in_transaction(settings, system, prepared)
            client = await Client.select(Client.care_thread).where(
                Client.id == created.client_id).first()
            assert client is not None
            access = ClientAccess(created.client_id, org, client["care_thread"], False)
            row = await _book_in_transaction(settings, b, access, None)
            tx.after_commit(lambda: onboarding.after_commit([created]))
    except AppError:
        raise
    except Exception as exc:
        if is_overlap_violation(exc):
            raise SlotTaken("Someone just took this time. Pick another slot.") from exc
        if is_unique_violation(exc):
            raise Conflict("This email already belongs to a client of this practice: sign in "
                           "to book.", code="email_taken") from exc
        raise
    return PublicBooking(
        appointment=PublicAppointment(
            id=str(row["id"]), start=_iso(row["starts_at"]), end=_iso(row["ends_at"]),
            location=row["location"], provider_name=provider["name"],
            type_name=type_row["name"]),
        email=prepared.email)


# --- calendar feeds ----------------------------------------------------------------------------


def feed_link(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/api/v1/appointments.ics?token={token}"


async def reset_feed(settings: Settings, identity: Identity) -> CalendarFeedLink:
    """A new secret address for the caller's calendar feed; the old one stops working."""
    token = new_token()
    async with write_transaction():
        await CalendarFeed.delete().where(CalendarFeed.profile == identity.user_id)
        await CalendarFeed.insert(CalendarFeed(profile=identity.user_id,
                                               token_hash=hash_token(token),
                                               created_at=clock.now()))
    return CalendarFeedLink(feed_link(settings, token))


async def feed_exists(identity: Identity) -> bool:
    return bool(await CalendarFeed.exists().where(CalendarFeed.profile == identity.user_id))


async def stop_feed(identity: Identity) -> None:
    await CalendarFeed.delete().where(CalendarFeed.profile == identity.user_id)


async def feed(settings: Settings, token: str) -> bytes:
    """The iCalendar of the feed's owner: their appointments as client or provider, from 30
    days back on. Summaries name the practice, never a type or a person's health."""
    row = await CalendarFeed.select(CalendarFeed.profile).where(
        CalendarFeed.token_hash == hash_token(token)).first() if token else None
    if row is None:
        raise NotFound("This calendar address is not valid (it may have been reset).")
    profile = await Profile.select(Profile.id, Profile.status, Profile.organization).where(
        Profile.id == row["profile"]).first()
    if profile is None or profile["status"] == "removed":
        raise NotFound("This calendar address is not valid (it may have been reset).")
    since = clock.now() - timedelta(days=30)
    rows = await Appointment.select().where(
        (Appointment.client == profile["id"]) | (Appointment.provider == profile["id"]),
        Appointment.ends_at > since).order_by(Appointment.starts_at).limit(2000)
    org = await Organization.select(Organization.name).where(
        Organization.id == profile["organization"]).first()
    views = await _views(rows)
    return calendar.feed(settings, rows, views, org["name"] if org else "Carethread",
                         owner=profile["id"])
