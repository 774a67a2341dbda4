"""One message to many clients: the broadcast and its recipients, fixed when it is sent."""

from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile


class Broadcast(Table, tablename="broadcast"):
    """`status`: scheduled -> sending -> done, or cancelled. Counts are read from recipients."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    sender = ForeignKey(Profile, null=False, index=True)
    body = Text()
    group_id = UUID(null=True, default=None)
    send_at = Timestamptz()
    status = Varchar(length=12, default="scheduled")
    recipient_count = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class BroadcastRecipient(Table, tablename="broadcast_recipient"):
    """`status`: pending -> sent | failed (`failure` says why) | cancelled."""

    id = UUID(primary_key=True)
    broadcast = ForeignKey(Broadcast, null=False)
    client = ForeignKey(Profile, null=False)
    status = Varchar(length=12, default="pending")
    failure = Varchar(length=40, null=True, default=None)
    event_id = UUID(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
