"""Client frames as a msgspec tagged union: every frame is validated before it is acted on."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec

from server import inputs

ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Seq = Annotated[int, msgspec.Meta(ge=0)]


class Send(msgspec.Struct, tag="send", tag_field="type", forbid_unknown_fields=False):
    thread_id: uuid.UUID
    client_id: ClientId
    body: str
    reply_to: uuid.UUID | None = None
    attachments: Annotated[list[uuid.UUID], msgspec.Meta(max_length=10)] = []


class Sync(msgspec.Struct, tag="sync", tag_field="type"):
    cursors: dict[uuid.UUID, Seq]


class Typing(msgspec.Struct, tag="typing", tag_field="type"):
    thread_id: uuid.UUID


class Read(msgspec.Struct, tag="read", tag_field="type"):
    thread_id: uuid.UUID
    seq: Seq


class Ping(msgspec.Struct, tag="ping", tag_field="type"):
    pass


ClientFrame = Send | Sync | Typing | Read | Ping

def decode_frame(raw: str | bytes) -> ClientFrame:
    """A frame, decoded like every HTTP body (server/inputs.py): strict types, no NUL in any
    text, no nesting too deep to decode. Every refusal is a ValidationError: `invalid_frame`."""
    try:
        frame: ClientFrame = inputs.decode_json(raw, ClientFrame)
    except inputs.RefusedInput as exc:
        raise msgspec.ValidationError(str(exc)) from None
    return frame


encode = msgspec.json.Encoder().encode


def client_id_of(raw: str | bytes) -> str | None:
    """Best effort: the client_id of a frame that failed validation, to echo in the error."""
    try:
        value = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None
    if isinstance(value, dict):
        cid = value.get("client_id")
        if isinstance(cid, str) and len(cid) <= 64:
            return cid
    return None


# Close codes (also in docs/api.md).
CLOSE_UNAUTHENTICATED = 4401  # no, bad or ended session: log in again
CLOSE_ORIGIN = 4403  # a browser Origin that is not allowed
CLOSE_TOO_SLOW = 4008  # the client fell too far behind: reconnect and sync
CLOSE_SYNC_LATE = 4009  # a sync asked for events older than ones already sent: reconnect
CLOSE_ABUSE = 4429  # far over the frame rate
CLOSE_TOO_BIG = 1009  # a frame over MAX_FRAME_BYTES (closed by the server's WebSocket layer)
