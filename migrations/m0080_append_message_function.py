"""PostgreSQL: a message's append as one server function, so a send is one round trip
(bench/RESULTS.md, issue 10: each statement's socket write was the largest share of a worker's
time at the knee).

`carethread_append_message` bumps the thread's `last_seq` (taking its row lock), then reads
the current members in a statement of its own: in READ COMMITTED each statement of a volatile
function takes a new snapshot, so a removal that committed while the append waited for the
lock is seen, as it was when the member read was a query of its own. With `p_member_only` it
refuses (SQLSTATE CT404, rolling back the bump) an author who is not a current member, so a
message can be sent as one statement committed on its own. `carethread_alone` refuses
(CT409) when another domain's early read found something it will write with the message (a
webhook's delivery): the caller then sends it in a transaction instead.

SQLite needs neither: the writer's thread does the same in one hop (server/threads/service.py).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from server.db import engine

ID = "2026-11-30T23:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "PostgreSQL: a message as one statement"

FUNCTION = """
CREATE OR REPLACE FUNCTION carethread_append_message(
    p_thread uuid, p_organization uuid, p_id uuid, p_kind varchar, p_actor uuid, p_body text,
    p_data json, p_client_id varchar, p_audience varchar, p_created_at timestamptz,
    p_member_only boolean,
    OUT new_seq bigint, OUT member_ids uuid[], OUT member_roles varchar[])
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    UPDATE thread SET last_seq = last_seq + 1
    WHERE id = p_thread AND (p_organization IS NULL OR organization = p_organization)
    RETURNING last_seq INTO new_seq;
    IF new_seq IS NULL THEN
        RETURN;
    END IF;
    SELECT array_agg(m.profile), array_agg(p.role) INTO member_ids, member_roles
    FROM thread_member m JOIN profile p ON p.id = m.profile
    WHERE m.thread = p_thread AND m.left_seq IS NULL;
    IF p_member_only AND (p_actor IS NULL OR member_ids IS NULL
                          OR NOT p_actor = ANY(member_ids)) THEN
        RAISE EXCEPTION 'not a member of the thread' USING ERRCODE = 'CT404';
    END IF;
    INSERT INTO thread_event (id, thread, seq, kind, actor, body, data, client_id, audience,
                              created_at)
    VALUES (p_id, p_thread, new_seq, p_kind, p_actor, p_body, p_data, p_client_id, p_audience,
            p_created_at);
END
$$
"""

ALONE = """
CREATE OR REPLACE FUNCTION carethread_alone(reads text[]) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(reads) AS r WHERE r IS NOT NULL) THEN
        RAISE EXCEPTION 'something is written with this event: use a transaction'
            USING ERRCODE = 'CT409';
    END IF;
    RETURN true;
END
$$
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="carethread", description=DESCRIPTION)

    async def create() -> None:
        if isinstance(engine(), PostgresEngine):
            await Table.raw(FUNCTION)
            await Table.raw(ALONE)

    async def drop() -> None:
        if isinstance(engine(), PostgresEngine):
            await Table.raw("DROP FUNCTION carethread_alone")
            await Table.raw("DROP FUNCTION carethread_append_message")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
