"""Threads and their event log: the one place that decides who sees and writes what.

Every read and write goes through `_open_membership` (or `visible_windows`): a thread of
another practice, or one the caller is not a member of, is simply not found.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import TransactionType

from server import bus as bus_module
from server import uow
from server.accounts.avatar import avatar_url
from server.accounts.tables import Profile
from server.db import engine, is_unique_violation, row_uuid, write_transaction
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.events import ALL, STAFF, EventRecord, body_of, event_frame, from_row
from server.identity import STAFF_ROLES, Identity
from server.sqlite_engine import PooledSQLiteEngine
from server.threads import sendgroups
from server.threads.tables import Event, Member, MessageRevision, Thread

MESSAGE = "message"
MESSAGE_EDITED = "message.edited"
MESSAGE_DELETED = "message.deleted"
MAX_ATTACHMENTS = 10
__all__ = ["ALL", "STAFF", "EventRecord", "event_frame"]
# Who receives and reads staff-only events: the practice's team and its bots, never clients.
STAFF_AUDIENCE_ROLES = STAFF_ROLES | {"bot"}
# Kinds that do not count as unread: the log's own bookkeeping.
MEMBER_ADDED = "member.added"
MEMBER_REMOVED = "member.removed"
QUIET_KINDS = frozenset({"thread.created", MEMBER_ADDED, MEMBER_REMOVED, MESSAGE_EDITED,
                         MESSAGE_DELETED})
MAX_PAGE = 200
MAX_MEMBERS = 100
SYNC_BATCH = 50
WINDOWS_BATCH = 500


_json_encode = msgspec.json.Encoder().encode


def _json_text(value: Any) -> str:
    return _json_encode(value).decode()


def now() -> datetime:
    return datetime.now(UTC)


def parse_id(raw: str | uuid.UUID, what: str = "thread") -> uuid.UUID:
    if isinstance(raw, uuid.UUID):
        return raw
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise NotFound(f"No such {what}.") from None


def event_view(row: dict[str, Any]) -> EventRecord:
    return from_row(row)


# --- views ---------------------------------------------------------------------------------


class ThreadMember(msgspec.Struct):
    id: uuid.UUID
    name: str
    role: str
    last_read_seq: int
    avatar_url: str | None = None  # their photo (GET /users/{id}/avatar); None: initials


class Person(msgspec.Struct):
    name: str
    role: str
    avatar_url: str | None = None


class ThreadView(msgspec.Struct, omit_defaults=True):
    """A thread as its member sees it; `people` (everyone ever a member) on a single thread."""

    id: uuid.UUID
    title: str | None
    kind: str
    created_at: datetime
    last_seq: int
    last_read_seq: int
    unread: int
    members: list[ThreadMember]
    last_message: EventRecord | None
    last_event: EventRecord | None  # a message or a card: what a thread list previews
    people: dict[str, Person] | None = None


# --- authorization ---------------------------------------------------------------------------


async def _open_membership(identity: Identity, thread_id: uuid.UUID) -> dict[str, Any]:
    """The caller's open window in a thread of their practice, or not found."""
    row = await (
        Member.select(*Member.all_columns(), Member.thread.last_seq.as_alias("last_seq"))
        .where(
            Member.thread == thread_id,
            Member.profile == identity.user_id,
            Member.left_seq.is_null(),
            Member.thread.organization == identity.organization_id,
        )
        .first()
    )
    if row is None:
        raise NotFound("No such thread.")
    return row


def sees_staff_events(identity: Identity) -> bool:
    return identity.role in STAFF_AUDIENCE_ROLES


async def _read_windows(
    identity: Identity, thread_id: uuid.UUID
) -> list[tuple[int, int | None]]:
    """What of a thread the caller may read: their windows, or all of a care thread for admins."""
    windows = (await visible_windows(identity.user_id, [thread_id])).get(thread_id)
    if windows and is_open(windows):
        return windows
    if identity.is_admin and await Thread.exists().where(
        Thread.id == thread_id,
        Thread.organization == identity.organization_id,
        Thread.kind == "care",
    ):
        return [(1, None)]
    raise NotFound("No such thread.")


async def visible_windows(
    user_id: uuid.UUID, thread_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[int, int | None]]]:
    """Every membership window of a user in these threads, oldest first."""
    windows, _ = await _windows_and_heads(user_id, list(thread_ids))
    return windows


async def share_a_thread(a: uuid.UUID, b: uuid.UUID) -> bool:
    """Whether two people are, or were, members of one thread (they have seen each other's
    names there)."""
    theirs = Member.select(Member.thread).where(Member.profile == b)
    return bool(await Member.exists().where(Member.profile == a, Member.thread.is_in(theirs)))


def is_open(windows: Sequence[tuple[int, int | None]]) -> bool:
    return bool(windows) and windows[-1][1] is None


def in_windows(seq: int, windows: Sequence[tuple[int, int | None]]) -> bool:
    return any(start <= seq and (end is None or seq <= end) for start, end in windows)


async def current_member_ids(thread_id: uuid.UUID) -> list[uuid.UUID]:
    return list(await _current_members(thread_id))


