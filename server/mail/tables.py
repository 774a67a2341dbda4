"""The email outbox: a message is stored first and delivered by the background sender."""

from piccolo.columns import JSON, UUID, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class OutboxEmail(Table, tablename="outbox_email"):
    id = UUID(primary_key=True)
    to_address = Varchar(length=320)
    subject = Varchar(length=300)
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    attempts = Integer(default=0)
    sent_at = Timestamptz(null=True, default=None, index=True)
    last_error = Text(null=True, default=None)
    # Extra headers (List-Unsubscribe, ...) as a JSON object, or null.
    headers = JSON(null=True, default=None)
    # [{filename, content_type, content}] (text parts, e.g. an .ics); dropped once delivered.
    attachments = JSON(null=True, default=None)
