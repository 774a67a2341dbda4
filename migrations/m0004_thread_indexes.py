"""The event log's unique and range-scan indexes, and one open membership per thread."""

from server.db import index_migration

ID = "2026-11-26T04:12:39:000000"
VERSION = "1.38.0"
DESCRIPTION = "Thread event and membership indexes"

INDEXES = {
    # History pages and sync are range scans on (thread, seq); also makes seq unique.
    "thread_event_seq": "CREATE UNIQUE INDEX thread_event_seq ON thread_event (thread, seq)",
    # Idempotent sends: one event per (thread, actor, client_id).
    "thread_event_client_id": (
        "CREATE UNIQUE INDEX thread_event_client_id ON thread_event (thread, actor, client_id) "
        "WHERE client_id IS NOT NULL"
    ),
    # At most one open membership window per profile and thread.
    "thread_member_open": (
        "CREATE UNIQUE INDEX thread_member_open ON thread_member (thread, profile) "
        "WHERE left_seq IS NULL"
    ),
    "thread_member_profile_thread": (
        "CREATE INDEX thread_member_profile_thread ON thread_member (profile, thread)"
    ),
}

forwards = index_migration(ID, DESCRIPTION, INDEXES)
