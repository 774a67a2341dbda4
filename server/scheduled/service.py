"""Scheduled messages: written now, nothing in the log until `send_at`, then sent once.

The rules: only a current member schedules in a thread; `send_at` lies in the future (on the
jobs' clock); the author lists and cancels their own. At `send_at` the job sends it in the
author's name only if they are still a member (and active); otherwise it fails visibly.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec

from server import clock, uow
from server.db import is_unique_violation, write_transaction
from server.errors import Conflict, InvalidInput, NotFound
from server.identity import Identity
from server.scheduled.tables import ScheduledMessage
from server.threads import service as threads

SCHEDULED = "scheduled"
SENT = "sent"
CANCELLED = "cancelled"
FAILED = "failed"
MAX_AHEAD = timedelta(days=366)
MAX_LIST = 200
BATCH = 100


class ScheduledView(msgspec.Struct):
    id: uuid.UUID
    thread_id: uuid.UUID
    client_id: str
    body: str
    send_at: datetime
    status: str
    failure: str | None
    event_id: uuid.UUID | None
    created_at: datetime


def view(row: dict[str, Any]) -> ScheduledView:
    return ScheduledView(
        id=row["id"], thread_id=row["thread"], client_id=row["client_id"], body=row["body"],
        send_at=row["send_at"], status=row["status"], failure=row["failure"],
        event_id=row["event_id"], created_at=row["created_at"],
    )


def check_send_at(send_at: datetime) -> datetime:
    """A future time with a zone, at most a year ahead; refused otherwise (nothing stored)."""
    if send_at.tzinfo is None:
        raise InvalidInput("send_at needs a time zone (RFC 3339, e.g. 2026-12-01T09:00:00Z).",
                           code="invalid_send_at", extra={"field": "send_at"})
    now = clock.now()
    if send_at <= now:
        raise InvalidInput("send_at must be in the future.", code="send_at_in_past",
                           extra={"field": "send_at"})
    if send_at > now + MAX_AHEAD:
        raise InvalidInput("send_at may be at most a year ahead.", code="invalid_send_at",
                           extra={"field": "send_at"})
    return send_at


async def schedule(
    identity: Identity, thread_id: str, *, body: str, client_id: str, send_at: datetime,
    max_length: int,
) -> ScheduledView:
    """Store a message to be sent later; the same client_id again returns the one stored."""
    threads.check_body(body, max_length)
    when = check_send_at(send_at)
    tid = await threads.open_member(identity, thread_id)
    row = ScheduledMessage(
        organization=identity.organization_id, thread=tid, author=identity.user_id,
        client_id=client_id, body=body, send_at=when, status=SCHEDULED, created_at=clock.now(),
    )
    try:
        async with write_transaction() as work:
            await row.save()
            work.after_commit(_wake)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        existing = await ScheduledMessage.select().where(
            ScheduledMessage.author == identity.user_id,
            ScheduledMessage.client_id == client_id).first()
        if existing is None or existing["thread"] != tid:
            raise Conflict("This client_id was already used for another message.",
                           code="client_id_reused") from exc
        return view(existing)
    stored = await ScheduledMessage.select().where(ScheduledMessage.id == row.id).first()
    assert stored is not None
    return view(stored)


async def list_scheduled(identity: Identity, thread_id: str | None = None,
                         status: str | None = None) -> list[ScheduledView]:
    """The caller's own scheduled messages (all states unless `status`), soonest first."""
    query = ScheduledMessage.select().where(
        ScheduledMessage.author == identity.user_id,
        ScheduledMessage.organization == identity.organization_id)
    if thread_id is not None:
        query = query.where(ScheduledMessage.thread == threads.parse_id(thread_id))
    if status is not None:
        query = query.where(ScheduledMessage.status == status)
    rows = await query.order_by(ScheduledMessage.send_at).limit(MAX_LIST)
    return [view(r) for r in rows]


async def cancel(identity: Identity, scheduled_id: str) -> None:
    """The author cancels a message not sent yet; it will not be sent."""
    sid = threads.parse_id(scheduled_id, "scheduled message")
    async with write_transaction():
        done = await ScheduledMessage.update({
            ScheduledMessage.status: CANCELLED, ScheduledMessage.finished_at: clock.now(),
        }).where(
            ScheduledMessage.id == sid, ScheduledMessage.author == identity.user_id,
            ScheduledMessage.status == SCHEDULED,
        ).returning(ScheduledMessage.id)
        if done:
            return
        row = await ScheduledMessage.select(ScheduledMessage.status).where(
            ScheduledMessage.id == sid, ScheduledMessage.author == identity.user_id).first()
    if row is None:
        raise NotFound("No such scheduled message.")
    raise Conflict(f"This message is already {row['status']}.", code="not_scheduled")


# --- the job -------------------------------------------------------------------------------

_waker: list[Any] = []


def _wake() -> None:
    for wake in _waker:
        wake()


def install(wake: Any) -> None:
    _waker[:] = [wake]


async def send_due() -> bool:
    """Send what is due; True when a full batch suggests more are waiting."""
    due = await ScheduledMessage.select(ScheduledMessage.id).where(
        ScheduledMessage.status == SCHEDULED, ScheduledMessage.send_at <= clock.now(),
    ).order_by(ScheduledMessage.send_at).limit(BATCH)
    for row in due:
        await send_one(row["id"])
    return len(due) == BATCH


async def send_one(scheduled_id: uuid.UUID) -> str | None:
    """Claim and send one message in one transaction: the compare-and-set on its status and
    the append commit together, so another process (or a retry after a crash) never sends it
    again. Returns the new status, or None if another process had it."""
    try:
        async with write_transaction() as work:
            claimed = await ScheduledMessage.update({
                ScheduledMessage.status: SENT, ScheduledMessage.finished_at: clock.now(),
            }).where(
                ScheduledMessage.id == scheduled_id, ScheduledMessage.status == SCHEDULED,
            ).returning(*ScheduledMessage.all_columns())
            if not claimed:
                return None
            row = claimed[0]
            event = await threads.send_as_member_in_transaction(
                row["thread"], row["author"], row["organization"], body=row["body"],
                client_id=row["client_id"], data={"scheduled_id": str(row["id"])},
            )
            if event is None:
                status = await _finish(row, FAILED, failure="not_a_member")
            else:
                status = SENT
                await ScheduledMessage.update({ScheduledMessage.event_id: event.id}).where(
                    ScheduledMessage.id == scheduled_id)
            _tell_author(work, row, status)
            return status
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    # The author had already used this client_id for a message sent directly.
    async with write_transaction() as work:
        claimed = await ScheduledMessage.update({
            ScheduledMessage.status: FAILED, ScheduledMessage.failure: "duplicate_client_id",
            ScheduledMessage.finished_at: clock.now(),
        }).where(ScheduledMessage.id == scheduled_id, ScheduledMessage.status == SCHEDULED
                 ).returning(*ScheduledMessage.all_columns())
        if claimed:
            _tell_author(work, claimed[0], FAILED)
    return FAILED


async def _finish(row: dict[str, Any], status: str, *, failure: str) -> str:
    await ScheduledMessage.update({
        ScheduledMessage.status: status, ScheduledMessage.failure: failure,
    }).where(ScheduledMessage.id == row["id"])
    return status


def _tell_author(work: uow.UnitOfWork, row: dict[str, Any], status: str) -> None:
    """A signal on the author's sockets (best effort): the list in their app updates."""
    frame = {"type": "scheduled", "scheduled_id": str(row["id"]),
             "thread_id": str(row["thread"]), "status": status}
    work.publish(threads.signal_frame(frame), [row["author"]])
