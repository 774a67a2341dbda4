"""HTTP for broadcasts: make one (now or scheduled), follow its progress, cancel it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from server.broadcasts import service
from server.identity import Identity
from server.runtime import Runtime


class BroadcastIn(msgspec.Struct):
    body: Annotated[str, msgspec.Meta(max_length=65_536)]
    group_id: uuid.UUID | None = None
    client_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=service.MAX_RECIPIENTS)] = []
    send_at: datetime | None = None


class BroadcastOut(msgspec.Struct):
    broadcast: service.BroadcastView


class BroadcastsOut(msgspec.Struct):
    broadcasts: list[service.BroadcastView]


class RecipientsOut(msgspec.Struct):
    recipients: list[service.RecipientView]


class BroadcastsController(Controller):
    path = "/api/v1/broadcasts"
    tags = ["broadcasts"]

    @post("/", status_code=HTTP_201_CREATED,
          responses={202: ResponseSpec(BroadcastOut, description="Scheduled for send_at")})
    async def create(self, data: BroadcastIn, identity: Identity, runtime: Runtime
                     ) -> Response[BroadcastOut]:
        """One message from the caller in each chosen client's care thread: 201 when it goes
        now, 202 when `send_at` is later. Recipients are fixed now."""
        made = await service.create(
            identity, body=data.body, group_id=data.group_id, client_ids=data.client_ids,
            send_at=data.send_at, max_length=runtime.settings.max_message_length)
        status = HTTP_202_ACCEPTED if data.send_at is not None else HTTP_201_CREATED
        return Response(BroadcastOut(made), status_code=status)

    @get("/")
    async def list(self, identity: Identity) -> BroadcastsOut:
        """The caller's broadcasts (all of the practice's for owners and admins), newest first."""
        return BroadcastsOut(await service.list_broadcasts(identity))

    @get("/{broadcast_id:str}")
    async def show(self, broadcast_id: str, identity: Identity) -> BroadcastOut:
        """Progress: recipients, sent, failed, pending."""
        return BroadcastOut(await service.get(identity, broadcast_id))

    @get("/{broadcast_id:str}/recipients")
    async def recipients(self, broadcast_id: str, identity: Identity) -> RecipientsOut:
        return RecipientsOut(await service.recipients(identity, broadcast_id))

    @delete("/{broadcast_id:str}", status_code=HTTP_200_OK)
    async def cancel(self, broadcast_id: str, identity: Identity) -> BroadcastOut:
        """Stop it: clients not reached yet get nothing."""
        return BroadcastOut(await service.cancel(identity, broadcast_id))