async def _current_members(thread_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Current members and their practice roles (profile -> role)."""
    found = _transaction_connection()
    if found is None:
        rows = await Member.select(Member.profile, Member.profile.role.as_alias("role")).where(
            Member.thread == thread_id, Member.left_seq.is_null()
        )
        return {r["profile"]: r["role"] for r in rows}
    postgres, conn = found
    if postgres:
        return {r["profile"]: r["role"] for r in await conn.fetch(_PG_MEMBERS, thread_id)}
    return {row_uuid(r["profile"]): r["role"]
            for r in await conn.run(_SQLITE_MEMBERS, [thread_id])}



async def members_in_transaction(
    work: uow.UnitOfWork, thread_id: uuid.UUID
) -> dict[uuid.UUID, str]:
    """The thread's current members as this transaction sees them, read once per thread."""
    members = work.thread_members.get(thread_id)
    if members is None:
        members = work.thread_members[thread_id] = await _current_members(thread_id)
    return members


def recipients_of(event: EventRecord, members: dict[uuid.UUID, str]) -> list[uuid.UUID]:
    """Who hears of an event: current members (staff only for staff events), and a removed
    member of its own removal."""
    staff_only = event.staff_only
    ids = [p for p, role in members.items()
           if not staff_only or role in STAFF_AUDIENCE_ROLES]
    if event.kind == MEMBER_REMOVED and not staff_only and event.data:
        ids.append(uuid.UUID(event.data["user_id"]))
    return ids


# Other domains that follow events (webhooks, push) register here. Each is called before
# commit, inside the transaction, with the events appended in it and the unit of work (whose
# `thread_members` then holds each thread's current members): a hook may write rows in the
# same transaction (durable with the events) or register an `after_commit` effect.
# One exception: on PostgreSQL a plain message goes as one statement committed on its own
# (`_send_alone`) when every `EarlyRead` came back empty, and the observers run after that
# commit. So an observer that may write for a message must have an early read that is never
# empty when it would (webhooks: the thread's hooks), and must not fail the send.
EventObserver = Callable[[uow.UnitOfWork, list[EventRecord]], Awaitable[None]]
event_observers: list[EventObserver] = []


class EarlyRead(NamedTuple):
    """What an observer reads about a thread, done with a message's append instead of after
    it: on SQLite in the same hop to the writer's thread (each hop holds the writer for a loop
    turn), on PostgreSQL in the same statement (each statement is a round trip). The rows land
    in `work.early_reads[(key, thread)]`.

    `sqlite` runs on the writer's connection, given the thread; `postgres` is a scalar
    subquery of the thread (`$1`) giving a JSON array of the same rows, or NULL for none.
    On PostgreSQL it sees the statement's snapshot (taken before the thread's lock): right for
    settings such as webhooks, wrong for membership, which the append function reads after.
    """

    key: str
    sqlite: Callable[[sqlite3.Connection, uuid.UUID], list[dict[str, Any]]]
    postgres: str


early_readers: list[EarlyRead] = []


async def _publish_on_commit(work: uow.UnitOfWork) -> None:
    """Before commit: compute each event's recipients from the membership this transaction
    sees (one query for the threads it has not read yet), and queue the fan-out."""
    missing = {e.thread_id for e in work.events} - set(work.thread_members)
    if missing:
        rows = await Member.select(
            Member.thread, Member.profile, Member.profile.role.as_alias("role")
        ).where(Member.thread.is_in(list(missing)), Member.left_seq.is_null())
        for tid in missing:
            work.thread_members[tid] = {}
        for r in rows:
            work.thread_members[r["thread"]][r["profile"]] = r["role"]
    for event in work.events:
        members = work.thread_members[event.thread_id]
        work.publish(bus_module.encode_event(event), recipients_of(event, members))
        if event.staff_only:
            unseen = [p for p, role in members.items() if role not in STAFF_AUDIENCE_ROLES]
            if unseen:
                work.publish(bus_module.encode_skip(event), unseen)
    events = list(work.events)
    work.events.clear()
    for observer in event_observers:
        await observer(work, events)


async def _profiles_in_org(identity: Identity, ids: Iterable[uuid.UUID]) -> list[dict[str, Any]]:
    wanted = set(ids)
    if not wanted:
        return []
    rows = await Profile.select(Profile.id, Profile.role, Profile.status, Profile.name).where(
        Profile.id.is_in(list(wanted)),
        Profile.organization == identity.organization_id,
        Profile.status != "removed",
    )
    if len(rows) != len(wanted):
        raise NotFound("No such user in this practice.")
    return rows


def _may_manage_members(identity: Identity) -> bool:
    return identity.role in STAFF_ROLES or identity.role == "bot"


# --- the log ---------------------------------------------------------------------------------


async def lock_thread(thread_id: uuid.UUID) -> None:
    """Take the thread's row lock for the rest of the transaction (SQLite's IMMEDIATE
    transactions already serialize writers; PostgreSQL needs the row lock)."""
    await Thread.update({Thread.last_seq: Thread.last_seq}).where(Thread.id == thread_id)


async def append_in_transaction(
    thread_id: uuid.UUID, kind: str, actor_id: uuid.UUID | None, *, body: str | None = None,
    data: dict[str, Any] | None = None, client_id: str | None = None, audience: str = ALL,
    organization_id: uuid.UUID | None = None, event_id: uuid.UUID | None = None,
    then_members: bool = False,
) -> EventRecord:
    """Bump last_seq and insert, inside the caller's write transaction; the unit of work
    publishes the event after commit. With `organization_id`, a thread of another practice is
    not found. `event_id` names the event in advance (for rows that point at it).
    `then_members`: the caller reads the current members next and changes none in this
    transaction (a message): on SQLite they are read in the same hop as the insert."""
    work = uow.current()
    event = EventRecord(
        id=event_id or uuid.uuid4(), thread_id=thread_id, seq=0, kind=kind, actor_id=actor_id,
        created_at=now(), body=body_of(body), data=data, client_id=client_id,
        audience=audience,
    )
    seq = await _bump_and_insert(
        event, organization_id,
        work if then_members and event.thread_id not in work.thread_members else None)
    if seq is None:
        raise NotFound("No such thread.")
    event.seq = seq
    work.events.append(event)
    work.before_commit("threads.publish", _publish_on_commit)
    return event


# The hot path in plain SQL on the transaction's own connection: no query building per event,
# and on PostgreSQL the bump and the insert are one statement (asyncpg prepares it once per
# connection). The bump comes first, so it holds the thread's row lock for the rest. The
# practice is no index condition, so the thread is found by its primary key (m0082).
_PG_APPEND = """
WITH bump AS (
    UPDATE thread SET last_seq = last_seq + 1
    WHERE id = $1 AND ($2::uuid IS NULL OR organization IS NOT DISTINCT FROM $2)
    RETURNING last_seq
)
INSERT INTO thread_event (id, thread, seq, kind, actor, body, data, client_id, audience,
                          created_at)
SELECT $3, $1, last_seq, $4, $5, $6, $7::json, $8, $9, $10 FROM bump
RETURNING seq
"""
_SQLITE_BUMP = ("UPDATE thread SET last_seq = last_seq + 1 WHERE id = ? "
                "AND (? IS NULL OR organization = ?) RETURNING last_seq")
_SQLITE_INSERT = ("INSERT INTO thread_event (id, thread, seq, kind, actor, body, data, "
                  "client_id, audience, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_PG_MEMBERS = ("SELECT m.profile AS profile, p.role AS role FROM thread_member m "
               "JOIN profile p ON p.id = m.profile WHERE m.thread = $1 AND m.left_seq IS NULL")
_SQLITE_MEMBERS = _PG_MEMBERS.replace("$1", "?")
# A message on PostgreSQL: one round trip between BEGIN and COMMIT. The append function
# (migration m0080) bumps, reads the members in a statement of its own (so after waiting for
# the thread's lock it sees a removal committed meanwhile), then inserts; the early readers'
# subqueries ride along in the same statement.
_PG_APPEND_MESSAGE = """
SELECT a.new_seq, a.member_ids, a.member_roles{reads}
FROM carethread_append_message($1, $2, $3, $4, $5, $6, $7::json, $8, $9, $10, false) a
"""
# ... and as one statement committed on its own: the function refuses an author who is not a
# member (CT404), and `carethread_alone` refuses (CT409) when an early read found something
# to write with the message, rolling the whole statement back.
_PG_SEND_ALONE = """
SELECT a.new_seq, a.member_ids, a.member_roles, carethread_alone(ARRAY[{reads}]::text[])
FROM carethread_append_message($1, $2, $3, $4, $5, $6, $7::json, $8, $9, $10, true) a
"""
_PG_NOT_A_MEMBER = "CT404"
_PG_NOT_ALONE = "CT409"


def _pg_append_message_sql() -> str:
    return _statements(tuple(read.postgres for read in early_readers))[0]


def _pg_send_alone_sql() -> str:
    return _statements(tuple(read.postgres for read in early_readers))[1]


@functools.cache
def _statements(reads: tuple[str, ...]) -> tuple[str, str, str]:
    """The message statements with these early reads: in a transaction, alone, as a group
    (built once, not per message; the readers are registered at start-up)."""
    return (
        _PG_APPEND_MESSAGE.format(reads="".join(
            f", ({sql}) AS early_{i}" for i, sql in enumerate(reads))),
        _PG_SEND_ALONE.format(reads=", ".join(f"({sql})::text" for sql in reads)),
        sendgroups.group_sql(list(reads)),
    )


def _transaction_connection() -> tuple[bool, Any] | None:
    """(is PostgreSQL, connection) of the transaction in progress, or None outside one."""
    db = engine()
    current = db.current_transaction.get()
    if current is None:
        return None
    return isinstance(db, PostgresEngine), current.connection


def _append_args(event: EventRecord, organization_id: uuid.UUID | None) -> tuple[Any, ...]:
    """(thread, organization, id, kind, actor, body, data, client_id, audience, created_at)"""
    data = None if event.data is None else _json_text(event.data)
    body = None if event.body is msgspec.UNSET else event.body
    return (event.thread_id, organization_id, event.id, event.kind, event.actor_id, body, data,
            event.client_id, event.audience, event.created_at)


async def _bump_and_insert(event: EventRecord, organization_id: uuid.UUID | None,
                           members_for: uow.UnitOfWork | None = None) -> int | None:
    found = _transaction_connection()
    assert found is not None, "append_in_transaction needs write_transaction()"
    postgres, conn = found
    args = _append_args(event, organization_id)
    if postgres:
        if members_for is None:
            seq: int | None = await conn.fetchval(_PG_APPEND, *args)
            return seq
        row = await conn.fetchrow(_pg_append_message_sql(), *args)
        seq = row["new_seq"]
        if seq is None:
            return None
        members_for.thread_members[event.thread_id] = dict(zip(
            row["member_ids"] or (), row["member_roles"] or (), strict=True))
        for i, read in enumerate(early_readers):
            rows = row[f"early_{i}"]
            members_for.early_reads[(read.key, event.thread_id)] = (
                json.loads(rows) if rows else [])
        return seq

    def bump_and_insert(db: sqlite3.Connection) -> int | None:
        row = db.execute(_SQLITE_BUMP, [event.thread_id, organization_id,
                                        organization_id]).fetchone()
        if row is None:
            return None
        seq: int = row["last_seq"]
        _sqlite_insert(db, args, seq)
        if members_for is not None:
            members_for.thread_members[event.thread_id] = {
                row_uuid(r["profile"]): r["role"]
                for r in db.execute(_SQLITE_MEMBERS, [event.thread_id]).fetchall()}
            for read in early_readers:
                members_for.early_reads[(read.key, event.thread_id)] = read.sqlite(
                    db, event.thread_id)
        return seq

    return await conn.call(bump_and_insert)  # one hop to the writer's thread


async def set_audience_in_transaction(
    thread_id: uuid.UUID, event_ids: Sequence[uuid.UUID], audience: str
) -> int:
    """Make events of a thread staff-only (or visible to all again) from now on: history and
    sync follow the stored audience. For a domain whose rule about who sees an event changes
    (metrics' eating-disorder mode). Returns how many events changed."""
    uow.current()
    if audience not in (ALL, STAFF):
        raise ValueError(audience)
    if not event_ids:
        return 0
    changed = 0
    ids = list(event_ids)
    for start in range(0, len(ids), 500):
        rows = await Event.update({Event.audience: audience}).where(
            Event.thread == thread_id, Event.id.is_in(ids[start:start + 500]),
            Event.audience != audience).returning(Event.id)
        changed += len(rows)
    return changed


async def event_ids_naming(thread_id: uuid.UUID, kinds: Sequence[str], key: str,
                           values: Iterable[str]) -> list[uuid.UUID]:
    """The events of these kinds in a thread whose `data[key]` is one of `values` (for a
    domain that changes who sees its own events: goals on a hidden metric)."""
    wanted = {str(v) for v in values}
    if not wanted or not kinds:
        return []
    rows = await Event.select(Event.id, Event.data).where(
        Event.thread == thread_id, Event.kind.is_in(list(kinds)))
    return [r["id"] for r in rows if str(_data_of(r).get(key)) in wanted]


async def append_system_event(
    thread_id: uuid.UUID, kind: str, *, data: dict[str, Any] | None = None,
    body: str | None = None, actor_id: uuid.UUID | None = None, audience: str = ALL,
) -> EventRecord:
    """For other domains (onboarding, forms, jobs): write a `system` or domain event in a
    transaction of its own (or the caller's, when one is open)."""
    async with write_transaction():
        return await append_in_transaction(
            thread_id, kind, actor_id, body=body, data=data, audience=audience
        )


# --- threads ---------------------------------------------------------------------------------


async def create_thread(
    identity: Identity, member_ids: Sequence[uuid.UUID], title: str | None
) -> ThreadView:
    """A new thread whose log starts with `thread.created`; the caller is always a member."""
    title = " ".join(title.split()) if title else None
    others = {m for m in member_ids if m != identity.user_id}
    if len(others) + 1 > MAX_MEMBERS:
        raise InvalidInput(f"A thread has at most {MAX_MEMBERS} members.")
    profiles = await _profiles_in_org(identity, others)
    if identity.role == "client" and any(p["role"] not in STAFF_ROLES for p in profiles):
        # Clients talk with their practice, never directly with other clients.
        raise NotFound("No such user in this practice.")
    members = [identity.user_id, *sorted(others)]
    async with write_transaction():
        thread_id, _ = await create_thread_in_transaction(
            identity.organization_id, identity.user_id, members, title
        )
    threads = await _thread_views(identity, [thread_id])
    return threads[0]


async def create_thread_in_transaction(
    organization_id: uuid.UUID, creator_id: uuid.UUID | None, member_ids: Sequence[uuid.UUID],
    title: str | None, kind: str = "chat",
) -> tuple[uuid.UUID, EventRecord]:
    """A thread whose log starts with `thread.created`; members' windows open at seq 1."""
    thread_id = uuid.uuid4()
    await Thread.insert(Thread(
        id=thread_id, organization=organization_id, title=title, kind=kind,
        last_seq=0, created_by=creator_id, created_at=now(),
    ))
    view = await append_in_transaction(
        thread_id, "thread.created", creator_id,
        data={"title": title, "member_ids": [str(m) for m in member_ids]},
    )
    if member_ids:
        await Member.insert(*[
            Member(thread=thread_id, profile=m, role="owner" if m == creator_id else "member",
                   joined_seq=view.seq, joined_at=now(), last_read_seq=0)
            for m in member_ids
        ])
    return thread_id, view


async def list_threads(identity: Identity) -> list[ThreadView]:
    rows = await Member.select(Member.thread).where(
        Member.profile == identity.user_id, Member.left_seq.is_null(),
        Member.thread.organization == identity.organization_id,
    )
    return await _thread_views(identity, [r["thread"] for r in rows])


async def get_thread(identity: Identity, thread_id: str) -> ThreadView:
    """One thread, with `people`: everyone who was ever a member, for naming past authors."""
    tid = parse_id(thread_id)
    await _read_windows(identity, tid)
    view = (await _thread_views(identity, [tid]))[0]
    rows = await Member.select(Member.profile, Member.profile.name.as_alias("name"),
                               Member.profile.role.as_alias("role"),
                               Member.profile.avatar.as_alias("avatar")).where(
        Member.thread == tid)
    view.people = {str(r["profile"]): Person(name=r["name"], role=r["role"],
                                             avatar_url=avatar_url(r["profile"], r["avatar"]))
                   for r in rows}
    return view


async def _thread_views(identity: Identity, thread_ids: list[uuid.UUID]) -> list[ThreadView]:
    """Threads with members, last_seq, unread and the latest message, in a few queries."""
    if not thread_ids:
        return []
    threads = await Thread.select().where(Thread.id.is_in(thread_ids))
    members = await Member.select(
        Member.thread, Member.profile, Member.role, Member.last_read_seq, Member.joined_seq,
        Member.profile.name.as_alias("name"), Member.profile.role.as_alias("user_role"),
        Member.profile.avatar.as_alias("avatar"),
    ).where(Member.thread.is_in(thread_ids), Member.left_seq.is_null()).order_by(
        Member.profile.name)
    by_thread: dict[uuid.UUID, list[dict[str, Any]]] = {}
    mine: dict[uuid.UUID, dict[str, Any]] = {}
    for m in members:
        by_thread.setdefault(m["thread"], []).append(m)
        if m["profile"] == identity.user_id:
            mine[m["thread"]] = m
    unread = await _unread_counts(identity.user_id, mine, sees_staff_events(identity))
    latest = await _latest_messages(thread_ids, mine)
    from server.threads.chat import latest_visible

    latest_events = await latest_visible(thread_ids, mine, sees_staff_events(identity))
    views = []
    for t in threads:
        me = mine.get(t["id"], {"last_read_seq": 0})  # an admin reading a care thread
        views.append(ThreadView(
            id=t["id"], title=t["title"], kind=t["kind"], created_at=t["created_at"],
            last_seq=t["last_seq"], last_read_seq=me["last_read_seq"],
            unread=unread.get(t["id"], 0),
            members=[
                ThreadMember(id=m["profile"], name=m["name"], role=m["user_role"],
                             last_read_seq=m["last_read_seq"],
                             avatar_url=avatar_url(m["profile"], m["avatar"]))
                for m in by_thread.get(t["id"], [])
            ],
            last_message=latest.get(t["id"]),
            last_event=latest_events.get(t["id"]),  # a message or a card: the preview
        ))
    views.sort(key=lambda v: v.last_message.created_at if v.last_message else v.created_at,
               reverse=True)
    return views


async def _unread_counts(
    user_id: uuid.UUID, mine: dict[uuid.UUID, dict[str, Any]], staff: bool
) -> dict[uuid.UUID, int]:
    """Events by others after my read position (and since I joined) that a person would call
    new: messages and the cards meant for them (server/threads/chat.py)."""
    if not mine:
        return {}
    from server.threads.chat import unread_kinds_sql

    counted = unread_kinds_sql(staff)
    counts: dict[uuid.UUID, int] = {}
    ids = list(mine)
    for start in range(0, len(ids), SYNC_BATCH):
        batch = ids[start:start + SYNC_BATCH]
        placeholders = ", ".join("{}" for _ in batch)
        rows = await Event.raw(
            "SELECT e.thread AS thread, COUNT(*) AS n FROM thread_event e "
            "JOIN thread_member m ON m.thread = e.thread AND m.profile = {} "
            "AND m.left_seq IS NULL "
            f"WHERE e.thread IN ({placeholders}) AND e.seq > m.last_read_seq "
            "AND e.seq >= m.joined_seq AND (e.actor IS NULL OR e.actor <> m.profile) "
            f"AND e.kind IN ({counted}) "
            + ("" if staff else "AND e.audience = 'all' ")
            + "GROUP BY e.thread",
            user_id, *batch,
        )
        for row in rows:
            counts[uuid.UUID(str(row["thread"]))] = int(row["n"])
    return counts


async def _latest_messages(
    thread_ids: list[uuid.UUID], mine: dict[uuid.UUID, dict[str, Any]]
) -> dict[uuid.UUID, EventRecord]:
    """The newest message of each thread, for previews in a thread list."""
    latest: dict[uuid.UUID, EventRecord] = {}
    for start in range(0, len(thread_ids), SYNC_BATCH):
        batch = thread_ids[start:start + SYNC_BATCH]
        placeholders = ", ".join("{}" for _ in batch)
        rows = await Event.raw(
            "SELECT e.* FROM thread_event e JOIN ("
            "SELECT thread, MAX(seq) AS seq FROM thread_event "
            f"WHERE kind = 'message' AND thread IN ({placeholders}) GROUP BY thread"
            ") last ON last.thread = e.thread AND last.seq = e.seq",
            *batch,
        )
        for row in rows:
            tid = uuid.UUID(str(row["thread"]))
            member = mine.get(tid)
            if member is None or row["seq"] >= member["joined_seq"]:
                row["thread"] = tid
                latest[tid] = event_view(row)
    return latest


# --- events ----------------------------------------------------------------------------------


async def history(
    identity: Identity, thread_id: str, *, after: int | None = None, before: int | None = None,
    limit: int = 50,
) -> tuple[list[EventRecord], bool]:
    """A page of the caller's visible events in ascending seq, and whether more lie beyond.

    With `after`, the page starts just after it (reading forward); with `before` (or neither),
    it is the page just before it (scrolling back from the newest).
    """
    tid = parse_id(thread_id)
    windows = await _read_windows(identity, tid)
    limit = max(1, min(limit, MAX_PAGE))
    query = Event.select().where(Event.thread == tid, _within(windows))
    if not sees_staff_events(identity):
        query = query.where(Event.audience == ALL)
    if after is not None:
        query = query.where(Event.seq > after).order_by(Event.seq)
    else:
        if before is not None:
            query = query.where(Event.seq < before)
        query = query.order_by(Event.seq, ascending=False)
    rows = await query.limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if after is None:
        rows.reverse()
    return [event_view(r) for r in rows], more


def _within(windows: Sequence[tuple[int, int | None]]) -> Any:
    """SQL for 'seq lies in one of these windows'."""
    condition: Any = None
    for start, end in windows:
        clause: Any = Event.seq >= start
        if end is not None:
            clause = clause & (Event.seq <= end)
        condition = clause if condition is None else condition | clause
    return condition


class Missed(NamedTuple):
    """What `events_after` found: the events (by thread, ascending seq), the clamped start
    cursor of each thread that counts, the threads whose window is closed (the connection
    forgets them once delivered), and the head (`last_seq`) of each open one. Every event up to
    a head was committed before the events were read, so once they are delivered a cursor may
    move to the head: past staff-only events a client never gets, which would otherwise look
    like a gap to the next live event."""

    events: list[EventRecord]
    starts: dict[uuid.UUID, int]
    closed: set[uuid.UUID]
    heads: dict[uuid.UUID, int]


async def events_after(
    user_id: uuid.UUID, cursors: dict[uuid.UUID, int], staff: bool = True
) -> Missed:
    """What a connection missed: the user's visible events after each cursor.

    A thread counts while the user is a member, or when they were removed after the cursor
    (they still get everything up to and including their removal). A batch of threads is one
    query, so a sync of hundreds of threads is a handful of queries.
    """
    all_windows, last_seqs = await _windows_and_heads(user_id, list(cursors))
    windows = {
        tid: w for tid, w in all_windows.items()
        if is_open(w) or (w[-1][1] or 0) > cursors[tid]
    }
    if not windows:
        return Missed([], {}, set(), {})
    closed = {tid for tid, w in windows.items() if not is_open(w)}
    # A cursor is clamped into [window start - 1, last_seq]: one from the future would
    # otherwise swallow live events up to it.
    starts = {
        tid: min(max(cursors[tid], windows[tid][0][0] - 1), last_seqs[tid]) for tid in windows
    }
    behind = [tid for tid in windows if last_seqs[tid] > starts[tid]]
    events: list[EventRecord] = []
    for offset in range(0, len(behind), SYNC_BATCH):
        batch = behind[offset:offset + SYNC_BATCH]
        clauses, args = [], []
        for tid in batch:
            last = windows[tid][-1][1]
            if last is None:
                clauses.append("(thread = {} AND seq > {})")
                args += [tid, starts[tid]]
            else:
                clauses.append("(thread = {} AND seq > {} AND seq <= {})")
                args += [tid, starts[tid], last]
        sql = "SELECT * FROM thread_event WHERE (" + " OR ".join(clauses) + ")"
        if not staff:
            sql += " AND audience = {}"
            args.append(ALL)
        rows = await Event.raw(sql + " ORDER BY thread, seq", *args)
        for row in rows:
            event = from_row(row)
            if in_windows(event.seq, windows[event.thread_id]):
                events.append(event)
    heads = {tid: last_seqs[tid] for tid in windows if tid not in closed}
    return Missed(events, starts, closed, heads)


# A reconnect's sync in plain SQL (py-spy of a 5,000-client reconnect storm: building these
# queries was most of the sync's time). Only threads of the user's own practice count.
_SYNC_WINDOWS = (
    "SELECT m.thread AS thread, m.joined_seq AS joined_seq, m.left_seq AS left_seq, "
    "t.last_seq AS last_seq FROM thread_member m JOIN thread t ON t.id = m.thread "
    "WHERE m.profile = {{}} AND t.organization = (SELECT organization FROM profile "
    "WHERE id = {{}}) AND m.thread IN ({}) ORDER BY m.joined_seq"
)


async def _windows_and_heads(
    user_id: uuid.UUID, thread_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[tuple[int, int | None]]], dict[uuid.UUID, int]]:
    """The user's membership windows in these threads, oldest first, and each thread's
    last_seq, in one query per batch of threads."""
    windows: dict[uuid.UUID, list[tuple[int, int | None]]] = {}
    heads: dict[uuid.UUID, int] = {}
    for offset in range(0, len(thread_ids), WINDOWS_BATCH):
        batch = thread_ids[offset:offset + WINDOWS_BATCH]
        sql = _SYNC_WINDOWS.format(", ".join("{}" for _ in batch))
        for row in await Member.raw(sql, user_id, user_id, *batch):
            tid = row_uuid(row["thread"])
            windows.setdefault(tid, []).append((row["joined_seq"], row["left_seq"]))
            heads[tid] = row["last_seq"]
    return windows, heads


