"""Journal entries of a client, the team's comments and reactions, and providers' stars."""

from piccolo.columns import JSON, UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile


class JournalEntry(Table, tablename="journal_entry"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False)
    client = ForeignKey(Profile, null=False)
    kind = Varchar(length=20)  # food | mood | activity | note
    text = Text(default="")
    file_ids = JSON(default="[]")
    occurred_at = Timestamptz()
    event_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class JournalComment(Table, tablename="journal_comment"):
    id = UUID(primary_key=True)
    entry = ForeignKey(JournalEntry, null=False, index=True)
    author = ForeignKey(Profile, null=False)
    text = Text()
    event_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class JournalReaction(Table, tablename="journal_reaction"):
    """One emoji of one person on one entry (unique together)."""

    id = UUID(primary_key=True)
    entry = ForeignKey(JournalEntry, null=False, index=True)
    author = ForeignKey(Profile, null=False)
    emoji = Varchar(length=16)
    created_at = Timestamptz(default=TimestamptzNow())


class JournalStar(Table, tablename="journal_star"):
    """A provider's private mark on an entry to come back to."""

    id = UUID(primary_key=True)
    entry = ForeignKey(JournalEntry, null=False)
    profile = ForeignKey(Profile, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
