"""Queueing email: callers write to the outbox inside their own transaction."""

from __future__ import annotations

import json

import msgspec

from server import uow
from server.mail.tables import OutboxEmail


class Attachment(msgspec.Struct, frozen=True):
    """A text attachment (an .ics invitation): stored with the message, sent as a MIME part."""

    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    content: str


async def enqueue(to_address: str, subject: str, body: str,
                  headers: dict[str, str] | None = None,
                  attachments: list[Attachment] | None = None) -> None:
    """Store the message; the sender is woken after commit and retries until it goes.
    `headers` are extra headers (List-Unsubscribe, ...)."""
    await OutboxEmail.insert(
        OutboxEmail(to_address=to_address, subject=subject, body=body, headers=headers,
                    attachments=json.dumps([msgspec.to_builtins(a) for a in attachments])
                    if attachments else None)
    )
    work = uow.current_or_none()
    if work is not None:
        work.wake_mail()
    else:  # stored at once (autocommit)
        uow.wake_mail_now()
