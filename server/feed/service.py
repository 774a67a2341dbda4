"""The provider's newsfeed: the newest activity of the caller's clients, newest first.

Other domains call `record` inside the write transaction that appends the activity's event, so a
feed row exists exactly when its event does. A page is one indexed query over `feed_item`
(joined to the event and the client's name); the cursor is the last row's (position, id).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from server import uow
from server.db import engine, write_transaction
from server.errors import InvalidInput, NotFound
from server.events import EventRecord, from_row
from server.feed.tables import FeedItem, FeedRead
from server.identity import Identity
from server.onboarding import access

CATEGORIES = ("metric", "journal", "form", "task", "program")
MAX_PAGE = 100
UNREAD_CAP = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def position_of(moment: datetime) -> int:
    """Microseconds since the epoch: exact, and the same on both engines."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


async def record(event: EventRecord, *, client_id: uuid.UUID, organization_id: uuid.UUID,
                 category: str) -> None:
    """Put an activity of a client on the feed; call inside the transaction of its event."""
    uow.current()  # only inside write_transaction(): the row commits with its event
    if category not in CATEGORIES:
        raise ValueError(f"unknown feed category {category!r}")
    await FeedItem.insert(FeedItem(
        id=uuid.uuid4(), organization=organization_id, client=client_id, category=category,
        event=event.id, actor=event.actor_id, position=position_of(event.created_at),
        created_at=event.created_at,
    ))


class FeedEntry(msgspec.Struct):
    id: uuid.UUID
    client_id: uuid.UUID
    client_name: str
    category: str
    unread: bool
    event: EventRecord


class FeedPage(msgspec.Struct, omit_defaults=True):
    items: list[FeedEntry]
    next_cursor: str | None
    unread: int | None = None  # on the first page: unread items (counted up to 100)


