"""Journals: a client writes entries (food, mood, activity, note), with photos (files they
uploaded); the care team comments, reacts and stars them. Each entry and comment is an event in
the care thread; an entry's photos are held by its event, so they are read by exactly those who
see the entry.

Who: the client writes their own entries; the client and their care team read, comment and
react; stars are a team member's private marks. Anyone else gets 404 (onboarding/access.py).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec

from server import clock
from server.db import is_unique_violation, write_transaction
from server.errors import Forbidden, InvalidInput, NotFound
from server.feed import service as feed
from server.files import content as file_content
from server.files import service as files
from server.files.service import FileView
from server.goals import service as goals
from server.identity import Identity
from server.journals.tables import JournalComment, JournalEntry, JournalReaction, JournalStar
from server.onboarding.access import ClientAccess, client_access
from server.threads import service as threads

KINDS = ("food", "mood", "activity", "note")
MAX_TEXT = 10_000
MAX_COMMENT = 4000
FUTURE_TOLERANCE = timedelta(minutes=10)
MAX_PAGE = 100
MAX_PHOTOS = 10


class JournalCommentView(msgspec.Struct):
    """A comment on an entry, by the client or their team."""

    id: uuid.UUID
    author_id: uuid.UUID
    author_name: str
    text: str
    created_at: datetime


class JournalReactionView(msgspec.Struct):
    """One emoji on an entry: how many reacted with it, and whether the caller did."""

    emoji: str
    count: int
    mine: bool


class JournalEntryView(msgspec.Struct, omit_defaults=True):
    """An entry with its comments and reactions (docs/api.md §12 "Journals")."""

    id: uuid.UUID
    client_id: uuid.UUID
    kind: str
    text: str
    file_ids: list[uuid.UUID]
    occurred_at: datetime
    created_at: datetime
    comments: list[JournalCommentView]
    reactions: list[JournalReactionView]
    # For the team only: whether the caller starred it (clients never see stars).
    starred: bool | msgspec.UnsetType = msgspec.UNSET
    files: list[FileView] = msgspec.field(default_factory=list)  # the photos; absent if none


def _time(value: datetime | None, now: datetime) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        raise InvalidInput("Times carry a time zone (RFC 3339).", extra={"field": "occurred_at"})
    if value > now + FUTURE_TOLERANCE:
        raise InvalidInput("A journal entry cannot be in the future.", code="time_in_future",
                           extra={"field": "occurred_at"})
    if value.year < 1900:
        raise InvalidInput("That time is too long ago.", code="time_out_of_range",
                           extra={"field": "occurred_at"})
    return value


async def write(identity: Identity, client_id: str, *, kind: str, text: str = "",
                file_ids: list[uuid.UUID] | None = None, occurred_at: datetime | None = None
                ) -> JournalEntryView:
    """The client writes an entry: `journal.entry` in the care thread and a feed item."""
    found = await client_access(identity, client_id)
    if found.as_team:
        raise Forbidden("A journal is written by the client.", code="client_only")
    if kind not in KINDS:
        raise InvalidInput(f"kind is one of {', '.join(KINDS)}.", extra={"field": "kind"})
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"An entry has at most {MAX_TEXT} characters.",
                           extra={"field": "text"})
    photo_ids = list(dict.fromkeys(file_ids or []))
    if len(photo_ids) > MAX_PHOTOS:
        raise InvalidInput(f"At most {MAX_PHOTOS} photos.", extra={"field": "file_ids"})
    if not text and not photo_ids:
        raise InvalidInput("An entry needs some text or a photo.", extra={"field": "text"})
    now = clock.now()
    entry = JournalEntryView(id=uuid.uuid4(), client_id=found.client_id, kind=kind, text=text,
                             file_ids=photo_ids, occurred_at=_time(occurred_at, now),
                             created_at=now, comments=[], reactions=[])
    async with write_transaction():
        # The photos are held by the entry's event: whoever may see the event may see them
        # (files.readable), and no one else.
        event_id = uuid.uuid4()
        try:
            rows = await files.claim_in_transaction(
                identity, photo_ids, thread_id=found.care_thread_id, event_id=event_id)
        except NotFound:
            raise NotFound("No such photo: each is your own upload, used in one entry.",
                           extra={"field": "file_ids"}) from None
        if any(r["content_type"] not in file_content.IMAGE_TYPES for r in rows):
            raise InvalidInput("A journal entry's files are photos (JPEG, PNG, GIF, WebP).",
                               code="not_a_photo", extra={"field": "file_ids"})
        entry.files = [files.file_view(r) for r in rows]
        data: dict[str, Any] = {
            "entry_id": str(entry.id), "client_id": str(found.client_id), "kind": kind,
            "text": text, "occurred_at": entry.occurred_at.isoformat()}
        if rows:
            data["files"] = [files.attachment_data(r) for r in rows]
        event = await threads.append_in_transaction(
            found.care_thread_id, "journal.entry", identity.user_id, data=data,
            event_id=event_id)
        await JournalEntry.insert(JournalEntry(
            id=entry.id, organization=found.organization_id, client=found.client_id, kind=kind,
            text=text, file_ids=json.dumps([str(i) for i in photo_ids]),
            occurred_at=entry.occurred_at, event_id=event.id, created_at=now))
        await feed.record(event, client_id=found.client_id,
                          organization_id=found.organization_id, category="journal")
        await goals.record_progress(found.client_id, goals.journal_metric(kind), None,
                                    entry.occurred_at)
    return entry


async def _entry(identity: Identity, entry_id: str) -> tuple[dict[str, Any], ClientAccess]:
    try:
        eid = uuid.UUID(entry_id)
    except ValueError:
        raise NotFound("No such journal entry.") from None
    row = await JournalEntry.select().where(
        JournalEntry.id == eid, JournalEntry.organization == identity.organization_id).first()
    if row is None:
        raise NotFound("No such journal entry.")
    try:
        found = await client_access(identity, row["client"])
    except NotFound:
        raise NotFound("No such journal entry.") from None
    return row, found


async def _views(identity: Identity, rows: list[dict[str, Any]], as_team: bool
                 ) -> list[JournalEntryView]:
    ids = [r["id"] for r in rows]
    comments: dict[uuid.UUID, list[JournalCommentView]] = {}
    reactions: dict[uuid.UUID, dict[str, JournalReactionView]] = {}
    starred: set[uuid.UUID] = set()
    if ids:
        for c in await JournalComment.select(
                JournalComment.id, JournalComment.entry, JournalComment.author,
                JournalComment.author.name.as_alias("author_name"), JournalComment.text,
                JournalComment.created_at).where(JournalComment.entry.is_in(ids)).order_by(
                JournalComment.created_at):
            comments.setdefault(c["entry"], []).append(JournalCommentView(
                id=c["id"], author_id=c["author"], author_name=c["author_name"],
                text=c["text"], created_at=c["created_at"]))
        for r in await JournalReaction.select(
                JournalReaction.entry, JournalReaction.emoji, JournalReaction.author).where(
                JournalReaction.entry.is_in(ids)).order_by(JournalReaction.created_at):
            per = reactions.setdefault(r["entry"], {})
            seen = per.setdefault(r["emoji"], JournalReactionView(emoji=r["emoji"], count=0,
                                                                  mine=False))
            seen.count += 1
            seen.mine = seen.mine or r["author"] == identity.user_id
        if as_team:
            starred = {s["entry"] for s in await JournalStar.select(JournalStar.entry).where(
                JournalStar.entry.is_in(ids), JournalStar.profile == identity.user_id)}
    photos = {r["id"]: _file_ids(r["file_ids"]) for r in rows}
    views = await files.views_of([i for ids in photos.values() for i in ids])
    return [JournalEntryView(
        id=r["id"], client_id=r["client"], kind=r["kind"], text=r["text"],
        file_ids=[i for i in photos[r["id"]] if i in views],
        files=[views[i] for i in photos[r["id"]] if i in views],
        occurred_at=r["occurred_at"], created_at=r["created_at"],
        comments=comments.get(r["id"], []),
        reactions=list(reactions.get(r["id"], {}).values()),
        starred=(r["id"] in starred) if as_team else msgspec.UNSET) for r in rows]


def _file_ids(value: Any) -> list[uuid.UUID]:
    raw = json.loads(value) if isinstance(value, str) else value
    return [uuid.UUID(str(i)) for i in raw or []]


async def get(identity: Identity, entry_id: str) -> JournalEntryView:
    row, found = await _entry(identity, entry_id)
    return (await _views(identity, [row], found.as_team))[0]


async def entries(identity: Identity, client_id: str, *, kind: str | None = None,
                  starred: bool | None = None, before: datetime | None = None,
                  limit: int = 50) -> tuple[list[JournalEntryView], bool]:
    """A client's entries, newest first; `before` (an occurred_at) pages back."""
    found = await client_access(identity, client_id)
    query = JournalEntry.select().where(JournalEntry.client == found.client_id)
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInput(f"kind is one of {', '.join(KINDS)}.", extra={"field": "kind"})
        query = query.where(JournalEntry.kind == kind)
    if before is not None:
        query = query.where(JournalEntry.occurred_at < before)
    if starred:
        if not found.as_team:
            raise InvalidInput("Stars are the team's.", extra={"field": "starred"})
        mine = await JournalStar.select(JournalStar.entry).where(
            JournalStar.profile == identity.user_id)
        query = query.where(JournalEntry.id.is_in([r["entry"] for r in mine] or [uuid.uuid4()]))
    limit = max(1, min(limit, MAX_PAGE))
    rows = await query.order_by(JournalEntry.occurred_at, ascending=False).limit(limit + 1)
    return await _views(identity, rows[:limit], found.as_team), len(rows) > limit


