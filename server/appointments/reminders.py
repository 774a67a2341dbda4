"""The appointment reminder job: emails (and a line in the care thread) before each booked
appointment, at the practice's hours (24 h and 1 h by default), each step once in any process.

State lives on the appointment row (`reminder_step`, `next_reminder_at`), so a restart resumes
where it was; the claim is a compare-and-set on the step and the row's `sequence`, so two
processes never send the same step, and a reschedule (new sequence, new plan) wins over a
claim read before it. A job that wakes late sends only the latest step that is due.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from server import clock
from server.accounts.tables import Organization, Profile
from server.appointments import calendar
from server.appointments.service import (
    BOOKED,
    _client_contact,
    _json,
    display_zone,
    practice_row,
)
from server.appointments.tables import Appointment
from server.background import BackgroundTask
from server.db import write_transaction
from server.mail import service as mail
from server.onboarding.tables import Client
from server.settings import Settings
from server.threads import service as threads

log = logging.getLogger("carethread.appointments")
BATCH = 100


def _words(hours: float) -> str:
    if hours >= 24 and hours % 24 == 0:
        days = int(hours // 24)
        return "tomorrow" if days == 1 else f"in {days} days"
    if hours == 1:
        return "in an hour"
    return f"in {hours:g} hours"


class AppointmentReminderJob:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loop = BackgroundTask("appointment-reminders", self._run)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:
                log.exception("appointment reminder pass failed; retrying")
            await asyncio.sleep(self._settings.appointment_reminder_poll_seconds)

    async def run_due(self) -> int:
        now = clock.now()
        due = await Appointment.select().where(
            Appointment.status == BOOKED, Appointment.next_reminder_at <= now,
        ).order_by(Appointment.next_reminder_at).limit(BATCH)
        sent = 0
        for row in due:
            if await self._send(row, now):
                sent += 1
        return sent

    async def _send(self, row: dict[str, Any], now: Any) -> bool:
        hours = _json((await practice_row(row["organization"]))["reminder_hours"])
        step = row["reminder_step"]
        # The latest step already due; earlier ones missed while down are skipped.
        while step + 1 < len(hours) and row["starts_at"] - timedelta(hours=hours[step + 1]) <= now:
            step += 1
        following = step + 1
        next_at = (row["starts_at"] - timedelta(hours=hours[following])
                   if following < len(hours) else None)
        async with write_transaction():
            claimed = await Appointment.update({
                Appointment.reminder_step: following,
                Appointment.next_reminder_at: next_at,
            }).where(
                Appointment.id == row["id"],
                Appointment.reminder_step == row["reminder_step"],
                Appointment.sequence == row["sequence"],
                Appointment.status == BOOKED,
            ).returning(Appointment.id)
            if not claimed:
                return False  # cancelled, moved, or another process took this step
            if step >= len(hours) or row["starts_at"] <= now:
                return False  # nothing left to say, or it has begun
            await self._remind_in_transaction(row, hours[step])
        return True

    async def _remind_in_transaction(self, row: dict[str, Any], hours: float) -> None:
        client = await Client.select(Client.care_thread).where(Client.id == row["client"]).first()
        provider = await Profile.select(Profile.name).where(Profile.id == row["provider"]).first()
        provider_name = provider["name"] if provider else "your provider"
        if client and client["care_thread"]:
            await threads.append_in_transaction(
                client["care_thread"], "appointment.reminded", None,
                data={"appointment_id": str(row["id"]), "hours": hours,
                      "start": row["starts_at"].isoformat()})
        email, tz = await _client_contact(row["client"])
        if email is None:
            return
        org = await Organization.select(Organization.name).where(
            Organization.id == row["organization"]).first()
        practice_name = org["name"] if org else "your practice"
        when = calendar.spoken_time(row["starts_at"],
                                    await display_zone(tz, row["provider"]))
        subject = f"Reminder: appointment {_words(hours)}, {when}"
        lines = [f"A reminder of your appointment with {provider_name} at {practice_name}.",
                 "", f"When: {when}",
                 f"How: {calendar.LOCATION_WORDS.get(row['location'], row['location'])}"]
        if row["video_url"]:
            lines.append(f"Join: {row['video_url']}")
        lines += ["", f"See or change it in Carethread: {self._settings.base_url}"
                      "/#/appointments", ""]
        await mail.enqueue(email, subject, "\n".join(lines))
