"""Appointment types, providers' availability, appointments, calendar feeds, practice settings.

Written only by server/appointments/service.py. On PostgreSQL an exclusion constraint (migration
m0023) makes two booked appointments of one provider overlap impossible, whatever the number of
processes; on SQLite the single writer (write_transaction) does.
"""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile
from server.onboarding.tables import ClientGroup


class AppointmentType(Table, tablename="appointment_type"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    name = Varchar(length=100)
    minutes = Integer()
    location = Varchar(length=20)  # video | in_person | phone
    buffer_before = Integer(default=0)  # minutes kept free before
    buffer_after = Integer(default=0)
    min_notice_minutes = Integer(default=0)  # how soon before its start it can be booked
    horizon_days = Integer(default=60)  # how far ahead it can be booked
    slot_interval = Integer(null=True, default=None)  # minutes between starts; None: `minutes`
    cancel_notice_minutes = Integer(default=0)  # a client cancels/reschedules until this before
    form_ids = JSON(default="[]")  # forms requested from the client on booking
    bookable_by = Varchar(length=20, default="clients")  # clients | team | public
    archived = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Availability(Table, tablename="provider_availability"):
    """A provider's weekly hours in their time zone, and dated exceptions."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    provider = ForeignKey(Profile, null=False, unique=True)
    time_zone = Varchar(length=64)
    weekly = JSON(default="[]")  # [{day: 0-6 (Monday 0), start: "HH:MM", end: "HH:MM"}]
    exceptions = JSON(default="[]")  # [{date, available, start?, end?}]
    updated_at = Timestamptz(default=TimestamptzNow())


class Appointment(Table, tablename="appointment"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    provider = ForeignKey(Profile, null=False, index=True)
    client = ForeignKey(Profile, null=False, index=True)
    appointment_type = ForeignKey(AppointmentType, null=False)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    # The provider's time it holds: [starts_at - buffer_before, ends_at + buffer_after).
    block_start = Timestamptz()
    block_end = Timestamptz()
    status = Varchar(length=20, default="booked")  # booked | cancelled
    location = Varchar(length=20)
    video_url = Varchar(length=500, null=True, default=None)
    booked_by = ForeignKey(Profile, null=True, default=None)
    cancel_reason = Text(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    cancelled_by = ForeignKey(Profile, null=True, default=None)
    sequence = Integer(default=0)  # iCalendar SEQUENCE: grows with each change
    reminder_step = Integer(default=0)
    next_reminder_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class CalendarFeed(Table, tablename="calendar_feed"):
    """The secret of a user's iCalendar feed, stored hashed; resetting replaces it."""

    id = UUID(primary_key=True)
    profile = ForeignKey(Profile, null=False, unique=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class AppointmentSettings(Table, tablename="appointment_settings"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, unique=True)
    reminder_hours = JSON(default="[24, 1]")
    # e.g. "https://meet.example.org/sunrise-{appointment_id}"; None: no video links.
    meeting_url_template = Varchar(length=500, null=True, default=None)
    # The public booking page's code (/book/{code}); None until an admin turns it on.
    booking_code = Varchar(length=64, null=True, default=None, unique=True)
    prospective_group = ForeignKey(ClientGroup, null=True, default=None)
