"""Metrics, journals and the feed: uniqueness, and the indexes their reads range over."""

from server.db import index_migration

ID = "2026-11-30T12:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes of metrics, journals and the feed"

INDEXES = {
    "metric_type_key": "CREATE UNIQUE INDEX metric_type_key ON metric_type (organization, key)",
    "metric_entry_series": (
        "CREATE INDEX metric_entry_series ON metric_entry (client, type_key, measured_at)"
    ),
    "metric_entry_time": "CREATE INDEX metric_entry_time ON metric_entry (client, measured_at)",
    "metric_entry_external": (
        "CREATE UNIQUE INDEX metric_entry_external ON metric_entry (client, external_id)"
    ),
    "journal_entry_time": (
        "CREATE INDEX journal_entry_time ON journal_entry (client, occurred_at)"
    ),
    "journal_reaction_once": (
        "CREATE UNIQUE INDEX journal_reaction_once ON journal_reaction (entry, author, emoji)"
    ),
    "journal_star_once": "CREATE UNIQUE INDEX journal_star_once ON journal_star (entry, profile)",
    "journal_star_mine": "CREATE INDEX journal_star_mine ON journal_star (profile, created_at)",
    # A feed page is a range of one of these, newest first.
    "feed_item_practice": (
        "CREATE INDEX feed_item_practice ON feed_item (organization, position, id)"
    ),
    "feed_item_client": "CREATE INDEX feed_item_client ON feed_item (client, position, id)",
}

forwards = index_migration(ID, DESCRIPTION, INDEXES)
