"""One practice-default intake flow: NULL groups are never duplicates to a plain unique index."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-26T04:50:35:000000"
VERSION = "1.38.0"
DESCRIPTION = "At most one default intake flow per practice"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="carethread", description=DESCRIPTION)

    async def create() -> None:
        await Table.raw(
            "CREATE UNIQUE INDEX intake_flow_default ON intake_flow (organization) "
            "WHERE client_group IS NULL"
        )

    async def drop() -> None:
        await Table.raw("DROP INDEX intake_flow_default")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
