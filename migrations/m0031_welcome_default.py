"""The welcome message is on, with a default text, for practices created from now on.

Practices that already exist keep what they had: one whose settings row was never created
(welcome off and empty) gets that row now, so the new default does not switch it on.
"""

import uuid

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Boolean, Text, Varchar
from piccolo.table import Table

ID = "2026-11-30T03:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Existing practices keep the welcome message off"


class Organization(Table, tablename="organization"):
    id = UUID(primary_key=True)


class PracticeSettings(Table, tablename="practice_settings"):
    id = UUID(primary_key=True)
    organization = UUID()
    welcome_enabled = Boolean(default=False)
    welcome_text = Text(default="")
    assignment_mode = Varchar(length=20, default="round_robin")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="carethread", description=DESCRIPTION)

    async def keep_existing_off() -> None:
        have = {r["organization"] for r in
                await PracticeSettings.select(PracticeSettings.organization)}
        missing = [r["id"] for r in await Organization.select(Organization.id)
                   if r["id"] not in have]
        if missing:
            await PracticeSettings.insert(*[
                PracticeSettings(id=uuid.uuid4(), organization=org, welcome_enabled=False,
                                 welcome_text="", assignment_mode="round_robin")
                for org in missing
            ])

    manager.add_raw(keep_existing_off)
    return manager
