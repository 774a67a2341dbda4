"""Threads, their membership windows and the event log."""

from piccolo.columns import JSON, UUID, BigInt, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile


class Thread(Table, tablename="thread"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    title = Varchar(length=200, null=True, default=None)
    kind = Varchar(length=20, default="chat")
    last_seq = BigInt(default=0)
    created_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Member(Table, tablename="thread_member"):
    """One membership window: from the event that added the profile to the one that removed it.

    A profile has at most one open window per thread (a partial unique index in
    migrations/m0004_thread_indexes.py); leaving and rejoining opens a new row.
    """

    id = UUID(primary_key=True)
    thread = ForeignKey(Thread, null=False)
    profile = ForeignKey(Profile, null=False, index=True)
    role = Varchar(length=20, default="member")
    joined_seq = BigInt()
    left_seq = BigInt(null=True, default=None)
    joined_at = Timestamptz(default=TimestamptzNow())
    left_at = Timestamptz(null=True, default=None)
    last_read_seq = BigInt(default=0)


class Event(Table, tablename="thread_event"):
    """The log: `(thread, seq)` is unique and gap-free; `(thread, actor, client_id)` is unique."""

    id = UUID(primary_key=True)
    thread = ForeignKey(Thread, null=False)
    seq = BigInt()
    kind = Varchar(length=40)
    actor = ForeignKey(Profile, null=True, default=None)
    body = Text(null=True, default=None)
    data = JSON(null=True, default=None)
    client_id = Varchar(length=64, null=True, default=None)
    # all | staff: staff-only events never reach a client (socket, history, unread).
    audience = Varchar(length=10, default="all")
    created_at = Timestamptz(default=TimestamptzNow())
    # A message's latest edit or its deletion (then body is NULL); earlier text lives only in
    # MessageRevision.
    edited_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)


class MessageRevision(Table, tablename="message_revision"):
    """The audit of edits and deletions: the text a message had before each one.

    Never returned by the API; it is what an audit (or a legal hold) reads.
    """

    id = UUID(primary_key=True)
    thread = ForeignKey(Thread, null=False)
    message_id = UUID(index=True)
    # The `message.edited` or `message.deleted` event that replaced this text.
    change_event_id = UUID()
    change = Varchar(length=10)  # edited | deleted
    body = Text(null=True, default=None)
    data = JSON(null=True, default=None)
    actor = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
