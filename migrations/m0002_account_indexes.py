"""Indexes Piccolo's auto migrations cannot express portably (raw SQL runs before add_table)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-26T04:02:29:000000"
VERSION = "1.38.0"
DESCRIPTION = "One profile per login in each practice"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="carethread", description=DESCRIPTION)

    async def create() -> None:
        # A unique index rather than a constraint: SQLite cannot ALTER TABLE ADD CONSTRAINT.
        await Table.raw(
            "CREATE UNIQUE INDEX profile_one_per_practice ON profile (organization, account)"
        )

    async def drop() -> None:
        await Table.raw("DROP INDEX profile_one_per_practice")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