async def starred(identity: Identity, limit: int = 100) -> list[JournalEntryView]:
    """The entries the caller starred, of clients they still care for, newest star first."""
    if not identity.is_staff:
        raise NotFound("No such list.")
    stars = await JournalStar.select(JournalStar.entry).where(
        JournalStar.profile == identity.user_id,
        JournalStar.entry.organization == identity.organization_id,
    ).order_by(JournalStar.created_at, ascending=False).limit(max(1, min(limit, MAX_PAGE)))
    rows = {r["id"]: r for r in await JournalEntry.select().where(
        JournalEntry.id.is_in([s["entry"] for s in stars] or [uuid.uuid4()]))}
    visible = []
    for star in stars:
        row = rows.get(star["entry"])
        if row is None:
            continue
        try:
            await client_access(identity, row["client"], team_only=True)
        except NotFound:
            continue
        visible.append(row)
    return await _views(identity, visible, True)


async def comment(identity: Identity, entry_id: str, text: str) -> JournalCommentView:
    """The care team (or the client) comments: `journal.comment` in the care thread."""
    row, found = await _entry(identity, entry_id)
    text = text.strip()
    if not text:
        raise InvalidInput("A comment needs some text.", extra={"field": "text"})
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"A comment has at most {MAX_COMMENT} characters.",
                           extra={"field": "text"})
    now = clock.now()
    made = JournalCommentView(id=uuid.uuid4(), author_id=identity.user_id,
                              author_name=identity.name, text=text, created_at=now)
    async with write_transaction():
        event = await threads.append_in_transaction(
            found.care_thread_id, "journal.comment", identity.user_id,
            data={"entry_id": str(row["id"]), "comment_id": str(made.id),
                  "client_id": str(found.client_id), "entry_kind": row["kind"], "text": text})
        await JournalComment.insert(JournalComment(
            id=made.id, entry=row["id"], author=identity.user_id, text=text,
            event_id=event.id, created_at=now))
    return made


