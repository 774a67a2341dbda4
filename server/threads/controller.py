"""HTTP for threads, their events, messages and members: parse, call the service, serialize."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from server.events import EventRecord
from server.identity import Identity
from server.inputs import MAX_BIGINT
from server.runtime import Runtime
from server.scheduled import service as scheduled
from server.scheduled.service import ScheduledView
from server.threads import chat, service
from server.threads import search as search_service

Title = Annotated[str, msgspec.Meta(max_length=200)]
ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
# The service enforces MAX_MESSAGE_LENGTH with its own code; this only bounds parsing.
Body = Annotated[str, msgspec.Meta(max_length=65_536)]


class CreateThreadIn(msgspec.Struct):
    member_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=service.MAX_MEMBERS)]
    title: Title | None = None


class MessageIn(msgspec.Struct):
    body: Body
    client_id: ClientId
    reply_to: uuid.UUID | None = None  # the id of a message this one quotes
    # RFC 3339, in the future: the message is stored and sent then (202 `{scheduled}`).
    send_at: datetime | None = None
    attachments: Annotated[list[uuid.UUID], msgspec.Meta(max_length=service.MAX_ATTACHMENTS)] = []


class ReactionIn(msgspec.Struct):
    emoji: Annotated[str, msgspec.Meta(max_length=16)]


class ScheduledOut(msgspec.Struct):
    scheduled: ScheduledView


class EditIn(msgspec.Struct):
    body: Body


class SearchOut(msgspec.Struct):
    results: list[search_service.SearchResult]


class AddMemberIn(msgspec.Struct):
    user_id: uuid.UUID


class ReadIn(msgspec.Struct):
    seq: Annotated[int, msgspec.Meta(ge=0)]


class ThreadOut(msgspec.Struct):
    thread: service.ThreadView


class ThreadsOut(msgspec.Struct):
    threads: list[service.ThreadView]


class EventsOut(msgspec.Struct):
    events: list[EventRecord]
    more: bool


class EventOut(msgspec.Struct):
    event: EventRecord


class ReadOut(msgspec.Struct):
    thread_id: str
    last_read_seq: int


class ThreadsController(Controller):
    path = "/api/v1/threads"
    tags = ["threads"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, data: CreateThreadIn, identity: Identity) -> ThreadOut:
        """Start a thread with members of the caller's practice; the caller is a member."""
        return ThreadOut(await service.create_thread(identity, data.member_ids, data.title))

    @get("/")
    async def list(self, identity: Identity) -> ThreadsOut:
        """The caller's threads, newest activity first, with last_seq and unread."""
        return ThreadsOut(await service.list_threads(identity))

    @get("/{thread_id:str}")
    async def show(self, thread_id: str, identity: Identity) -> ThreadOut:
        return ThreadOut(await service.get_thread(identity, thread_id))

    @get("/{thread_id:str}/events")
    async def events(
        self,
        thread_id: str,
        identity: Identity,
        after: Annotated[int | None, Parameter(ge=0, le=MAX_BIGINT)] = None,
        before: Annotated[int | None, Parameter(ge=1, le=MAX_BIGINT)] = None,
        limit: Annotated[int, Parameter(ge=1, le=service.MAX_PAGE)] = 50,
    ) -> EventsOut:
        """A page of events in ascending seq: after `after`, or the newest before `before`."""
        events, more = await service.history(
            identity, thread_id, after=after, before=before, limit=limit
        )
        return EventsOut(events, more)

    @post("/{thread_id:str}/messages", status_code=HTTP_201_CREATED,
          responses={202: ResponseSpec(ScheduledOut, description="Scheduled for send_at")})
    async def post_message(
        self, thread_id: str, data: MessageIn, identity: Identity, runtime: Runtime
    ) -> Response[EventOut | ScheduledOut]:
        """Send a message; the same client_id again returns the event already stored. With
        `send_at`, it is stored and sent then: 202 `{scheduled}`, nothing in the log yet."""
        if data.send_at is not None:
            later = await scheduled.schedule(
                identity, thread_id, body=data.body, client_id=data.client_id,
                send_at=data.send_at, max_length=runtime.settings.max_message_length,
            )
            return Response(ScheduledOut(later), status_code=HTTP_202_ACCEPTED)
        event, _ = await service.post_message(
            identity, thread_id, body=data.body, client_id=data.client_id,
            max_length=runtime.settings.max_message_length, reply_to=data.reply_to,
            attachments=data.attachments,
        )
        return Response(EventOut(event), status_code=HTTP_201_CREATED)

    @post("/{thread_id:str}/messages/{event_id:str}/reactions", status_code=HTTP_201_CREATED)
    async def react(
        self, thread_id: str, event_id: str, data: ReactionIn, identity: Identity
    ) -> Response[EventOut]:
        """React to a message: a `reaction` event; the same reaction again answers 200 with
        the one standing."""
        event, created = await chat.react(identity, thread_id, event_id, data.emoji)
        return Response(EventOut(event),
                        status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @delete("/{thread_id:str}/messages/{event_id:str}/reactions/{emoji:str}",
            status_code=HTTP_200_OK)
    async def unreact(
        self, thread_id: str, event_id: str, emoji: str, identity: Identity
    ) -> EventOut:
        """Take back one's own reaction: a `reaction` event with `removed: true`."""
        event, _ = await chat.react(identity, thread_id, event_id, emoji, remove=True)
        return EventOut(event)

    @patch("/{thread_id:str}/messages/{event_id:str}", status_code=HTTP_200_OK)
    async def edit_message(
        self, thread_id: str, event_id: str, data: EditIn, identity: Identity, runtime: Runtime
    ) -> EventOut:
        """The author changes a message's text: a `message.edited` event. Someone else's
        message: 403 `not_author`; one the caller cannot see: 404."""
        return EventOut(await service.edit_message(
            identity, thread_id, event_id, body=data.body,
            max_length=runtime.settings.max_message_length))

    @delete("/{thread_id:str}/messages/{event_id:str}", status_code=HTTP_200_OK)
    async def delete_message(self, thread_id: str, event_id: str, identity: Identity
                             ) -> EventOut:
        """The author, or an owner/admin, deletes a message: a `message.deleted` event."""
        return EventOut(await service.delete_message(identity, thread_id, event_id))

    @post("/{thread_id:str}/members", status_code=HTTP_201_CREATED)
    async def add_member(
        self, thread_id: str, data: AddMemberIn, identity: Identity
    ) -> EventOut:
        return EventOut(await service.add_member(identity, thread_id, str(data.user_id)))

    @delete("/{thread_id:str}/members/{user_id:str}", status_code=HTTP_200_OK)
    async def remove_member(
        self, thread_id: str, user_id: str, identity: Identity
    ) -> EventOut:
        return EventOut(await service.remove_member(identity, thread_id, user_id))

    @post("/{thread_id:str}/read", status_code=HTTP_200_OK)
    async def read(self, thread_id: str, data: ReadIn, identity: Identity) -> ReadOut:
        """Move the caller's read position forward; other members hear of it."""
        position, others = await service.mark_read(identity, thread_id, data.seq)
        service.publish_signal(
            {"type": "read", "thread_id": thread_id, "user_id": str(identity.user_id),
             "seq": position},
            [*others, identity.user_id],
        )
        return ReadOut(thread_id, position)


class SearchController(Controller):
    path = "/api/v1/search"
    tags = ["threads"]

    @get("/")
    async def search(
        self, identity: Identity,
        q: Annotated[str, Parameter(max_length=search_service.MAX_QUERY)],
        thread_id: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=50)] = 20,
    ) -> SearchOut:
        """Messages the caller may see that contain every word of `q`, newest first, with the
        matching words marked in `snippet`."""
        return SearchOut(await search_service.search(identity, q, thread_id=thread_id,
                                                     limit=limit))
