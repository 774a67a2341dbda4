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
