"""The unit of work: what a write transaction must make happen once it has committed.

A service appends events, queues mail or ends sessions inside `write_transaction()`; the
effects are collected here and run only after commit, never after a rollback (Zulip's
`send_event_on_commit`, Synapse's `txn.call_after`). Services never publish by hand.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from server.events import EventRecord

log = logging.getLogger("carethread.uow")

Effect = Callable[[], Awaitable[None] | None]
Prepare = Callable[["UnitOfWork"], Awaitable[None]]


class UnitOfWork:
    """Collects effects during a transaction; `run_effects` fires them after commit."""

    def __init__(self) -> None:
        # Thread events appended in this transaction, in order.
        self.events: list[EventRecord] = []
        # Current members (profile -> role) of threads this transaction read or changed,
        # so recipients are computed once per thread from what the transaction saw.
        self.thread_members: dict[uuid.UUID, dict[uuid.UUID, str]] = {}
        # What a domain read about a thread early, in the same hop as the append (SQLite), so
        # its observer need not ask again: (domain, thread) -> rows.
        self.early_reads: dict[tuple[str, uuid.UUID], list[dict[str, Any]]] = {}
        self._prepares: dict[str, Prepare] = {}
        self._payloads: list[tuple[bytes, list[uuid.UUID]]] = []
        self._wake_mail = False
        self._after: list[Effect] = []

    # --- registering --------------------------------------------------------------------

    def before_commit(self, key: str, step: Prepare) -> None:
        """Run `step` once, inside the transaction, after the body succeeded."""
        self._prepares.setdefault(key, step)

    def publish(self, payload: bytes, recipients: Iterable[uuid.UUID]) -> None:
        """Put a bus payload on the fan-out path after commit."""
        self._payloads.append((payload, list(recipients)))

    def wake_mail(self) -> None:
        """Mail was queued in the outbox: wake the sender after commit."""
        self._wake_mail = True

    def close_sockets(self, user_id: uuid.UUID, token_id: uuid.UUID | None = None) -> None:
        """End the sockets of one token (or all of a user's) in every process, after commit."""
        from server import bus

        self.publish(bus.encode_close(token_id), [user_id])

    def after_commit(self, effect: Effect) -> None:
        """A domain hook to run once the transaction is durable."""
        self._after.append(effect)

    # --- running ------------------------------------------------------------------------

    async def prepare(self) -> None:
        # A step may register another (a hook appending events): run until none is left.
        while self._prepares:
            key = next(iter(self._prepares))
            step = self._prepares.pop(key)
            await step(self)

    async def run_committed(self) -> None:
        """For work whose one statement already committed on its own (a plain message on
        PostgreSQL): the before-commit steps, then the effects. A failing step is logged:
        it must not turn what is stored into an error."""
        token = enter(self)
        try:
            await self.prepare()
        except Exception:
            log.exception("preparing the effects of committed work failed")
        finally:
            leave(token)
        await self.run_effects()

    async def run_effects(self) -> None:
        if self._payloads:
            from server import bus

            fanout = bus.current()
            for payload, recipients in self._payloads:
                fanout.publish(payload, recipients)
        if self._wake_mail and _mail_waker is not None:
            _mail_waker()
        for effect in self._after:
            try:
                result = effect()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                # The action is committed; a failed hook must not turn it into an error.
                log.exception("after-commit effect failed")


_current: contextvars.ContextVar[UnitOfWork | None] = contextvars.ContextVar(
    "unit_of_work", default=None)
_mail_waker: Callable[[], None] | None = None


def install(*, wake_mail: Callable[[], None] | None) -> None:
    """The process's outbox sender, woken after commits that queued mail."""
    global _mail_waker
    _mail_waker = wake_mail


def wake_mail_now() -> None:
    if _mail_waker is not None:
        _mail_waker()


def current() -> UnitOfWork:
    """The unit of work of the write transaction in progress."""
    work = _current.get()
    if work is None:
        raise RuntimeError("this must run inside write_transaction()")
    return work


def current_or_none() -> UnitOfWork | None:
    return _current.get()


def enter(work: UnitOfWork) -> contextvars.Token[Any]:
    return _current.set(work)


def leave(token: contextvars.Token[Any]) -> None:
    _current.reset(token)