def _check_body(body: str, max_length: int, *, may_be_empty: bool) -> None:
    if not body.strip() and not may_be_empty:
        raise InvalidInput("A message needs some text.", extra={"field": "body"})
    if len(body) > max_length:
        raise InvalidInput(f"A message has at most {max_length} characters.",
                           code="message_too_long", extra={"field": "body"})


async def post_message(
    identity: Identity, thread_id: str | uuid.UUID, *, body: str, client_id: str,
    max_length: int, reply_to: uuid.UUID | None = None, attachments: Sequence[uuid.UUID] = (),
) -> tuple[EventRecord, bool]:
    """Store a message once per client_id; a retry returns the event already stored.

    `attachments` are files the author uploaded and has not attached yet; the body may be
    empty when there are some. A file of someone else (or another practice) is not found.
    `reply_to` quotes a message of the thread the author can see.
    """
    tid = parse_id(thread_id)
    files = list(dict.fromkeys(attachments))
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(f"A message carries at most {MAX_ATTACHMENTS} files.",
                           extra={"field": "attachments"})
    _check_body(body, max_length, may_be_empty=bool(files))
    # No look-up first: the unique index finds a retry, and most sends are not retries.
    try:
        if reply_to is None and not files:
            sent = await _send_alone(identity, tid, body, client_id)
            if sent is not None:
                return sent
        async with write_transaction() as work:
            event_id = uuid.uuid4()
            data: dict[str, Any] | None = None
            if reply_to is not None:  # quotes a message this member can see (chat.py)
                from server.threads.chat import reply_data

                data = dict(await reply_data(identity, tid, reply_to) or {})
            if files:
                from server.files import service as files_service

                data = {**(data or {}), "attachments": await files_service.attach_in_transaction(
                    identity, files, thread_id=tid, event_id=event_id)}
            # The bump takes the thread's row lock first (SQLite's IMMEDIATE transaction
            # already serializes writers), so a removal cannot commit between the membership
            # check and the append. The membership read is also the recipients' list.
            view = await append_in_transaction(
                tid, MESSAGE, identity.user_id, body=body, client_id=client_id,
                organization_id=identity.organization_id, data=data, event_id=event_id,
                then_members=True,
            )
            if identity.user_id not in await members_in_transaction(work, tid):
                raise NotFound("No such thread.")
    except NotFound:
        existing = await _existing(tid, identity.user_id, client_id)
        if existing is None:
            raise
        return existing, False  # a retry of a send stored before its author left
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        existing = await _existing(tid, identity.user_id, client_id)
        if existing is None:
            raise
        return existing, False
    return view, True


