"""PostgreSQL: a message's append as one server function, so a send is one round trip between
BEGIN and COMMIT instead of three (bench/RESULTS.md, issue 10: each statement's socket write
was the largest share of a worker's time at the knee).

It bumps the thread's `last_seq` (taking its row lock), inserts the event, then reads the
current members in a statement of its own: in READ COMMITTED each statement of a volatile
function takes a new snapshot, so a removal that committed while the append waited for the
lock is seen, as it was when the member read was a query of its own. SQLite needs nothing:
the writer's thread does the same in one hop (server/threads/service.py).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from server.db import engine

ID = "2026-12-01T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "PostgreSQL: append a message and read the members in one call"

FUNCTION = """
CREATE OR REPLACE FUNCTION carethread_append_message(
    p_thread uuid, p_organization uuid, p_id uuid, p_kind varchar, p_actor uuid, p_body text,
    p_data json, p_client_id varchar, p_audience varchar, p_created_at timestamptz,
    OUT new_seq bigint, OUT member_ids uuid[], OUT member_roles varchar[])
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    UPDATE thread SET last_seq = last_seq + 1
    WHERE id = p_thread AND (p_organization IS NULL OR organization = p_organization)
    RETURNING last_seq INTO new_seq;
    IF new_seq IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO thread_event (id, thread, seq, kind, actor, body, data, client_id, audience,
                              created_at)
    VALUES (p_id, p_thread, new_seq, p_kind, p_actor, p_body, p_data, p_client_id, p_audience,
            p_created_at);
    SELECT array_agg(m.profile), array_agg(p.role) INTO member_ids, member_roles
    FROM thread_member m JOIN profile p ON p.id = m.profile
    WHERE m.thread = p_thread AND m.left_seq IS NULL;
END
$$
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="carethread", description=DESCRIPTION)

    async def create() -> None:
        if isinstance(engine(), PostgresEngine):
            await Table.raw(FUNCTION)

    async def drop() -> None:
        if isinstance(engine(), PostgresEngine):
            await Table.raw("DROP FUNCTION carethread_append_message")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
