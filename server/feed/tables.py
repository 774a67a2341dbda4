"""The provider's newsfeed: one row per client activity, written in the activity's transaction.

`position` (microseconds since the epoch of the event's time) and `id` order the feed; the
indexes (migration m0021) make every page one index range scan.
"""

from piccolo.columns import UUID, BigInt, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile


class FeedItem(Table, tablename="feed_item"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False)
    client = ForeignKey(Profile, null=False)
    category = Varchar(length=20)  # metric | journal | form | task | program
    event = UUID()  # the thread event (thread_event.id)
    actor = UUID(null=True, default=None)
    position = BigInt()
    created_at = Timestamptz(default=TimestamptzNow())


class FeedRead(Table, tablename="feed_read"):
    """How far a team member has read their feed (everything at or before is read)."""

    id = UUID(primary_key=True)
    profile = ForeignKey(Profile, null=False, unique=True)
    position = BigInt(default=0)
    item = UUID(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
