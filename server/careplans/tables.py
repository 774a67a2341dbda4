"""Care plans (every edit a new version, the earlier ones kept) and the practice's templates."""

from piccolo.columns import JSON, UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile


class CarePlan(Table, tablename="care_plan"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    client = ForeignKey(Profile, null=False, index=True)
    title = Varchar(length=200)
    current_version = Integer(default=1)
    shared_version = Integer(null=True, default=None)  # what the client reads; None: a draft
    shared_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CarePlanVersion(Table, tablename="care_plan_version"):
    """The plan as it was at one version: sections (Markdown and its sanitised HTML), links."""

    id = UUID(primary_key=True)
    care_plan = ForeignKey(CarePlan, null=False, index=True)
    version = Integer()
    title = Varchar(length=200)
    sections = JSON(default="[]")
    goal_ids = JSON(default="[]")
    task_ids = JSON(default="[]")
    file_ids = JSON(default="[]")
    shared_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class CarePlanTemplate(Table, tablename="care_plan_template"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    title = Varchar(length=200)
    sections = JSON(default="[]")
    created_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
