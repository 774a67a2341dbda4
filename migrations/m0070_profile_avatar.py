"""A person's photo: `profile.avatar`, the SHA-256 of the square image in file storage (null:
initials). The image is a blob like any file's, counted in `file_blob.refs`."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T12:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Profile photos (avatars)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="carethread", description=DESCRIPTION)

    async def add() -> None:
        await Table.raw("ALTER TABLE profile ADD COLUMN avatar VARCHAR(64)")

    async def drop() -> None:
        await Table.raw("ALTER TABLE profile DROP COLUMN avatar")

    manager.add_raw(add)
    manager.add_raw_backwards(drop)
    return manager
