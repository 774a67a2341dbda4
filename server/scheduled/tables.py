"""Messages written now and sent later: a row with a due time until the job sends it."""

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile
from server.threads.tables import Thread


class ScheduledMessage(Table, tablename="scheduled_message"):
    """`status`: scheduled -> sent | cancelled | failed. The job's compare-and-set on
    `status = 'scheduled'` happens in the transaction that appends the message, so a message
    is sent once whatever the number of processes; `(author, client_id)` is unique."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    thread = ForeignKey(Thread, null=False)
    author = ForeignKey(Profile, null=False, index=True)
    client_id = Varchar(length=64)
    body = Text()
    send_at = Timestamptz()
    status = Varchar(length=12, default="scheduled")
    failure = Varchar(length=40, null=True, default=None)
    event_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
