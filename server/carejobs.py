"""The jobs of care between visits, on the movable clock: task reminders, goals' period ends
and program modules. Each piece of work is a row with a due time, claimed by compare-and-set
inside the transaction that writes its event, so it runs once across processes and restarts;
a pass that fails is retried on the next one."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from server import background
from server.background import BackgroundTask
from server.goals import service as goals
from server.programs import service as programs
from server.settings import Settings
from server.tasks import service as tasks

log = logging.getLogger("carethread.carejobs")
BATCH = 100


class CareJobs:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loop = BackgroundTask("care-jobs", self._run)

    def start(self) -> None:
        background.wakeup(programs.JOB)  # created on this loop, before anyone wakes it
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _run(self) -> None:
        while True:
            await self.run_due()
            await background.sleep_or_wake(programs.JOB, self._settings.care_poll_seconds)

    async def run_due(self) -> int:
        """One pass over each kind of due work; returns how much this process did."""
        done = 0
        done += await self._each("task reminders", tasks.due_reminders,
                                 lambda row: tasks.send_reminder(self._settings, row))
        done += await self._each("goal periods", goals.due_period_ends, goals.close_period)
        done += await self._each("program modules", programs.due_deliveries,
                                 lambda row: programs.deliver(self._settings, row))
        return done

    async def _each(self, what: str,
                    due: Callable[[int], Awaitable[list[dict[str, Any]]]],
                    run: Callable[[dict[str, Any]], Awaitable[bool]]) -> int:
        done = 0
        try:
            for _ in range(50):  # catch up after downtime, a batch at a time
                rows = await due(BATCH)
                progressed = 0
                for row in rows:
                    if await run(row):
                        progressed += 1
                done += progressed
                if len(rows) < BATCH or not progressed:
                    break
        except Exception:
            log.exception("%s pass failed; retrying on the next", what)
        return done
