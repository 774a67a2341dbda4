"""Full-text search over messages: FTS5 on SQLite, a GIN expression index on PostgreSQL.

SQLite keeps a `message_search` FTS5 table whose rowid is the event's rowid, maintained by
triggers on `thread_event`, so every way a message is written, edited or deleted (body set to
NULL) updates the index. PostgreSQL indexes `to_tsvector('english', body)` of messages.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

ID = "2026-11-30T12:11:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Message search (FTS5 / tsvector) and the unattached-file scan"

SQLITE = [
    "CREATE VIRTUAL TABLE message_search USING fts5("
    "body, tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER message_search_insert AFTER INSERT ON thread_event "
    "WHEN new.kind = 'message' AND new.body IS NOT NULL BEGIN "
    "INSERT INTO message_search(rowid, body) VALUES (new.rowid, new.body); END",
    "CREATE TRIGGER message_search_update AFTER UPDATE OF body ON thread_event "
    "WHEN old.kind = 'message' BEGIN "
    "DELETE FROM message_search WHERE rowid = old.rowid; "
    "INSERT INTO message_search(rowid, body) SELECT new.rowid, new.body "
    "WHERE new.body IS NOT NULL; END",
    "CREATE TRIGGER message_search_delete AFTER DELETE ON thread_event "
    "WHEN old.kind = 'message' BEGIN "
    "DELETE FROM message_search WHERE rowid = old.rowid; END",
    "INSERT INTO message_search(rowid, body) SELECT rowid, body FROM thread_event "
    "WHERE kind = 'message' AND body IS NOT NULL",
]
SQLITE_BACK = [
    "DROP TRIGGER message_search_insert", "DROP TRIGGER message_search_update",
    "DROP TRIGGER message_search_delete", "DROP TABLE message_search",
]
POSTGRES = [
    "CREATE INDEX thread_event_search ON thread_event "
    "USING gin (to_tsvector('english', coalesce(body, ''))) WHERE kind = 'message'",
]
POSTGRES_BACK = ["DROP INDEX thread_event_search"]
BOTH = [
    "CREATE INDEX stored_file_unattached ON stored_file (created_at) "
    "WHERE attached_at IS NULL",
]
BOTH_BACK = ["DROP INDEX stored_file_unattached"]


def _is_sqlite() -> bool:
    from server.db import engine

    return isinstance(engine(), SQLiteEngine)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="carethread", description=DESCRIPTION)

    async def create() -> None:
        for sql in (SQLITE if _is_sqlite() else POSTGRES) + BOTH:
            await Table.raw(sql)

    async def drop() -> None:
        for sql in (SQLITE_BACK if _is_sqlite() else POSTGRES_BACK) + BOTH_BACK:
            await Table.raw(sql)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
