"""One practice-default intake flow: NULL groups are never duplicates to a plain unique index."""

from server.db import index_migration

ID = "2026-11-26T04:50:35:000000"
VERSION = "1.38.0"
DESCRIPTION = "At most one default intake flow per practice"

INDEXES = {
    "intake_flow_default": (
        "CREATE UNIQUE INDEX intake_flow_default ON intake_flow (organization) "
        "WHERE client_group IS NULL"
    ),
}

forwards = index_migration(ID, DESCRIPTION, INDEXES)
