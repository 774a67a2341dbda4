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


def _changed(function: str, old: str, new: str) -> str:
    """An earlier migration's function with one condition changed (those texts are frozen)."""
    assert function.count(old) == 1, old
    return function.replace(old, new)


APPEND_MESSAGE = _changed(
    M0080_FUNCTION,
    "WHERE id = p_thread AND (p_organization IS NULL OR organization = p_organization)",
    "WHERE id = p_thread\n"
    "      AND (p_organization IS NULL OR organization IS NOT DISTINCT FROM p_organization)",
)
APPEND_MESSAGES = _changed(
    M0081_FUNCTION,
    "WHERE id = p_threads[i] AND organization = p_organizations[i]",
    "WHERE id = p_threads[i]\n"
    "                  AND organization IS NOT DISTINCT FROM p_organizations[i]",
)


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
