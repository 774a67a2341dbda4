"""A job's loop (server/background.py), in-process: the first pass waits `first_after` unless
woken, a pass that stops at its batch limit runs again at once, and a failing pass is retried
at the next poll rather than ending the job."""

from __future__ import annotations

import asyncio

from server.background import PollingJob


class Passes:
    """A pass that records when it ran and answers from a script (True: more is waiting)."""

    def __init__(self, script: list[bool | Exception]) -> None:
        self.script = script
        self.times: list[float] = []
        self.ran = asyncio.Event()

    async def __call__(self) -> bool:
        self.times.append(asyncio.get_running_loop().time())
        self.ran.set()
        step = self.script.pop(0) if self.script else False
        if isinstance(step, Exception):
            raise step
        return step


async def test_the_first_pass_waits_its_delay_and_a_wake_ends_the_wait() -> None:
    passes = Passes([])
    job = PollingJob("delayed", passes, poll_seconds=60, first_after=0.3)
    started = asyncio.get_running_loop().time()
    job.start()
    try:
        await asyncio.sleep(0.15)
        assert passes.times == []  # still inside its first delay
        await asyncio.wait_for(passes.ran.wait(), 1)
        assert passes.times[0] - started >= 0.29
        passes.ran.clear()
        job.wake()  # between passes a wake runs the next one now, not in 60 s
        await asyncio.wait_for(passes.ran.wait(), 1)
        assert len(passes.times) == 2
    finally:
        await job.stop()

    woken = Passes([])
    job = PollingJob("woken", woken, poll_seconds=60, first_after=30)
    job.start()
    try:
        job.wake()
        await asyncio.wait_for(woken.ran.wait(), 1)
    finally:
        await job.stop()


async def test_a_full_batch_runs_again_at_once_and_a_failure_waits_for_the_poll() -> None:
    passes = Passes([True, True, RuntimeError("database went away"), False])
    job = PollingJob("batches", passes, poll_seconds=1.0)
    job.start()
    try:
        for _ in range(200):
            if len(passes.times) >= 4:
                break
            await asyncio.sleep(0.02)
        first, second, failed, retried = passes.times[:4]
        assert second - first < 0.5 and failed - second < 0.5  # more was waiting: no sleep
        assert retried - failed >= 0.99  # the failure is logged and retried at the next poll
    finally:
        await job.stop()
