"""Uniqueness the onboarding tables rely on (composite, so raw SQL on both engines)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-26T04:30:57:000000"
VERSION = "1.38.0"
DESCRIPTION = "Onboarding uniqueness: group and tag names, care team and tag links"

INDEXES = {
    "client_group_name": (
        "CREATE UNIQUE INDEX client_group_name ON client_group (organization, name)"
    ),
    "tag_name": "CREATE UNIQUE INDEX tag_name ON tag (organization, name)",
    "care_team_member_pair": (
        "CREATE UNIQUE INDEX care_team_member_pair ON care_team_member (client, provider)"
    ),
    "client_tag_pair": "CREATE UNIQUE INDEX client_tag_pair ON client_tag (client, tag)",
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="carethread", description=DESCRIPTION)

    async def create() -> None:
        for sql in INDEXES.values():
            await Table.raw(sql)

    async def drop() -> None:
        for name in INDEXES:
            await Table.raw(f"DROP INDEX {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