async def _send_alone(identity: Identity, thread_id: uuid.UUID, body: str, client_id: str
                      ) -> tuple[EventRecord, bool] | None:
    """A message with no quote and no files, under load together with others
    (`sendgroups`): on PostgreSQL one statement committed on its own, without the BEGIN and
    COMMIT round trips (15 % of a worker's time at 1,000 msg/s); on SQLite one hop to the
    writer's thread for the group. (event, True) once stored; (the stored one, False) for a
    retry; None when it cannot go this way (inside a transaction; an early read found
    something to write with it, such as a webhook's delivery): the caller sends it in a
    transaction.

    The unit of work runs as after a transaction: its observers see the members and the early
    reads (all empty, so none writes anything), and the effects run after the commit."""
    groups = _send_groups()
    if groups is None or _transaction_connection() is not None:
        return None  # inside a transaction, a message is part of it
    event = EventRecord(
        id=uuid.uuid4(), thread_id=thread_id, seq=0, kind=MESSAGE, actor_id=identity.user_id,
        created_at=now(), body=body_of(body), data=None, client_id=client_id, audience=ALL)
    sent = await groups.send(sendgroups.Message(event, identity.organization_id))
    if sent.refused == sendgroups.TRANSACTION:
        return None
    if sent.refused == sendgroups.DUPLICATE:
        existing = await _existing(thread_id, identity.user_id, client_id)
        if existing is not None:
            return existing, False
        raise NotFound("No such thread.")
    if sent.refused is not None or sent.seq is None:
        raise NotFound("No such thread.")
    event.seq = sent.seq
    work = uow.UnitOfWork()
    work.thread_members[thread_id] = dict(zip(sent.member_ids, sent.member_roles, strict=True))
    for read in early_readers:
        work.early_reads[(read.key, thread_id)] = []
    work.events.append(event)
    work.before_commit("threads.publish", _publish_on_commit)
    await work.run_committed()
    return event, True


