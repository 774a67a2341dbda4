"""What the chat adds on top of the event log: replies, reactions, what counts as new (unread)
and what a thread list previews. Every rule here goes through the threads service's own
membership checks; reactions and replies are events like any other.
"""

from __future__ import annotations

import uuid
from typing import Any

from server.db import sql_list, write_transaction
from server.errors import InvalidInput, NotFound
from server.events import EventRecord
from server.identity import Identity
from server.threads import service
from server.threads.tables import Event

REACTION = "reaction"
# The reactions the browser offers; an app may send any of these.
EMOJI = ("👍", "❤️", "😂", "😮", "😢", "🙏", "✅")

# What a person would call new (docs/api.md, "Unread"): messages, and the cards meant for them.
# Bookkeeping (members, edits, reactions, system lines) never counts.
UNREAD_KINDS = frozenset({service.MESSAGE})
UNREAD_KINDS_CLIENT = frozenset({
    "form.requested", "form.reminded", "task.assigned", "document.shared", "care_plan.shared",
    "program.module", "appointment.booked", "appointment.cancelled", "appointment.rescheduled",
})
UNREAD_KINDS_TEAM = frozenset({
    "form.completed", "task.completed", "journal.entry", "appointment.booked",
    "appointment.cancelled", "appointment.rescheduled",
})
# What a thread list shows as the latest thing in a chat: a message or a card (for anyone:
# the team sees the cards meant for the client too), never bookkeeping or system lines.
PREVIEWED = UNREAD_KINDS | UNREAD_KINDS_CLIENT | UNREAD_KINDS_TEAM | {"form.cancelled"}


def unread_kinds(staff: bool) -> frozenset[str]:
    return UNREAD_KINDS | (UNREAD_KINDS_TEAM if staff else UNREAD_KINDS_CLIENT)


def unread_kinds_sql(staff: bool) -> str:
    return sql_list(unread_kinds(staff))


async def _visible_message(identity: Identity, thread_id: uuid.UUID,
                           event_id: uuid.UUID) -> dict[str, Any]:
    """A message of this thread that the caller may see (inside their membership window)."""
    row = await Event.select(Event.id, Event.seq, Event.kind, Event.audience).where(
        Event.id == event_id, Event.thread == thread_id).first()
    if row is None or row["kind"] != service.MESSAGE:
        raise NotFound("No such message in this thread.", extra={"field": "event_id"})
    if row["audience"] != service.ALL and not service.sees_staff_events(identity):
        raise NotFound("No such message in this thread.", extra={"field": "event_id"})
    windows = (await service.visible_windows(identity.user_id, [thread_id])).get(thread_id, [])
    if not service.in_windows(row["seq"], windows):
        raise NotFound("No such message in this thread.", extra={"field": "event_id"})
    return row


async def reply_data(identity: Identity, thread_id: uuid.UUID,
                     reply_to: uuid.UUID | None) -> dict[str, Any] | None:
    """`data` of a message that replies to (quotes) another; call inside the send's
    transaction, after the membership check. Only the id is stored: the quoted text is always
    the original's current one, so an edit or a delete shows through."""
    if reply_to is None:
        return None
    await _visible_message(identity, thread_id, reply_to)
    return {"reply_to": str(reply_to)}


def _check_emoji(emoji: str) -> str:
    if emoji not in EMOJI:
        raise InvalidInput("emoji must be one of " + " ".join(EMOJI) + ".",
                           code="invalid_emoji", extra={"field": "emoji"})
    return emoji


async def _standing(thread_id: uuid.UUID, actor_id: uuid.UUID, event_id: uuid.UUID,
                    emoji: str, after_seq: int) -> EventRecord | None:
    """This person's reaction (message, emoji) if it still stands: the latest word on it."""
    rows = await Event.select().where(
        Event.thread == thread_id, Event.kind == REACTION, Event.actor == actor_id,
        Event.seq > after_seq,
    ).order_by(Event.seq)
    standing = None
    for row in rows:
        view = service.event_view(row)
        data = view.data or {}
        if data.get("event_id") == str(event_id) and data.get("emoji") == emoji:
            standing = None if data.get("removed") else view
    return standing


async def react(identity: Identity, thread_id: str, event_id: str, emoji: str, *,
                remove: bool = False) -> tuple[EventRecord, bool]:
    """Add (or take back) a reaction to a message: an event of kind `reaction` with
    `data: {event_id, emoji}` (and `removed: true` when taken back). Members only, like
    sending; a reaction is its author's alone to take back. Reacting twice answers the
    reaction already standing (created False)."""
    tid = service.parse_id(thread_id)
    target_id = service.parse_id(event_id, "message")
    _check_emoji(emoji)
    async with write_transaction():  # the unit of work publishes the reaction after commit
        await service.lock_thread(tid)
        await service._open_membership(identity, tid)
        target = await _visible_message(identity, tid, target_id)
        standing = await _standing(tid, identity.user_id, target_id, emoji, target["seq"])
        if standing is not None and not remove:
            return standing, False
        if standing is None and remove:
            raise NotFound("You have not reacted with that.", code="no_reaction")
        data: dict[str, Any] = {"event_id": str(target_id), "emoji": emoji}
        if remove:
            data["removed"] = True
        view = await service.append_in_transaction(
            tid, REACTION, identity.user_id, data=data, audience=target["audience"])
    return view, True


async def latest_visible(
    thread_ids: list[uuid.UUID], mine: dict[uuid.UUID, dict[str, Any]], staff: bool
) -> dict[uuid.UUID, EventRecord]:
    """The newest event of each thread that a member would see as news (a message or a card),
    for thread-list previews."""
    latest: dict[uuid.UUID, EventRecord] = {}
    shown = sql_list(PREVIEWED)
    audience = "" if staff else "AND audience = 'all' "
    for start in range(0, len(thread_ids), service.SYNC_BATCH):
        batch = thread_ids[start:start + service.SYNC_BATCH]
        placeholders = ", ".join("{}" for _ in batch)
        rows = await Event.raw(
            "SELECT e.* FROM thread_event e JOIN ("
            "SELECT thread, MAX(seq) AS seq FROM thread_event "
            f"WHERE kind IN ({shown}) {audience}AND thread IN ({placeholders}) "
            "GROUP BY thread) last ON last.thread = e.thread AND last.seq = e.seq",
            *batch,
        )
        for row in rows:
            tid = uuid.UUID(str(row["thread"]))
            member = mine.get(tid)
            if member is None or row["seq"] >= member["joined_seq"]:
                row["thread"] = tid
                latest[tid] = service.event_view(row)
    return latest
