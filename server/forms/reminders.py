"""The reminder job: open requests get reminders on schedule, each step once, in any process."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from server import clock
from server.background import BackgroundTask
from server.db import write_transaction
from server.forms.service import OPEN, send_reminder_in_transaction
from server.forms.tables import FormRequest
from server.settings import Settings

log = logging.getLogger("carethread.forms")
BATCH = 100


class ReminderJob:
    """Polls for due reminders. State lives in the table (step, next time), so a restart
    resumes where it was, and a compare-and-set on the step means two processes never send
    the same step twice."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loop = BackgroundTask("form-reminders", self._run)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:
                log.exception("reminder pass failed; retrying")
            await asyncio.sleep(self._settings.form_reminder_poll_seconds)

    async def run_due(self) -> int:
        now = clock.now()
        due = await FormRequest.select().where(
            FormRequest.status == OPEN, FormRequest.next_reminder_at <= now,
            FormRequest.client.status != "removed",
        ).order_by(FormRequest.next_reminder_at).limit(BATCH)
        sent = 0
        for row in due:
            if await self._send_step(row):
                sent += 1
        return sent

    async def _send_step(self, row: dict[str, Any]) -> bool:
        step = row["reminder_step"]
        schedule = self._settings.form_reminder_days
        following = (row["created_at"] + timedelta(days=schedule[step + 1])
                     if step + 1 < len(schedule) else None)
        async with write_transaction():
            claimed = await FormRequest.update({
                FormRequest.reminder_step: step + 1,
                FormRequest.next_reminder_at: following,
            }).where(
                FormRequest.id == row["id"],
                FormRequest.reminder_step == step,
                FormRequest.status == OPEN,
            ).returning(FormRequest.id)
            if not claimed:
                return False  # completed, cancelled, or another process took this step
            await send_reminder_in_transaction(
                self._settings, row, None, manual=False, step=step + 1)
        return True
