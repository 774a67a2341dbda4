"""Full-text search over the messages a caller may see: FTS5 on SQLite, tsvector on PostgreSQL.

What may be seen is what history shows: events inside the caller's membership windows (or, for
owners and admins, any care thread of their practice), never staff-only events for a client,
and only a message's current text (an edited message is found by its new words, a deleted one
not at all). User input never reaches the query syntax: it is cut into words, each quoted
(FTS5) or passed to `plainto_tsquery` (PostgreSQL).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec
from piccolo.engine.sqlite import SQLiteEngine

from server.db import engine
from server.errors import InvalidInput
from server.events import EventRecord
from server.identity import Identity
from server.threads.service import event_view, parse_id, sees_staff_events
from server.threads.tables import Event

MAX_TERMS = 12
MAX_QUERY = 200
MARK_START, MARK_END = "\x02", "\x03"
_WORD = re.compile(r"\w+", re.UNICODE)


class Segment(msgspec.Struct):
    """A piece of the matching text; `match` marks the words that were searched for."""

    text: str
    match: bool


class SearchResult(msgspec.Struct):
    thread_id: uuid.UUID
    event: EventRecord
    snippet: list[Segment]


def terms_of(query: str) -> list[str]:
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"A search has at most {MAX_QUERY} characters.",
                           code="query_too_long", extra={"field": "q"})
    if not query.strip():
        raise InvalidInput("Say what to search for.", extra={"field": "q"})
    return _WORD.findall(query.replace(MARK_START, " ").replace(MARK_END, " "))[:MAX_TERMS]


def segments(marked: str) -> list[Segment]:
    out: list[Segment] = []
    for i, part in enumerate(re.split(f"[{MARK_START}{MARK_END}]", marked)):
        if part:
            out.append(Segment(part, i % 2 == 1))
    return out


_SCOPE = (
    "(EXISTS (SELECT 1 FROM thread_member m WHERE m.thread = e.thread AND m.profile = {} "
    "AND e.seq >= m.joined_seq AND (m.left_seq IS NULL OR e.seq <= m.left_seq)) "
    "OR ({} AND EXISTS (SELECT 1 FROM thread t WHERE t.id = e.thread AND t.kind = 'care' "
    "AND t.organization = {})))"
)


async def search(identity: Identity, query: str, *, thread_id: str | None = None,
                 limit: int = 20) -> list[SearchResult]:
    """Matching messages, newest first."""
    terms = terms_of(query)
    if not terms:
        return []
    limit = max(1, min(limit, 50))
    is_sqlite = isinstance(engine(), SQLiteEngine)
    args: list[Any] = []
    if is_sqlite:
        sql = (
            "SELECT e.*, snippet(message_search, 0, char(2), char(3), '…', 40) AS marked "
            "FROM message_search JOIN thread_event e ON e.rowid = message_search.rowid "
            "WHERE message_search MATCH {} AND e.kind = 'message' "
        )
        args.append(" ".join('"' + t.replace('"', '""') + '"' for t in terms))
    else:
        sql = (
            "SELECT e.*, ts_headline('english', e.body, q, 'StartSel=' || chr(2) || "
            "', StopSel=' || chr(3) || ', MaxWords=40, MinWords=12') AS marked "
            "FROM thread_event e, plainto_tsquery('english', {}) q "
            "WHERE e.kind = 'message' AND to_tsvector('english', coalesce(e.body, '')) @@ q "
        )
        args.append(" ".join(terms))
    sql += "AND " + _SCOPE + " "
    args += [identity.user_id, identity.is_admin, identity.organization_id]
    if not sees_staff_events(identity):
        sql += "AND e.audience = 'all' "
    if thread_id is not None:
        sql += "AND e.thread = {} "
        args.append(parse_id(thread_id))
    sql += "ORDER BY e.created_at DESC, e.seq DESC LIMIT {}"
    args.append(limit)
    rows = await Event.raw(sql, *args)
    results = []
    for row in rows:
        marked = row.pop("marked") or ""
        if isinstance(row["thread"], str):
            row["thread"] = uuid.UUID(row["thread"])
        event = event_view(row)
        results.append(SearchResult(event.thread_id, event, segments(marked)))
    return results