_groups: tuple[Any, sendgroups.SendGroups] | None = None


def _send_groups() -> sendgroups.SendGroups | None:
    """This process's send groups (made per event loop): on PostgreSQL one statement per
    group, on SQLite one hop to the writer's thread per group."""
    global _groups
    db = engine()
    sqlite = isinstance(db, PooledSQLiteEngine)
    if not sqlite and not (isinstance(db, PostgresEngine) and db.pool is not None):
        return None  # no pool (yet, or any more): in a transaction of its own
    loop = asyncio.get_running_loop()
    if _groups is None or _groups[0] is not loop:
        _groups = (loop, sendgroups.SendGroups(_send_one_sqlite, _send_group_sqlite) if sqlite
                   else sendgroups.SendGroups(_send_one_pg, _send_group_pg))
    return _groups[1]


async def _send_one_sqlite(message: sendgroups.Message) -> sendgroups.Sent:
    return (await _send_group_sqlite([message]))[0]


async def _send_group_sqlite(messages: list[sendgroups.Message]) -> list[sendgroups.Sent]:
    """SQLite: the group in one transaction and one hop to the writer's thread. A message at a
    time, each in a transaction of its own, held the writer for two hops (its statements, then
    its savepoint's end), and each hop for a turn of the busy event loop: that bounded the
    embedded knee (bench/RESULTS.md, issue 10, sixth session). Returns once committed."""
    db = engine()
    assert isinstance(db, PooledSQLiteEngine)
    reads = tuple(early_readers)
    async with db.transaction(transaction_type=TransactionType.immediate) as transaction:
        sent: list[sendgroups.Sent] = await transaction.connection.call(
            functools.partial(append_group_sqlite, messages=messages, reads=reads))
    return sent


