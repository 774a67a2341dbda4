"""Care between visits: what makes its jobs and rules hold (each once) and its scans cheap."""

from server.db import index_migration

ID = "2026-11-30T12:18:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Care between visits: uniqueness and the jobs' scans"

INDEXES = {
    "task_reminder_due": "CREATE INDEX task_reminder_due ON task (status, remind_at)",
    "task_client_status": "CREATE INDEX task_client_status ON task (client, status, due_at)",
    "goal_period_once": (
        "CREATE UNIQUE INDEX goal_period_once ON goal_period (goal, starts_at)"
    ),
    "goal_check_due": "CREATE INDEX goal_check_due ON goal (status, next_check_at)",
    "goal_entry_at": "CREATE INDEX goal_entry_at ON goal_entry (goal, at)",
    "care_plan_version_number": (
        "CREATE UNIQUE INDEX care_plan_version_number ON care_plan_version (care_plan, version)"
    ),
    "module_delivery_once": (
        "CREATE UNIQUE INDEX module_delivery_once ON module_delivery (enrollment, module)"
    ),
    "module_delivery_due": (
        "CREATE INDEX module_delivery_due ON module_delivery (status, due_at)"
    ),
    "enrollment_current": (
        "CREATE UNIQUE INDEX enrollment_current ON program_enrollment (program, client) "
        "WHERE status <> 'ended'"
    ),
}

forwards = index_migration(ID, DESCRIPTION, INDEXES)
