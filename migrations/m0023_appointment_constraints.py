"""Appointments: no two booked appointments of one provider overlap (PostgreSQL: an exclusion
constraint with btree_gist; SQLite has one writer, and the service checks inside it), and the
indexes of the slot, calendar and reminder reads."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from server.db import engine

ID = "2026-11-30T12:23:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Appointment overlap exclusion and indexes"

INDEXES = {
    "appointment_provider_block": (
        "CREATE INDEX appointment_provider_block ON appointment (provider, block_start)"
    ),
    "appointment_client_start": (
        "CREATE INDEX appointment_client_start ON appointment (client, starts_at)"
    ),
    "appointment_reminder_due": (
        "CREATE INDEX appointment_reminder_due ON appointment (status, next_reminder_at)"
    ),
}

EXCLUSION = (
    "ALTER TABLE appointment ADD CONSTRAINT appointment_no_overlap "
    "EXCLUDE USING gist (provider WITH =, tstzrange(block_start, block_end) WITH &&) "
    "WHERE (status = 'booked')"
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="carethread", description=DESCRIPTION)

    async def create() -> None:
        if isinstance(engine(), PostgresEngine):
            await Table.raw("CREATE EXTENSION IF NOT EXISTS btree_gist")
            await Table.raw(EXCLUSION)
        for sql in INDEXES.values():
            await Table.raw(sql)

    async def drop() -> None:
        for name in INDEXES:
            await Table.raw(f"DROP INDEX {name}")
        if isinstance(engine(), PostgresEngine):
            await Table.raw("ALTER TABLE appointment DROP CONSTRAINT appointment_no_overlap")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
