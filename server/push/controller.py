"""HTTP for Web Push: the VAPID public key and the caller's browser subscriptions."""

from __future__ import annotations

import msgspec
from litestar import Controller, delete, get, post
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.identity import Identity
from server.push import service
from server.runtime import Runtime


class KeyOut(msgspec.Struct):
    public_key: str


class SubscriptionOut(msgspec.Struct):
    subscription: service.SubscriptionView


class SubscriptionsOut(msgspec.Struct):
    subscriptions: list[service.SubscriptionView]


class PushController(Controller):
    path = "/api/v1/push"
    tags = ["push"]

    @get("/key")
    async def key(self, runtime: Runtime) -> KeyOut:
        """The VAPID public key (base64url), the `applicationServerKey` to subscribe with."""
        return KeyOut(service.public_key(runtime.settings))

    @post("/subscriptions", status_code=HTTP_201_CREATED)
    async def subscribe(self, data: service.SubscriptionIn, identity: Identity,
                        runtime: Runtime) -> SubscriptionOut:
        """Save a browser's PushSubscription (its JSON) for the caller."""
        return SubscriptionOut(await service.subscribe(runtime.settings, identity, data))

    @get("/subscriptions")
    async def list(self, identity: Identity) -> SubscriptionsOut:
        return SubscriptionsOut(await service.list_subscriptions(identity))

    @delete("/subscriptions/{subscription_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def unsubscribe(self, subscription_id: str, identity: Identity) -> None:
        await service.unsubscribe(identity, subscription_id)