_SQLITE_MESSAGE = "SAVEPOINT carethread_message"
_SQLITE_UNDO_MESSAGE = "ROLLBACK TO carethread_message"
_SQLITE_RELEASE_MESSAGE = "RELEASE carethread_message"


def _sqlite_insert(db: sqlite3.Connection, args: tuple[Any, ...], seq: int) -> None:
    """Insert the event of `_append_args` at `seq` (the writer's thread)."""
    thread_id, _, event_id, *rest = args
    db.execute(_SQLITE_INSERT, [event_id, thread_id, seq, *rest])


def append_group_sqlite(db: sqlite3.Connection, messages: Sequence[sendgroups.Message],
                        reads: Sequence[EarlyRead]) -> list[sendgroups.Sent]:
    """In the writer's thread, within a transaction: each message as m0081's function does on
    PostgreSQL, in a savepoint of its own, so that a refusal (not a member, a repeated
    client_id, a thread whose early reads found something to write with the message) undoes
    only that message."""
    sent = []
    for message in messages:
        db.execute(_SQLITE_MESSAGE)
        try:
            result = _append_one_sqlite(db, message, reads)
            if result.refused is not None:
                db.execute(_SQLITE_UNDO_MESSAGE)
        except BaseException:
            if db.in_transaction:  # else SQLite rolled it all back: the error says why
                db.execute(_SQLITE_UNDO_MESSAGE)
                db.execute(_SQLITE_RELEASE_MESSAGE)
            raise
        db.execute(_SQLITE_RELEASE_MESSAGE)
        sent.append(result)
    return sent


def _append_one_sqlite(db: sqlite3.Connection, message: sendgroups.Message,
                       reads: Sequence[EarlyRead]) -> sendgroups.Sent:
    event = message.event
    if any(read.sqlite(db, event.thread_id) for read in reads):
        return sendgroups.Sent(None, [], [], sendgroups.TRANSACTION)
    org = message.organization_id
    row = db.execute(_SQLITE_BUMP, [event.thread_id, org, org]).fetchone()
    if row is None:
        return sendgroups.Sent(None, [], [], sendgroups.NOT_FOUND)
    members = db.execute(_SQLITE_MEMBERS, [event.thread_id]).fetchall()
    ids = [row_uuid(r["profile"]) for r in members]
    if event.actor_id not in ids:
        return sendgroups.Sent(None, [], [], sendgroups.NOT_FOUND)
    try:
        _sqlite_insert(db, _append_args(event, org), row["last_seq"])
    except sqlite3.IntegrityError as exc:
        if is_unique_violation(exc):
            return sendgroups.Sent(None, [], [], sendgroups.DUPLICATE)
        raise
    return sendgroups.Sent(row["last_seq"], ids, [r["role"] for r in members], None)


