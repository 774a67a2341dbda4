"""Files held by care plans and program modules: who holds an upload (besides a message event
or a client document), and the files of each care plan version and program module."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON, UUID, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Files of care plans and program modules"


def _params(**extra: object) -> dict[str, object]:
    return {"primary_key": False, "unique": False, "index": False,
            "index_method": IndexMethod.btree, "choices": None, "db_column_name": None,
            "secret": False, **extra}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="carethread", description=DESCRIPTION)
    manager.add_column(
        table_class_name="StoredFile", tablename="stored_file", column_name="holder_kind",
        db_column_name="holder_kind", column_class_name="Varchar", column_class=Varchar,
        params=_params(length=20, default=None, null=True), schema=None)
    manager.add_column(
        table_class_name="StoredFile", tablename="stored_file", column_name="holder_id",
        db_column_name="holder_id", column_class_name="UUID", column_class=UUID,
        params=_params(default=None, null=True, index=True), schema=None)
    manager.add_column(
        table_class_name="CarePlanVersion", tablename="care_plan_version",
        column_name="file_ids", db_column_name="file_ids", column_class_name="JSON",
        column_class=JSON, params=_params(default="[]", null=False), schema=None)
    manager.add_column(
        table_class_name="ProgramModule", tablename="program_module", column_name="file_ids",
        db_column_name="file_ids", column_class_name="JSON", column_class=JSON,
        params=_params(default="[]", null=False), schema=None)
    return manager
