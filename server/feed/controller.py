"""HTTP for the provider's newsfeed."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK

from server.feed import service
from server.identity import Identity

Kind = Literal["metric", "journal", "form", "task", "program"]


class ReadIn(msgspec.Struct):
    item_id: uuid.UUID | None = None


class FeedUnreadOut(msgspec.Struct):
    """The caller's unread feed items left after the mark moved (counted up to 100)."""

    unread: int


class FeedController(Controller):
    path = "/api/v1/feed"
    tags = ["feed"]

    @get("/")
    async def page(
        self, identity: Identity, client_id: uuid.UUID | None = None, kind: Kind | None = None,
        group_id: uuid.UUID | None = None,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
        limit: Annotated[int, Parameter(ge=1, le=service.MAX_PAGE)] = 30,
    ) -> service.FeedPage:
        """The newest activity of the caller's clients (the whole practice for owners and
        admins), newest first; `next_cursor` gives the next page."""
        return await service.page(
            identity, client_id=None if client_id is None else str(client_id), category=kind,
            group_id=None if group_id is None else str(group_id), cursor=cursor, limit=limit)

    @post("/read", status_code=HTTP_200_OK)
    async def read(self, data: ReadIn, identity: Identity) -> FeedUnreadOut:
        """Mark the feed read up to an item (default: everything so far)."""
        left = await service.mark_read(
            identity, None if data.item_id is None else str(data.item_id))
        return FeedUnreadOut(left)
