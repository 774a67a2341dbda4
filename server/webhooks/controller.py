"""HTTP for webhooks (owners and admins): register, list, change, rotate, deliveries log."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.identity import Identity
from server.runtime import Runtime
from server.webhooks import service

Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Kinds = Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]],
                  msgspec.Meta(max_length=service.MAX_EVENTS)]


class WebhookIn(msgspec.Struct):
    url: Url
    events: Kinds
    trusted: bool = False


class WebhookPatch(msgspec.Struct):
    url: Url | None = None
    events: Kinds | None = None
    trusted: bool | None = None
    active: bool | None = None


class WebhookOut(msgspec.Struct):
    webhook: service.WebhookView


class WebhookSecretOut(msgspec.Struct):
    webhook: service.WebhookView
    secret: str  # shown once


class WebhooksOut(msgspec.Struct):
    webhooks: list[service.WebhookView]


class DeliveriesOut(msgspec.Struct):
    deliveries: list[service.DeliveryView]


class WebhooksController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, data: WebhookIn, identity: Identity, runtime: Runtime
                     ) -> WebhookSecretOut:
        """Register a URL for event kinds (`message`, `form.*`, `*`...); the signing secret
        is shown only in this answer. `trusted` (owners only) adds team-only events."""
        hook, secret = await service.create(runtime.settings, identity, url=data.url,
                                            events=data.events, trusted=data.trusted)
        return WebhookSecretOut(hook, secret)

    @get("/")
    async def list(self, identity: Identity) -> WebhooksOut:
        return WebhooksOut(await service.list_webhooks(identity))

    @get("/{webhook_id:str}")
    async def show(self, webhook_id: str, identity: Identity) -> WebhookOut:
        return WebhookOut(await service.get(identity, webhook_id))

    @patch("/{webhook_id:str}")
    async def update(self, webhook_id: str, data: WebhookPatch, identity: Identity,
                     runtime: Runtime) -> WebhookOut:
        return WebhookOut(await service.update(
            runtime.settings, identity, webhook_id, url=data.url, events=data.events,
            trusted=data.trusted, active=data.active))

    @delete("/{webhook_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def remove(self, webhook_id: str, identity: Identity) -> None:
        await service.delete(identity, webhook_id)

    @post("/{webhook_id:str}/rotate-secret", status_code=HTTP_200_OK)
    async def rotate(self, webhook_id: str, identity: Identity, runtime: Runtime
                     ) -> WebhookSecretOut:
        """A new secret, shown once; for a day both sign, so the receiver can switch over."""
        hook, secret = await service.rotate_secret(runtime.settings, identity, webhook_id)
        return WebhookSecretOut(hook, secret)

    @get("/{webhook_id:str}/deliveries")
    async def deliveries(
        self, webhook_id: str, identity: Identity,
        status: Literal["pending", "delivered", "failed"] | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> DeliveriesOut:
        """The newest deliveries first, with attempts and the receiver's last status code."""
        return DeliveriesOut(await service.deliveries(identity, webhook_id, status, limit))