def _cursor(position: int, item_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{position}:{item_id}".encode()).decode().rstrip("=")


def _parse_cursor(raw: str) -> tuple[int, uuid.UUID]:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        position, item = text.split(":", 1)
        return int(position), uuid.UUID(item)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("This cursor is not one a feed page gave.",
                           code="invalid_cursor", extra={"field": "cursor"}) from None


def _client_term() -> str:
    """How a page filters on a set of clients. SQLite's planner, given the statistics of a big
    feed, would read every row of those clients through `feed_item_client` and sort them (5 s
    for 100,000 rows); the unary `+` keeps it on the newest-first scan of `feed_item_practice`,
    which stops after one page. PostgreSQL has no unary + for uuid, and needs no hint."""
    return "f.client" if isinstance(engine(), PostgresEngine) else "+f.client"


class Scope(msgspec.Struct):
    """Which clients' rows a feed read covers, as SQL conditions on `f` (and their values).

    The rules are onboarding/access.py's, in their SQL form: a provider's clients are a
    subquery, never a list of hundreds of bound ids."""

    sql: str
    args: list[Any]


async def _scope(identity: Identity, client_id: str | None, group_id: str | None) -> Scope:
    if not identity.is_staff:
        raise NotFound("No feed here.")
    sql = "f.organization = {}"
    args: list[Any] = [identity.organization_id]
    if client_id is not None:
        one = await access.client_access(identity, client_id, team_only=True)
        sql += " AND f.client = {}"
        args.append(one.client_id)
    elif not identity.is_admin:
        team_sql, team_args = access.team_clients_sql(identity)
        sql += f" AND {_client_term()} IN ({team_sql})"
        args += team_args
    if group_id is not None:
        group_sql, group_args = await access.group_clients_sql(identity, group_id)
        sql += f" AND {_client_term()} IN ({group_sql})"
        args += group_args
    return Scope(sql=sql, args=args)


def _where(scope: Scope, category: str | None) -> tuple[str, list[Any]]:
    sql = scope.sql
    args = list(scope.args)
    if category is not None:
        sql += " AND f.category = {}"
        args.append(category)
    return sql, args


async def _watermark(identity: Identity) -> tuple[int, uuid.UUID]:
    row = await FeedRead.select(FeedRead.position, FeedRead.item).where(
        FeedRead.profile == identity.user_id).first()
    if row is None:
        return 0, uuid.UUID(int=0)
    return row["position"], row["item"] or uuid.UUID(int=0)


def _after(position: int, item: uuid.UUID) -> tuple[str, list[Any]]:
    return ("(f.position > {} OR (f.position = {} AND f.id > {}))", [position, position, item])


async def page(identity: Identity, *, client_id: str | None = None,
               category: str | None = None, group_id: str | None = None,
               cursor: str | None = None, limit: int = 30) -> FeedPage:
    """A page of the feed, newest first; `next_cursor` continues it (None: the end)."""
    limit = max(1, min(limit, MAX_PAGE))
    before = _parse_cursor(cursor) if cursor else None
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(f"kind is one of {', '.join(CATEGORIES)}.", extra={"field": "kind"})
    scope = await _scope(identity, client_id, group_id)
    where, args = _where(scope, category)
    if before is not None:
        where += " AND (f.position < {} OR (f.position = {} AND f.id < {}))"
        args += [before[0], before[0], before[1]]
    rows = await FeedItem.raw(
        "SELECT f.id AS feed_id, f.client AS feed_client, f.category AS feed_category, "
        "f.position AS feed_position, p.name AS feed_client_name, e.* "
        "FROM feed_item f JOIN thread_event e ON e.id = f.event "
        "JOIN profile p ON p.id = f.client "
        f"WHERE {where} ORDER BY f.position DESC, f.id DESC LIMIT {limit + 1}",
        *args,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    seen_position, seen_item = await _watermark(identity)
    items = []
    for row in rows:
        feed_id = _uuid(row["feed_id"])
        unread = (row["feed_position"], feed_id) > (seen_position, seen_item) and (
            row["actor"] is None or _uuid(row["actor"]) != identity.user_id)
        items.append(FeedEntry(
            id=feed_id, client_id=_uuid(row["feed_client"]),
            client_name=row["feed_client_name"], category=row["feed_category"],
            unread=unread, event=from_row(row)))
    next_cursor = None
    if more and rows:
        next_cursor = _cursor(rows[-1]["feed_position"], _uuid(rows[-1]["feed_id"]))
    unread_count = None
    if before is None:
        unread_count = await _unread(identity, scope, category, seen_position, seen_item)
    return FeedPage(items=items, next_cursor=next_cursor, unread=unread_count)


async def _unread(identity: Identity, scope: Scope, category: str | None,
                  position: int, item: uuid.UUID) -> int:
    where, args = _where(scope, category)
    after, after_args = _after(position, item)
    rows = await FeedItem.raw(
        f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM feed_item f WHERE {where} AND {after} "
        "AND (f.actor IS NULL OR f.actor <> {}) "
        f"ORDER BY f.position DESC LIMIT {UNREAD_CAP}) t",
        *args, *after_args, identity.user_id,
    )
    return int(rows[0]["n"])


async def mark_read(identity: Identity, item_id: str | None = None) -> int:
    """Everything up to an item (default: the newest of the practice) counts as read; the
    mark never moves back. Returns the unread count left."""
    if not identity.is_staff:
        raise NotFound("No feed here.")
    query = FeedItem.select(FeedItem.id, FeedItem.position).where(
        FeedItem.organization == identity.organization_id)
    if item_id is not None:
        try:
            wanted = uuid.UUID(item_id)
        except ValueError:
            raise NotFound("No such feed item.") from None
        row = await query.where(FeedItem.id == wanted).first()
        if row is None:
            raise NotFound("No such feed item.")
    else:
        row = await query.order_by(FeedItem.position, ascending=False).order_by(
            FeedItem.id, ascending=False).first()
        if row is None:
            return 0
    async with write_transaction():
        current = await FeedRead.select(FeedRead.id, FeedRead.position, FeedRead.item).where(
            FeedRead.profile == identity.user_id).first()
        mark = (row["position"], row["id"])
        if current is None:
            await FeedRead.insert(FeedRead(id=uuid.uuid4(), profile=identity.user_id,
                                           position=mark[0], item=mark[1]))
        elif mark > (current["position"], current["item"] or uuid.UUID(int=0)):
            await FeedRead.update({FeedRead.position: mark[0], FeedRead.item: mark[1]}).where(
                FeedRead.id == current["id"])
    scope = await _scope(identity, None, None)
    seen = await _watermark(identity)
    return await _unread(identity, scope, None, *seen)


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
