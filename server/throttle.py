"""Counting failed logins per email and per address, in the shared store."""

from __future__ import annotations

import hashlib
import logging

from litestar.stores.base import Store

from server.errors import RateLimited

log = logging.getLogger("carethread.throttle")


class LoginThrottle:
    """After `limit` failures in `window` seconds, further logins answer `rate_limited`.

    Counted per email (stops guessing one password) and, five times looser, per client
    address (stops spraying many emails). Kept in the Redis store when there is one, so all
    processes share the count.
    """

    def __init__(self, store: Store, limit: int, window_seconds: int) -> None:
        self._store = store
        self._limit = limit
        self._window = window_seconds

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str]:
        digest = hashlib.sha256(email.encode()).hexdigest()[:32]
        return f"login-fail:email:{digest}", f"login-fail:addr:{address}"

    async def _count(self, key: str) -> int:
        try:
            raw = await self._store.get(key)
        except Exception as exc:  # the store (Redis) is down: fail open, argon2 still paces
            log.warning("login throttle store unavailable: %s", exc)
            return 0
        return int(raw) if raw else 0

    async def check(self, email: str, address: str) -> None:
        by_email, by_addr = self._keys(email, address)
        for key, limit in ((by_email, self._limit), (by_addr, self._limit * 5)):
            if await self._count(key) >= limit:
                try:
                    retry = await self._store.expires_in(key) or self._window
                except Exception:
                    retry = self._window
                raise RateLimited(
                    "Too many failed logins. Try again later.",
                    headers={"Retry-After": str(max(1, retry))},
                )

    async def failed(self, email: str, address: str) -> None:
        try:
            for key in self._keys(email, address):
                count = await self._count(key)
                remaining = await self._store.expires_in(key) if count else None
                await self._store.set(key, str(count + 1), expires_in=remaining or self._window)
        except Exception as exc:
            log.warning("login throttle store unavailable: %s", exc)

    async def succeeded(self, email: str) -> None:
        try:
            await self._store.delete(self._keys(email, "")[0])
        except Exception as exc:
            log.warning("login throttle store unavailable: %s", exc)

    async def action(self, action: str, address: str, limit: int) -> None:
        """Count an action that sends email or creates a login, per client address."""
        key = f"action:{action}:{address}"
        if await self._count(key) >= limit:
            raise RateLimited("Too many requests from this address. Try again later.",
                              headers={"Retry-After": str(self._window)})
        try:
            count = await self._count(key)
            remaining = await self._store.expires_in(key) if count else None
            await self._store.set(key, str(count + 1), expires_in=remaining or self._window)
        except Exception as exc:
            log.warning("throttle store unavailable: %s", exc)
