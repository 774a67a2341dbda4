"""Indexes Piccolo's auto migrations cannot express portably (raw SQL runs before add_table)."""

from server.db import index_migration

ID = "2026-11-26T04:02:29:000000"
VERSION = "1.38.0"
DESCRIPTION = "One profile per login in each practice"

INDEXES = {
    # A unique index rather than a constraint: SQLite cannot ALTER TABLE ADD CONSTRAINT.
    "profile_one_per_practice": (
        "CREATE UNIQUE INDEX profile_one_per_practice ON profile (organization, account)"
    ),
}

forwards = index_migration(ID, DESCRIPTION, INDEXES)
