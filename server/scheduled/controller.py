"""HTTP for scheduled messages: list and cancel (scheduling is `send_at` on a message)."""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Controller, delete, get
from litestar.status_codes import HTTP_204_NO_CONTENT

from server.identity import Identity
from server.scheduled import service


class ScheduledListOut(msgspec.Struct):
    scheduled: list[service.ScheduledView]


class ScheduledController(Controller):
    path = "/api/v1/scheduled"
    tags = ["scheduled messages"]

    @get("/")
    async def list(
        self, identity: Identity, thread_id: str | None = None,
        status: Literal["scheduled", "sent", "cancelled", "failed"] | None = None,
    ) -> ScheduledListOut:
        """The caller's own scheduled messages, soonest first (a failed one says why)."""
        return ScheduledListOut(await service.list_scheduled(identity, thread_id, status))

    @delete("/{scheduled_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def cancel(self, scheduled_id: str, identity: Identity) -> None:
        """Cancel a message not sent yet; it will not be sent."""
        await service.cancel(identity, scheduled_id)