async def _send_one_pg(message: sendgroups.Message) -> sendgroups.Sent:
    import asyncpg

    db = engine()
    assert isinstance(db, PostgresEngine) and db.pool is not None
    try:
        async with db.pool.acquire() as conn:
            row = await conn.fetchrow(_pg_send_alone_sql(),
                                      *_append_args(message.event, message.organization_id))
    except asyncpg.PostgresError as exc:
        state = getattr(exc, "sqlstate", None)
        if state == _PG_NOT_A_MEMBER:
            return sendgroups.Sent(None, [], [], sendgroups.NOT_FOUND)
        if state == _PG_NOT_ALONE:
            return sendgroups.Sent(None, [], [], sendgroups.TRANSACTION)
        if is_unique_violation(exc):
            return sendgroups.Sent(None, [], [], sendgroups.DUPLICATE)
        raise
    if row["new_seq"] is None:
        return sendgroups.Sent(None, [], [], sendgroups.NOT_FOUND)
    return sendgroups.Sent(row["new_seq"], list(row["member_ids"] or ()),
                           list(row["member_roles"] or ()), None)


async def _send_group_pg(messages: list[sendgroups.Message]) -> list[sendgroups.Sent]:
    db = engine()
    assert isinstance(db, PostgresEngine) and db.pool is not None
    events = [m.event for m in messages]
    async with db.pool.acquire() as conn:
        rows = await conn.fetch(
            _statements(tuple(read.postgres for read in early_readers))[2],
            [e.thread_id for e in events], [m.organization_id for m in messages],
            [e.id for e in events], [e.actor_id for e in events],
            [None if e.body is msgspec.UNSET else e.body for e in events],
            [e.client_id for e in events], [e.created_at for e in events])
    return [sendgroups.Sent(r["new_seq"], list(r["member_ids"] or ()),
                            list(r["member_roles"] or ()), r["refused"]) for r in rows]


async def send_as_member_in_transaction(
    thread_id: uuid.UUID, author_id: uuid.UUID, organization_id: uuid.UUID, *, body: str,
    client_id: str, data: dict[str, Any] | None = None, author_checked: bool = False,
) -> EventRecord | None:
    """For jobs sending in someone's name (scheduled messages, broadcasts): the message, or
    None when the author is no longer a member of the thread, or no longer active (unless the
    caller checked that already: `author_checked`); nothing is written then. Runs in the
    caller's write transaction; the thread is locked before membership is read."""
    work = uow.current()
    await lock_thread(thread_id)
    work.thread_members.pop(thread_id, None)
    if author_id not in await members_in_transaction(work, thread_id):
        return None
    if not author_checked and not await Profile.exists().where(
            Profile.id == author_id, Profile.status == "active"):
        return None
    return await append_in_transaction(
        thread_id, MESSAGE, author_id, body=body, data=data, client_id=client_id,
        organization_id=organization_id,
    )


async def open_member(identity: Identity, thread_id: str | uuid.UUID) -> uuid.UUID:
    """The thread's id, if the caller is a current member of it (else not found)."""
    tid = parse_id(thread_id)
    await _open_membership(identity, tid)
    return tid


def check_body(body: str, max_length: int) -> None:
    """A message's text, for jobs that send later (scheduled messages, broadcasts)."""
    _check_body(body, max_length, may_be_empty=False)
async def event_visible(
    identity: Identity, thread_id: uuid.UUID, event_id: uuid.UUID
) -> EventRecord | None:
    """The event, if the caller may see it now: in one of their windows (or a care thread an
    admin reads), staff-only events for staff only."""
    try:
        windows = await _read_windows(identity, thread_id)
    except NotFound:
        return None
    row = await Event.select().where(Event.id == event_id, Event.thread == thread_id).first()
    if row is None or not in_windows(row["seq"], windows):
        return None
    if row["audience"] != ALL and not sees_staff_events(identity):
        return None
    return event_view(row)


async def _own_message(
    identity: Identity, thread_id: str, event_id: str, *, admin_may: bool
) -> tuple[uuid.UUID, dict[str, Any]]:
    """The message to change, read inside the write transaction (the thread locked): not
    visible is 404; visible but someone else's is 403 `not_author` (admins may delete)."""
    tid = parse_id(thread_id)
    eid = parse_id(event_id, "message")
    await lock_thread(tid)
    windows = await _read_windows(identity, tid)
    row = await Event.select().where(
        Event.id == eid, Event.thread == tid, Event.kind == MESSAGE).first()
    if (row is None or not in_windows(row["seq"], windows) or row["deleted_at"] is not None
            or (row["audience"] != ALL and not sees_staff_events(identity))):
        raise NotFound("No such message.")
    if row["actor"] != identity.user_id and not (admin_may and identity.is_admin):
        raise Forbidden("Only the author can change this message.", code="not_author")
    return tid, row


