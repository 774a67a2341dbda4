"""The sessions behind one process's open sockets, watched together.

An open socket counts as use of its token, and a token can end in ways no bus message
announces (idle timeout, an edit made elsewhere). Instead of each socket querying (and writing)
its own token every `WS_LIVENESS_SECONDS`, one task per process checks every watched token in
one batch per interval (`accounts.service.ended_sessions`: one SELECT, and one UPDATE for the
tokens due a touch) and closes the sockets of those that ended. Expiry needs no query: each
socket gets a timer for its token's `expires_at`, to the second. Revocations (logout, removal
from the practice) still arrive at once through the bus (`X` payloads, see connection.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime

from server.accounts.service import ended_sessions
from server.identity import Identity
from server.settings import Settings

log = logging.getLogger("carethread.ws.sessions")

OnEnd = Callable[[], None]
Checker = Callable[[Settings, Collection[Identity]], Awaitable[set[uuid.UUID]]]


class SessionWatch:
    """Per process: token id -> (identity, the end callbacks of its open sockets)."""

    def __init__(self, settings: Settings, check: Checker = ended_sessions) -> None:
        self.settings = settings
        self._check = check
        self._watched: dict[uuid.UUID, tuple[Identity, dict[int, OnEnd]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._next_key = 0
        self.checks = 0  # batches run (each a constant number of statements)

    def __len__(self) -> int:
        return sum(len(ends) for _, ends in self._watched.values())

    def watch(self, identity: Identity, on_end: OnEnd) -> Callable[[], None]:
        """Call `on_end` when the token ends; the returned function stops watching."""
        key = self._next_key
        self._next_key += 1
        _, ends = self._watched.setdefault(identity.token_id, (identity, {}))
        ends[key] = on_end
        loop = asyncio.get_running_loop()
        until_expiry = (identity.expires_at - datetime.now(UTC)).total_seconds()
        timer = loop.call_later(max(0.0, until_expiry), on_end)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="session-watch")

        def unwatch() -> None:
            timer.cancel()
            entry = self._watched.get(identity.token_id)
            if entry is not None:
                entry[1].pop(key, None)
                if not entry[1]:
                    del self._watched[identity.token_id]

        return unwatch

    async def check_now(self) -> set[uuid.UUID]:
        """One batch over every watched token; the sockets of ended ones are told."""
        if not self._watched:
            return set()
        identities = [identity for identity, _ in self._watched.values()]
        self.checks += 1
        ended = await self._check(self.settings, identities)
        for token_id in ended:  # told once: an ended token is not checked again
            entry = self._watched.pop(token_id, None)
            for on_end in entry[1].values() if entry else ():
                on_end()
        return ended

    async def _run(self) -> None:
        """Every interval while any socket is open; a failed check is retried next time."""
        while self._watched:
            await asyncio.sleep(self.settings.ws_liveness_seconds)
            try:
                await self.check_now()
            except Exception:
                log.warning("session check failed; retrying in %ss",
                            self.settings.ws_liveness_seconds, exc_info=True)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
