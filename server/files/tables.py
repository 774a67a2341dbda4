"""Uploaded files, the stored blobs behind them, each practice's usage and client documents."""

from piccolo.columns import UUID, BigInt, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile
from server.threads.tables import Thread


class FileBlob(Table, tablename="file_blob"):
    """Bytes in storage, named by their SHA-256; `refs` counts the files that use them.

    Uploads take a reference (inserting or bumping this row) before they write the bytes, and
    the cleanup job deletes the bytes while it holds this row, so a blob is never removed under
    an upload of the same content.
    """

    id = UUID(primary_key=True)
    sha256 = Varchar(length=64, unique=True)
    size = BigInt()
    refs = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class StoredFile(Table, tablename="stored_file"):
    """One upload as its uploader named it; who may read it follows what holds it."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    uploader = ForeignKey(Profile, null=False, index=True)
    sha256 = Varchar(length=64, index=True)
    name = Varchar(length=255)
    content_type = Varchar(length=100)
    size = BigInt()
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    thumbnail_sha256 = Varchar(length=64, null=True, default=None)
    thumbnail_type = Varchar(length=40, null=True, default=None)
    # What holds it: a message event (thread + event id) or a client document. An upload that
    # nothing holds after UNATTACHED_FILE_HOURS is removed by the cleanup job.
    thread = ForeignKey(Thread, null=True, default=None, index=True)
    event_id = UUID(null=True, default=None, index=True)
    attached_at = Timestamptz(null=True, default=None)
    # Or the answers of a form request (forms domain; no foreign key across domains): read by
    # the client who uploaded it and the care team once the response is completed.
    form_request_id = UUID(null=True, default=None, index=True)
    # Set when the message holding it is deleted: no one reads it any more (the audit keeps it).
    deleted_at = Timestamptz(null=True, default=None)
    # Or held by another domain's record (a care plan, a program module): that domain decides
    # who reads it (service.register_holder).
    holder_kind = Varchar(length=20, null=True, default=None)
    holder_id = UUID(null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class FileUsage(Table, tablename="file_usage"):
    """Bytes a practice has stored, moved by compare-and-set against PRACTICE_QUOTA_BYTES."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, unique=True)
    bytes = BigInt(default=0)


class ClientDocument(Table, tablename="client_document"):
    """A file on a client's profile: private to the care team, or shared with the client."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    client = ForeignKey(Profile, null=False, index=True)
    file = ForeignKey(StoredFile, null=False, unique=True)
    title = Varchar(length=200)
    shared_with_client = Boolean(default=False)
    uploaded_by = ForeignKey(Profile, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
