"""PostgreSQL: the append functions of m0080 and m0081 find the thread by its primary key only.

They matched `id = ... AND organization = ...`, and where the planner had no statistics yet
(a database just loaded, as the benchmark's is) it could pick the `thread_organization` index
and filter all of a practice's threads for the id: a fifth of a millisecond per message at
1,000 threads, more with more (auto_explain in bench/RESULTS.md, issue 10, fifth session).
`IS NOT DISTINCT FROM` is no index condition, so only the primary key can find the row; the
practice is still checked on it (the column is never NULL).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from migrations.m0080_append_message_function import FUNCTION as M0080_FUNCTION
from migrations.m0081_append_messages_function import FUNCTION as M0081_FUNCTION
from server.db import engine

ID = "2026-11-30T23:57:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "PostgreSQL: the append functions find the thread by its primary key"

APPEND_MESSAGE = """
CREATE OR REPLACE FUNCTION carethread_append_message(
    p_thread uuid, p_organization uuid, p_id uuid, p_kind varchar, p_actor uuid, p_body text,
    p_data json, p_client_id varchar, p_audience varchar, p_created_at timestamptz,
    p_member_only boolean,
    OUT new_seq bigint, OUT member_ids uuid[], OUT member_roles varchar[])
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    UPDATE thread SET last_seq = last_seq + 1
    WHERE id = p_thread
      AND (p_organization IS NULL OR organization IS NOT DISTINCT FROM p_organization)
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

APPEND_MESSAGES = """
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
                WHERE id = p_threads[i]
                  AND organization IS NOT DISTINCT FROM p_organizations[i]
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
            await Table.raw(APPEND_MESSAGE)
            await Table.raw(APPEND_MESSAGES)

    async def restore() -> None:
        if isinstance(engine(), PostgresEngine):
            await Table.raw(M0080_FUNCTION)
            await Table.raw(M0081_FUNCTION)

    manager.add_raw(create)
    manager.add_raw_backwards(restore)
    return manager
