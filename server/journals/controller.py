"""HTTP for journals: entries, comments, reactions and stars."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server.identity import Identity
from server.inputs import InstantQuery, parse_rfc3339
from server.journals import service

Kind = Literal["food", "mood", "activity", "note"]
Emoji = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]


class EntryIn(msgspec.Struct):
    kind: Kind
    text: Annotated[str, msgspec.Meta(max_length=service.MAX_TEXT)] = ""
    file_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=list)
    occurred_at: datetime | None = None


class CommentIn(msgspec.Struct):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=service.MAX_COMMENT)]


class ReactionIn(msgspec.Struct):
    emoji: Emoji


class JournalEntryOut(msgspec.Struct):
    entry: service.JournalEntryView


class JournalEntriesOut(msgspec.Struct):
    """Newest first; `more` when older ones are left (page back with `before`)."""

    entries: list[service.JournalEntryView]
    more: bool


class JournalStarredOut(msgspec.Struct):
    """The entries the caller starred, newest star first (at most 100)."""

    entries: list[service.JournalEntryView]


class JournalCommentOut(msgspec.Struct):
    comment: service.JournalCommentView


class JournalController(Controller):
    path = "/api/v1"
    tags = ["journals"]

    @post("/clients/{client_id:str}/journal", status_code=HTTP_201_CREATED)
    async def write(self, client_id: str, data: EntryIn, identity: Identity
                    ) -> JournalEntryOut:
        """The client writes an entry: `journal.entry` in the care thread."""
        return JournalEntryOut(await service.write(
            identity, client_id, kind=data.kind, text=data.text, file_ids=data.file_ids,
            occurred_at=data.occurred_at))

    @get("/clients/{client_id:str}/journal")
    async def list(
        self, client_id: str, identity: Identity, kind: Kind | None = None,
        starred: bool | None = None, before: InstantQuery = None,
        limit: Annotated[int, Parameter(ge=1, le=service.MAX_PAGE)] = 50,
    ) -> JournalEntriesOut:
        """Entries newest first, with comments and reactions; `before` pages back."""
        found, more = await service.entries(identity, client_id, kind=kind, starred=starred,
                                            before=parse_rfc3339(before, "before"),
                                            limit=limit)
        return JournalEntriesOut(entries=found, more=more)

    @get("/journal/starred")
    async def starred(self, identity: Identity) -> JournalStarredOut:
        """The entries the caller starred (the team)."""
        return JournalStarredOut(await service.starred(identity))

    @get("/journal/{entry_id:str}")
    async def show(self, entry_id: str, identity: Identity) -> JournalEntryOut:
        return JournalEntryOut(await service.get(identity, entry_id))

    @post("/journal/{entry_id:str}/comments", status_code=HTTP_201_CREATED)
    async def comment(self, entry_id: str, data: CommentIn, identity: Identity
                      ) -> JournalCommentOut:
        """Comment on an entry: `journal.comment` in the care thread."""
        return JournalCommentOut(await service.comment(identity, entry_id, data.text))

    @post("/journal/{entry_id:str}/reactions", status_code=HTTP_200_OK)
    async def react(self, entry_id: str, data: ReactionIn, identity: Identity
                    ) -> JournalEntryOut:
        return JournalEntryOut(await service.react(identity, entry_id, data.emoji, True))

    @delete("/journal/{entry_id:str}/reactions/{emoji:str}", status_code=HTTP_200_OK)
    async def unreact(self, entry_id: str, emoji: str, identity: Identity) -> JournalEntryOut:
        return JournalEntryOut(await service.react(identity, entry_id, emoji, False))

    @put("/journal/{entry_id:str}/star")
    async def star(self, entry_id: str, identity: Identity) -> JournalEntryOut:
        """Star an entry to come back to (the caller's own mark)."""
        return JournalEntryOut(await service.star(identity, entry_id, True))

    @delete("/journal/{entry_id:str}/star", status_code=HTTP_200_OK)
    async def unstar(self, entry_id: str, identity: Identity) -> JournalEntryOut:
        return JournalEntryOut(await service.star(identity, entry_id, False))
