"""A test-only hook that makes the bus lose, delay and reorder publishes.

Storage is the record and the bus only a fast path: sockets must deliver every seq once, in
order, filling gaps from storage. Tests prove it by starting servers with
`CARETHREAD_TEST_BUS_FAULTS="drop=0.3,reorder=0.3,delay_ms=20,count=200,seed=7"`: the first
`count` publishes of the process are dropped, held back behind the next one, or delayed, at
the given rates. Unset (always, outside tests), the bus publishes as is.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable

import msgspec

ENV = "CARETHREAD_TEST_BUS_FAULTS"

Publication = tuple[bytes, list[str]]
Publish = Callable[[list[Publication]], Awaitable[None]]


class Faults(msgspec.Struct, frozen=True):
    drop: float = 0.0
    reorder: float = 0.0
    delay_ms: int = 0
    count: int = 1_000_000
    seed: int = 0


def from_env() -> Faults | None:
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    fields = dict(part.split("=", 1) for part in raw.split(",") if part.strip())
    return msgspec.convert(fields, Faults, strict=False)


class FaultyPublisher:
    """Wraps the real publish with the configured faults."""

    def __init__(self, faults: Faults, publish: Publish) -> None:
        self._faults = faults
        self._publish = publish
        self._random = random.Random(faults.seed)
        self._seen = 0
        self._held: tuple[bytes, list[str]] | None = None

    async def __call__(self, batch: list[Publication]) -> None:
        """Each publication of the batch meets the faults in turn, and goes out alone."""
        for payload, channels in batch:
            await self._one(payload, channels)

    async def _one(self, payload: bytes, channels: list[str]) -> None:
        self._seen += 1
        faults, roll = self._faults, self._random.random()
        if self._seen > faults.count or not payload.startswith(b"E"):
            await self._flush_after(payload, channels)
            return
        if faults.delay_ms:
            await asyncio.sleep(self._random.random() * faults.delay_ms / 1000)
        if roll < faults.drop:
            return
        if roll < faults.drop + faults.reorder and self._held is None:
            self._held = (payload, channels)  # goes out after the next one
            return
        await self._flush_after(payload, channels)

    async def _flush_after(self, payload: bytes, channels: list[str]) -> None:
        await self._publish([(payload, channels)])
        if self._held is not None:
            held, self._held = self._held, None
            await self._publish([held])
