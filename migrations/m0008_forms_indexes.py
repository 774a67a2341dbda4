"""Forms: one row per (form, version), one run per (flow, client), one flow per group."""

from server.db import index_migration

ID = "2026-11-26T04:50:34:000000"
VERSION = "1.38.0"
DESCRIPTION = "Forms uniqueness and the reminder scan"

INDEXES = {
    "form_version_number": (
        "CREATE UNIQUE INDEX form_version_number ON form_version (form, version)"
    ),
    "intake_flow_run_once": (
        "CREATE UNIQUE INDEX intake_flow_run_once ON intake_flow_run (flow, client)"
    ),
    "intake_flow_group": (
        "CREATE UNIQUE INDEX intake_flow_group ON intake_flow (organization, client_group)"
    ),
    "form_request_open": (
        "CREATE INDEX form_request_open ON form_request (status, next_reminder_at)"
    ),
}

forwards = index_migration(ID, DESCRIPTION, INDEXES)
