"""Secrets: random tokens stored as hashes, and argon2id passwords hashed off the event loop."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import multiprocessing
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from server.settings import Settings

TOKEN_BYTES = 32  # 256 bits

T = TypeVar("T")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Tokens are high-entropy, so a fast unsalted digest is enough to make a leak useless."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def sign(secret_key: str, value: str) -> str:
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


_worker_hasher: PasswordHasher | None = None


def _start_hashing_worker(time_cost: int, memory_kib: int, parallelism: int, niceness: int
                          ) -> None:
    """Initializer of each hashing process: lower priority first (argon2's lane threads,
    created later by this thread, inherit it), then the hasher. Not Linux's idle class: under
    a sustained load it would starve logins for minutes, and back to back it gained nothing
    over nice +10 (bench/RESULTS.md)."""
    global _worker_hasher
    os.nice(niceness)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _worker_hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                                    parallelism=parallelism)


def _exit_with_parent(parent: int) -> None:
    """A killed server must not leave hashing processes behind (they hold both ends of the
    pool's queue, so they would never see it close)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _hash_in_worker(password: str) -> str:
    assert _worker_hasher is not None
    return _worker_hasher.hash(password)


def _verify_in_worker(stored_hash: str, password: str) -> bool:
    assert _worker_hasher is not None
    try:
        return _worker_hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class Passwords:
    """argon2id (default parameters unless set) in a pool of separate, lower-priority processes.

    Threads would share the interpreter with the event loop and compete with it at the same
    priority; processes at nice +10 (by default) use the cores the loop leaves idle. The pool's
    size bounds memory (each hash holds `ARGON2_MEMORY_KIB`); it starts with the first hash and
    is rebuilt if a worker dies.
    """

    def __init__(self, settings: Settings) -> None:
        # Hashing processes run this much nicer than the server (PASSWORD_HASH_NICENESS, 10),
        # so the kernel gives the event loop's core back at once when a request arrives.
        self._params = (settings.argon2_time_cost, settings.argon2_memory_kib,
                        settings.argon2_parallelism, settings.password_hash_niceness)
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._workers = max(1, settings.password_hash_concurrency)
        self._pool: ProcessPoolExecutor | None = None
        # Verified against when an email is unknown, so both answers cost the same.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),  # never fork a running loop
                initializer=_start_hashing_worker,
                initargs=self._params,
            )
        return self._pool

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), fn, *args)
        except BrokenProcessPool:
            # A worker died (out of memory, killed): a fresh pool, one more try.
            self.close()
            return await loop.run_in_executor(self._executor(), fn, *args)

    async def hash(self, password: str) -> str:
        return await self._run(_hash_in_worker, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        ok = await self._run(_verify_in_worker, stored_hash or self._dummy_hash, password)
        return ok and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    def close(self) -> None:
        """Stop the hashing processes (the next hash starts new ones)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
