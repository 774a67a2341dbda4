"""Queueing email: callers write to the outbox inside their own transaction."""

from __future__ import annotations

from server.mail.tables import OutboxEmail


async def enqueue(to_address: str, subject: str, body: str) -> None:
    """Store the message; the sender delivers it after commit, retrying until it goes."""
    await OutboxEmail.insert(
        OutboxEmail(to_address=to_address, subject=subject, body=body)
    )
