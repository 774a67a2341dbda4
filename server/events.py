"""The thread event as one typed record, from the database row to the wire.

An event is encoded to JSON once (`encoded`); the `event` frame, the `ack` frame and every bus
payload reuse those bytes, so fan-out to many members and sockets costs no re-encoding.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

ALL = "all"
STAFF = "staff"


# One JSON object whose shape depends on the event's `kind`; said in the schema, since a `kind`
# outside the object cannot tag a msgspec union (see EventRecord.data).
EventData = Annotated[dict[str, Any], msgspec.Meta(description=(
    "The event's details. Its shape depends on `kind`: docs/api.md §5 \"Kinds\" lists the "
    "fields of each kind (and §12 \"Events\" those of care between visits, tasks, goals, "
    "care plans and programs). Ids in it are strings. Absent on events without details; "
    "later kinds bring new shapes, so read the fields you know and ignore the rest."))]


class EventRecord(msgspec.Struct, omit_defaults=True, dict=True):
    """`{id, thread_id, seq, kind, actor_id, created_at, body?, data?, client_id?}`.

    `audience` appears only for staff-only events. `dict=True` lets a record carry its encoded
    JSON (see `encoded`) without it becoming a field. `body` is absent (UNSET) on events
    without text, and null only on a deleted message (with `deleted_at`); an edited message
    has its latest body and `edited_at`.
    """

    id: uuid.UUID
    thread_id: uuid.UUID
    seq: int
    kind: str
    actor_id: uuid.UUID | None
    created_at: datetime
    body: str | msgspec.UnsetType | None = msgspec.UNSET
    data: EventData | None = None
    client_id: str | None = None
    audience: str = ALL
    edited_at: datetime | None = None
    deleted_at: datetime | None = None

    @property
    def staff_only(self) -> bool:
        return self.audience == STAFF


_encode = msgspec.json.Encoder().encode


def encoded(event: EventRecord) -> bytes:
    """The event's JSON, computed once per record."""
    cached: bytes | None = event.__dict__.get("_json")
    if cached is None:
        cached = _encode(event)
        event.__dict__["_json"] = cached
    return cached


def event_frame(event: EventRecord) -> bytes:
    return b'{"type":"event","event":' + encoded(event) + b"}"


def ack_frame(client_id: str, event: EventRecord) -> bytes:
    return (b'{"type":"ack","client_id":' + _encode(client_id) + b',"event":'
            + encoded(event) + b"}")


def from_row(row: dict[str, Any]) -> EventRecord:
    """A `thread_event` row (Piccolo select or raw SQL) as a record."""
    data = row["data"]
    if isinstance(data, str):
        data = json.loads(data)
    thread = row["thread"]
    actor = row["actor"]
    deleted = row.get("deleted_at")
    return EventRecord(
        id=row["id"] if isinstance(row["id"], uuid.UUID) else uuid.UUID(str(row["id"])),
        thread_id=thread if isinstance(thread, uuid.UUID) else uuid.UUID(str(thread)),
        seq=row["seq"],
        kind=row["kind"],
        actor_id=None if actor is None else (
            actor if isinstance(actor, uuid.UUID) else uuid.UUID(str(actor))),
        created_at=row["created_at"],
        body=body_of(row["body"], deleted),
        data=data,
        client_id=row["client_id"],
        audience=row.get("audience") or ALL,
        edited_at=row.get("edited_at"),
        deleted_at=deleted,
    )


def body_of(body: str | None, deleted_at: datetime | None = None) -> str | msgspec.UnsetType | None:
    """No text is no `body` field, except on a deleted message, which says `body: null`."""
    if body is None and deleted_at is None:
        return msgspec.UNSET
    return body
