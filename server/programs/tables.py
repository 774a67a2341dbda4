"""Programs: modules on day N after enrolment, enrolments, and each module's delivery (a job)."""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile
from server.forms.tables import Form, FormRequest
from server.tasks.tables import Task


class Program(Table, tablename="program"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    title = Varchar(length=200)
    description = Text(default="")
    archived = Boolean(default=False)
    created_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ProgramModule(Table, tablename="program_module"):
    id = UUID(primary_key=True)
    program = ForeignKey(Program, null=False, index=True)
    day = Integer()  # 0: the day of enrolment
    title = Varchar(length=200)
    body = Text(default="")  # Markdown
    body_html = Text(default="")  # sanitised
    form = ForeignKey(Form, null=True, default=None)
    task_title = Varchar(length=200, null=True, default=None)
    file_ids = JSON(default="[]")
    created_at = Timestamptz(default=TimestamptzNow())


class Enrollment(Table, tablename="program_enrollment"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    program = ForeignKey(Program, null=False, index=True)
    client = ForeignKey(Profile, null=False, index=True)
    status = Varchar(length=10, default="active")  # active | paused | ended
    starts_at = Timestamptz()  # day N is due at starts_at + N days (moved on by pauses)
    paused_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    enrolled_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ModuleDelivery(Table, tablename="module_delivery"):
    """One module for one enrolment: pending until the job delivers it on its day, once."""

    id = UUID(primary_key=True)
    enrollment = ForeignKey(Enrollment, null=False, index=True)
    module = ForeignKey(ProgramModule, null=False, index=True)
    due_at = Timestamptz()
    status = Varchar(length=10, default="pending")  # pending | delivered | cancelled
    delivered_at = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    form_request = ForeignKey(FormRequest, null=True, default=None)
    task = ForeignKey(Task, null=True, default=None)
    event_id = UUID(null=True, default=None)
