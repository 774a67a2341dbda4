"""Webhooks of a practice and the deliveries of events to them."""

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile


class Webhook(Table, tablename="webhook"):
    """Secrets are stored encrypted with a key derived from SECRET_KEY (they must be used to
    sign, so they cannot be hashed). During a rotation the previous secret signs too, until
    `previous_until`."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    url = Varchar(length=2000)
    events = JSON(default="[]")
    trusted = Boolean(default=False)
    secret = Text()
    previous_secret = Text(null=True, default=None)
    previous_until = Timestamptz(null=True, default=None)
    active = Boolean(default=True)
    created_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookDelivery(Table, tablename="webhook_delivery"):
    """One event for one webhook. `status`: pending -> delivered | failed. Per (webhook,
    thread) only the lowest pending `seq` is tried, so a thread's events arrive in order."""

    id = UUID(primary_key=True)
    webhook = ForeignKey(Webhook, null=False)
    event_id = UUID()
    thread = UUID()
    seq = BigInt()
    kind = Varchar(length=40)
    payload = Text()
    status = Varchar(length=12, default="pending")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    last_status_code = Integer(null=True, default=None)
    last_error = Varchar(length=300, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
