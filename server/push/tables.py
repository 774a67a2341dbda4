"""Browsers' Web Push subscriptions (the endpoint and the keys to encrypt for)."""

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Profile


class PushSubscription(Table, tablename="push_subscription"):
    id = UUID(primary_key=True)
    profile = ForeignKey(Profile, null=False, index=True)
    endpoint = Text(unique=True)
    p256dh = Varchar(length=200)
    auth = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())
