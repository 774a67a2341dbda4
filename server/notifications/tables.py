"""Per-person notification settings and the state of the unread-messages email."""

from piccolo.columns import UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table

from server.accounts.tables import Profile


class NotificationSetting(Table, tablename="notification_setting"):
    """One row per profile, made on first use. `notified_at` is when the last unread email
    was queued; `version` is the compare-and-set that makes it go once across processes."""

    id = UUID(primary_key=True)
    profile = ForeignKey(Profile, null=False, unique=True)
    email = Varchar(length=10, default="unread")
    notified_at = Timestamptz(null=True, default=None)
    version = Integer(default=0)
