"""SDC forms: a form version's own FHIRPath variables, and files held by a form response.

Both columns are new and nullable: forms and responses stored before keep working as they are
(no variables; their definitions are the flat lists of items they always were, which are still
valid definitions).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON, UUID
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T23:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Form version variables; files held by form responses"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="carethread", description=DESCRIPTION)
    manager.add_column(
        table_class_name="FormVersion",
        tablename="form_version",
        column_name="variables",
        db_column_name="variables",
        column_class_name="JSON",
        column_class=JSON,
        params={"default": None, "null": True, "primary_key": False, "unique": False,
                "index": False, "index_method": IndexMethod.btree, "choices": None,
                "db_column_name": None, "secret": False},
        schema=None,
    )
    manager.add_column(
        table_class_name="StoredFile",
        tablename="stored_file",
        column_name="form_request_id",
        db_column_name="form_request_id",
        column_class_name="UUID",
        column_class=UUID,
        params={"default": None, "null": True, "primary_key": False, "unique": False,
                "index": True, "index_method": IndexMethod.btree, "choices": None,
                "db_column_name": None, "secret": False},
        schema=None,
    )
    return manager
