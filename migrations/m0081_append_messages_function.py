"""PostgreSQL: several plain messages in one statement (a worker's sends that queued while its
previous statement was on the wire), so that under load a worker makes one round trip and
one commit for a group of messages instead of one each (bench/RESULTS.md, issue 10).

Each message is a block of its own (a subtransaction): one that is refused (its author is not
a member, the thread is not found, it repeats a `client_id`, or something else must be written
with it) is undone alone and reported, and the others go on. Each does what
`carethread_append_message` (m0080) does, in the order given; the caller orders them by thread
so that two workers' groups lock threads in the same order.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from server.db import engine

ID = "2026-11-30T23:56:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "PostgreSQL: several messages in one statement"

FUNCTION = """
CREATE OR REPLACE FUNCTION carethread_append_messages(
    p_threads uuid[], p_organizations uuid[], p_ids uuid[], p_actors uuid[], p_bodies text[],
    p_client_ids varchar[], p_created_at timestamptz[], p_alone boolean[])
RETURNS TABLE (item integer, new_seq bigint, member_ids uuid[], member_roles varchar[],
               refused varchar)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    i integer;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_threads, 1), 0) LOOP
        item := i;
        new_seq := NULL;
        member_ids := NULL;
        member_roles := NULL;
        refused := NULL;
        IF NOT p_alone[i] THEN
            refused := 'transaction';
        ELSE
            BEGIN
                UPDATE thread SET last_seq = last_seq + 1
                WHERE id = p_threads[i] AND organization = p_organizations[i]
                RETURNING last_seq INTO new_seq;
                IF new_seq IS NULL THEN
                    refused := 'not_found';
                ELSE
                    SELECT array_agg(m.profile), array_agg(p.role) INTO member_ids, member_roles
                    FROM thread_member m JOIN profile p ON p.id = m.profile
                    WHERE m.thread = p_threads[i] AND m.left_seq IS NULL;
                    IF member_ids IS NULL OR NOT p_actors[i] = ANY(member_ids) THEN
                        RAISE EXCEPTION 'not a member of the thread' USING ERRCODE = 'CT404';
                    END IF;
                    INSERT INTO thread_event (id, thread, seq, kind, actor, body, data,
                                              client_id, audience, created_at)
                    VALUES (p_ids[i], p_threads[i], new_seq, 'message', p_actors[i],
                            p_bodies[i], NULL, p_client_ids[i], 'all', p_created_at[i]);
                END IF;
            EXCEPTION
                WHEN SQLSTATE 'CT404' THEN
                    refused := 'not_found';
                WHEN unique_violation THEN
                    refused := 'duplicate';
            END;
            IF refused IS NOT NULL THEN
                new_seq := NULL;
                member_ids := NULL;
                member_roles := NULL;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
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
            await Table.raw("DROP FUNCTION carethread_append_messages")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
