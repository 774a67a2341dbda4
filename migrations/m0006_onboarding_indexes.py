"""Uniqueness the onboarding tables rely on (composite, so raw SQL on both engines)."""

from server.db import index_migration

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

forwards = index_migration(ID, DESCRIPTION, INDEXES)
