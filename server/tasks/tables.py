"""Tasks a client's care team assigns, and the practice's task templates."""

from piccolo.columns import (
    UUID,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile


class TaskTemplate(Table, tablename="task_template"):
    """A task the practice assigns often: its title, repeat rule and how long until it is due."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    title = Varchar(length=200)
    repeat = Varchar(length=10, null=True, default=None)  # daily | weekly
    due_in_days = Integer(null=True, default=None)
    created_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Task(Table, tablename="task"):
    """One occurrence of a task; a repeating task's occurrences share `series`."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    client = ForeignKey(Profile, null=False, index=True)
    series = UUID(index=True)
    occurrence = Integer(default=1)
    title = Varchar(length=200)
    repeat = Varchar(length=10, null=True, default=None)  # daily | weekly
    due_at = Timestamptz(null=True, default=None)
    status = Varchar(length=12, default="open")  # open | done | cancelled
    note = Text(null=True, default=None)  # the client's, when checking it off
    assigned_by = ForeignKey(Profile, null=True, default=None)
    template = ForeignKey(TaskTemplate, null=True, default=None, on_delete=OnDelete.set_null)
    # The reminder job: due once at remind_at while open; cleared when claimed.
    remind_at = Timestamptz(null=True, default=None, index=True)
    reminded_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
