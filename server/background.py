"""One named task for a job's loop, started and stopped with the app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable


class BackgroundTask:
    def __init__(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        self._name = name
        self._run = run
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        async def main() -> None:
            await self._run()

        self._task = asyncio.create_task(main(), name=self._name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class PollingJob:
    """A job's loop: run a pass, then sleep until the next poll or an early wake-up.

    `run_pass` returns True when it stopped at a batch limit, so more work is waiting. A pass
    that fails is logged and retried at the next poll; state lives in the database, so a
    restart resumes where the job was. `first_after` delays the first pass (an early
    `wake()` ends the wait).
    """

    def __init__(self, name: str, run_pass: Callable[[], Awaitable[bool]],
                 poll_seconds: float, first_after: float = 0) -> None:
        import logging

        self._log = logging.getLogger(f"carethread.{name}")
        self._run_pass = run_pass
        self._poll = poll_seconds
        self._first_after = first_after
        self._wake = asyncio.Event()
        self._task = BackgroundTask(name, self._run)

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    def wake(self) -> None:
        """Run a pass now rather than at the next poll (in this process)."""
        self._wake.set()

    async def _run(self) -> None:
        if self._first_after > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._first_after)
        while True:
            self._wake.clear()
            try:
                more = await self._run_pass()
            except Exception:
                self._log.exception("pass failed; retrying at the next poll")
                more = False
            if more:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
_wakeups: dict[str, asyncio.Event] = {}


def wakeup(name: str) -> asyncio.Event:
    """A named event a job's loop waits on between passes, so work that is due now (a program's
    day-0 module) need not wait for the next poll."""
    return _wakeups.setdefault(name, asyncio.Event())


def wake(name: str) -> None:
    """Run the job `name` of this process now (other processes find the work on their poll)."""
    event = _wakeups.get(name)
    if event is not None:
        event.set()


async def sleep_or_wake(name: str, seconds: float) -> None:
    event = wakeup(name)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    event.clear()
