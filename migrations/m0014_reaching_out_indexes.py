"""Reaching people away from the app: uniqueness and the jobs' scans."""

from server.db import index_migration

ID = "2026-11-30T12:14:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Scheduled messages, broadcasts and webhook deliveries: uniqueness and due scans"

INDEXES = {
    "scheduled_message_client_id": (
        "CREATE UNIQUE INDEX scheduled_message_client_id ON scheduled_message (author, client_id)"
    ),
    "scheduled_message_due": (
        "CREATE INDEX scheduled_message_due ON scheduled_message (status, send_at)"
    ),
    "broadcast_due": "CREATE INDEX broadcast_due ON broadcast (status, send_at)",
    "broadcast_recipient_once": (
        "CREATE UNIQUE INDEX broadcast_recipient_once ON broadcast_recipient (broadcast, client)"
    ),
    "broadcast_recipient_status": (
        "CREATE INDEX broadcast_recipient_status ON broadcast_recipient (broadcast, status)"
    ),
    "webhook_delivery_due": (
        "CREATE INDEX webhook_delivery_due ON webhook_delivery (status, next_attempt_at)"
    ),
    "webhook_delivery_order": (
        "CREATE INDEX webhook_delivery_order ON webhook_delivery (webhook, thread, seq)"
    ),
    "webhook_delivery_log": (
        "CREATE INDEX webhook_delivery_log ON webhook_delivery (webhook, created_at)"
    ),
}

forwards = index_migration(ID, DESCRIPTION, INDEXES)