async def react(identity: Identity, entry_id: str, emoji: str, on: bool) -> JournalEntryView:
    """Add (or take back) the caller's reaction; the same emoji twice is one reaction."""
    row, found = await _entry(identity, entry_id)
    emoji = emoji.strip()
    if not emoji or len(emoji) > 8 or any(ch.isalnum() or ch.isspace() for ch in emoji):
        raise InvalidInput("A reaction is one emoji.", extra={"field": "emoji"})
    if on:
        try:
            async with write_transaction():
                await JournalReaction.insert(JournalReaction(
                    entry=row["id"], author=identity.user_id, emoji=emoji,
                    created_at=clock.now()))
        except Exception as exc:
            if not is_unique_violation(exc):
                raise
    else:
        async with write_transaction():
            await JournalReaction.delete().where(
                JournalReaction.entry == row["id"], JournalReaction.author == identity.user_id,
                JournalReaction.emoji == emoji)
    return (await _views(identity, [row], found.as_team))[0]


async def star(identity: Identity, entry_id: str, on: bool) -> JournalEntryView:
    """A team member's private mark on an entry to come back to."""
    row, found = await _entry(identity, entry_id)
    if not found.as_team:
        raise Forbidden("Stars are the care team's.", code="team_only")
    if on:
        try:
            async with write_transaction():
                await JournalStar.insert(JournalStar(entry=row["id"], profile=identity.user_id,
                                                     created_at=clock.now()))
        except Exception as exc:
            if not is_unique_violation(exc):
                raise
    else:
        async with write_transaction():
            await JournalStar.delete().where(JournalStar.entry == row["id"],
                                             JournalStar.profile == identity.user_id)
    return (await _views(identity, [row], True))[0]