async def _edits_of(message_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await MessageRevision.select(MessageRevision.change_event_id).where(
        MessageRevision.message_id == message_id, MessageRevision.change == "edited")
    return [r["change_event_id"] for r in rows]


async def edit_message(
    identity: Identity, thread_id: str, event_id: str, *, body: str, max_length: int
) -> EventRecord:
    """The author changes a message's text: a `message.edited` event, the message keeps the new
    text with `edited_at`, and the earlier text goes to the audit (MessageRevision) only."""
    async with write_transaction():
        tid, row = await _own_message(identity, thread_id, event_id, admin_may=False)
        data = _data_of(row)
        _check_body(body, max_length, may_be_empty=bool(data.get("attachments")))
        if body == row["body"]:
            raise InvalidInput("That is the message's text already.", code="unchanged",
                               extra={"field": "body"})
        earlier_edits = await _edits_of(row["id"])
        view = await append_in_transaction(
            tid, MESSAGE_EDITED, identity.user_id,
            data={"event_id": str(row["id"]), "body": body})
        await Event.update({Event.body: body, Event.edited_at: view.created_at}).where(
            Event.id == row["id"])
        await MessageRevision.insert(MessageRevision(
            thread=tid, message_id=row["id"], change_event_id=view.id, change="edited",
            body=row["body"], actor=identity.user_id, created_at=view.created_at))
        # Earlier `message.edited` events show the latest text too: old text is in no answer.
        await _rewrite_edits(earlier_edits, row["id"], body)
    return view


async def delete_message(identity: Identity, thread_id: str, event_id: str) -> EventRecord:
    """The author (or an owner/admin) deletes a message: `message.deleted`; its text and files
    are gone from every answer (the audit keeps them)."""
    async with write_transaction():
        tid, row = await _own_message(identity, thread_id, event_id, admin_may=True)
        data = _data_of(row)
        earlier_edits = await _edits_of(row["id"])
        view = await append_in_transaction(
            tid, MESSAGE_DELETED, identity.user_id, data={"event_id": str(row["id"])})
        remaining = {k: v for k, v in data.items() if k != "attachments"}
        await Event.update({
            Event.body: None, Event.deleted_at: view.created_at,
            Event.data: _json_text(remaining) if remaining else None,
        }).where(Event.id == row["id"])
        await MessageRevision.insert(MessageRevision(
            thread=tid, message_id=row["id"], change_event_id=view.id, change="deleted",
            body=row["body"], data=_json_text(data) if data else None, actor=identity.user_id,
            created_at=view.created_at))
        await _rewrite_edits(earlier_edits, row["id"], None)
        if data.get("attachments"):
            from server.files import service as files_service

            await files_service.message_deleted_in_transaction(row["id"], view.created_at)
    return view


def _data_of(row: dict[str, Any]) -> dict[str, Any]:
    data = row["data"]
    if isinstance(data, str):
        data = json.loads(data)
    return dict(data or {})


async def _rewrite_edits(edit_ids: list[uuid.UUID], message_id: uuid.UUID,
                         body: str | None) -> None:
    if edit_ids:
        await Event.update({
            Event.data: _json_text({"event_id": str(message_id), "body": body})
        }).where(Event.id.is_in(edit_ids))


async def _existing(
    thread_id: uuid.UUID, actor_id: uuid.UUID, client_id: str
) -> EventRecord | None:
    row = await Event.select().where(
        Event.thread == thread_id, Event.actor == actor_id, Event.client_id == client_id
    ).first()
    return event_view(row) if row else None


async def _refuse_care_thread(thread_id: uuid.UUID) -> None:
    """A care thread's members are the client and their care team, changed on the client."""
    if await Thread.exists().where(Thread.id == thread_id, Thread.kind == "care"):
        raise Conflict("A care thread's members follow the client's care team; change the "
                       "care team on the client instead.", code="managed_by_care_team")


async def add_member(identity: Identity, thread_id: str, user_id: str) -> EventRecord:
    tid = parse_id(thread_id)
    uid = parse_id(user_id, "user")
    await _open_membership(identity, tid)
    if not _may_manage_members(identity):
        raise Forbidden("Only the practice's team can add members to a thread.")
    await _refuse_care_thread(tid)
    await _profiles_in_org(identity, [uid])
    try:
        async with write_transaction():
            await lock_thread(tid)
            await _open_membership(identity, tid)
            current = await current_member_ids(tid)
            if uid in current:
                raise InvalidInput("That user is already a member.", code="already_member")
            if len(current) >= MAX_MEMBERS:
                raise InvalidInput(f"A thread has at most {MAX_MEMBERS} members.",
                                   code="thread_full")
            view = await add_member_in_transaction(tid, uid, identity.user_id)
    except Exception as exc:
        if is_unique_violation(exc):
            raise InvalidInput("That user is already a member.", code="already_member") from exc
        raise
    return view


async def add_member_in_transaction(
    thread_id: uuid.UUID, user_id: uuid.UUID, actor_id: uuid.UUID | None
) -> EventRecord:
    """Open a membership window at a new `member.added` event."""
    view = await append_in_transaction(thread_id, MEMBER_ADDED, actor_id,
                                       data={"user_id": str(user_id)})
    await Member.insert(Member(thread=thread_id, profile=user_id, role="member",
                               joined_seq=view.seq, joined_at=now(),
                               last_read_seq=view.seq - 1))
    uow.current().thread_members.pop(thread_id, None)  # recipients: read again before commit
    return view


async def remove_member(identity: Identity, thread_id: str, user_id: str) -> EventRecord:
    """Staff remove anyone; anyone may leave. The removed member sees the removal, then nothing."""
    tid = parse_id(thread_id)
    uid = parse_id(user_id, "user")
    await _open_membership(identity, tid)
    if uid != identity.user_id and not _may_manage_members(identity):
        raise Forbidden("Only the practice's team can remove others from a thread.")
    await _refuse_care_thread(tid)
    async with write_transaction():
        await lock_thread(tid)
        await _open_membership(identity, tid)
        view = await remove_member_in_transaction(tid, uid, identity.user_id)
        if view is None:
            raise NotFound("That user is not a member of this thread.")
    return view


async def remove_member_in_transaction(
    thread_id: uuid.UUID, user_id: uuid.UUID, actor_id: uuid.UUID | None
) -> EventRecord | None:
    """Close the open window at a new `member.removed` event; None if there is none."""
    target = await Member.select(Member.id).where(
        Member.thread == thread_id, Member.profile == user_id, Member.left_seq.is_null()
    ).first()
    if target is None:
        return None
    view = await append_in_transaction(thread_id, MEMBER_REMOVED, actor_id,
                                       data={"user_id": str(user_id)})
    await Member.update({Member.left_seq: view.seq, Member.left_at: now()}).where(
        Member.id == target["id"]
    )
    uow.current().thread_members.pop(thread_id, None)  # recipients: read again before commit
    return view


async def mark_read(
    identity: Identity, thread_id: str | uuid.UUID, seq: int
) -> tuple[int, list[uuid.UUID]]:
    """Move the caller's read position forward (never back); returns it and the other members."""
    tid = parse_id(thread_id)
    member = await _open_membership(identity, tid)
    position = max(member["last_read_seq"], min(seq, member["last_seq"]))
    if position != member["last_read_seq"]:
        await Member.update({Member.last_read_seq: position}).where(
            Member.id == member["id"], Member.last_read_seq < position
        )
    others = [m for m in await current_member_ids(tid) if m != identity.user_id]
    return position, others


async def other_members(identity: Identity, thread_id: uuid.UUID) -> list[uuid.UUID]:
    """For typing signals: the members who should hear, if the caller may speak here."""
    await _open_membership(identity, thread_id)
    return [m for m in await current_member_ids(thread_id) if m != identity.user_id]


async def open_thread_ids(user_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await Member.select(Member.thread).where(
        Member.profile == user_id, Member.left_seq.is_null())
    return [r["thread"] for r in rows]


async def open_cursors(user_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Each open thread's last_seq: where a new connection's cursors start."""
    rows = await Member.raw(
        "SELECT m.thread AS thread, t.last_seq AS last_seq FROM thread_member m "
        "JOIN thread t ON t.id = m.thread WHERE m.profile = {} AND m.left_seq IS NULL",
        user_id)  # plain SQL: run on every (re)connect
    return {row_uuid(r["thread"]): r["last_seq"] for r in rows}


async def join_cursor(user_id: uuid.UUID, thread_id: uuid.UUID) -> int | None:
    """For a thread a connection has not seen: the seq just before the open window, if any."""
    row = await Member.select(Member.joined_seq).where(
        Member.thread == thread_id, Member.profile == user_id, Member.left_seq.is_null()
    ).first()
    return None if row is None else row["joined_seq"] - 1


def signal_frame(frame: dict[str, Any]) -> bytes:
    return bus_module.encode_signal(_json_encode(frame))


def publish_signal(frame: dict[str, Any], recipients: Iterable[uuid.UUID]) -> None:
    bus_module.current().publish(signal_frame(frame), recipients)
