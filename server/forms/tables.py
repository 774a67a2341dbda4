"""Forms (versioned), requests of them from clients, intake flows and the answers' audit log."""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile
from server.onboarding.tables import ClientGroup


class Form(Table, tablename="form"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    title = Varchar(length=200)
    description = Text(default="")
    code = JSON(null=True, default=None)  # e.g. LOINC 44249-1 for the PHQ-9
    score_code = JSON(null=True, default=None)  # e.g. LOINC 44261-6, the total score
    current_version = Integer(default=1)
    archived = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class FormVersion(Table, tablename="form_version"):
    """A form's questions as they were at one version; requests point at one, so an edit
    never changes what a client already answered."""

    id = UUID(primary_key=True)
    form = ForeignKey(Form, null=False, index=True)
    version = Integer()
    definition = JSON()
    # The form's own FHIRPath variables (SDC `variable` on the Questionnaire): [{name,
    # expression}], or null (none; every version before migration m0050).
    variables = JSON(null=True, default=None)
    created_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class IntakeFlow(Table, tablename="intake_flow"):
    """Forms requested, in order, when a client joins a group (or any new client: no group)."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    client_group = ForeignKey(ClientGroup, null=True, default=None)
    form_ids = JSON(default="[]")
    created_at = Timestamptz(default=TimestamptzNow())


class IntakeFlowRun(Table, tablename="intake_flow_run"):
    """That a flow ran for a client: unique, so it runs once."""

    id = UUID(primary_key=True)
    flow = ForeignKey(IntakeFlow, null=False)
    client = ForeignKey(Profile, null=False)
    created_at = Timestamptz(default=TimestamptzNow())


class FormRequest(Table, tablename="form_request"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    form = ForeignKey(Form, null=False, index=True)
    form_version = ForeignKey(FormVersion, null=False)
    client = ForeignKey(Profile, null=False, index=True)
    requested_by = ForeignKey(Profile, null=True, default=None)
    intake_flow = ForeignKey(IntakeFlow, null=True, default=None)
    status = Varchar(length=20, default="open")  # open | completed | cancelled
    due_at = Timestamptz(null=True, default=None)
    draft = JSON(null=True, default=None)
    answers = JSON(null=True, default=None)
    score = Real(null=True, default=None)
    reminder_step = Integer(default=0)
    next_reminder_at = Timestamptz(null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)


class AuditEntry(Table, tablename="audit_entry"):
    """Who looked at or exported which answers, and when; never the answers themselves."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    actor = ForeignKey(Profile, null=True, default=None)
    action = Varchar(length=40)
    form_request = ForeignKey(FormRequest, null=True, default=None, index=True)
    client = ForeignKey(Profile, null=True, default=None)
    # A client document's download (files domain); no foreign key across domains.
    document_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
