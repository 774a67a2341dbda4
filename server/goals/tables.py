"""Goals: a title and optionally a metric, a target and a period; progress entries (check-ins
and metric values) and each period's outcome (met or missed, once)."""

from piccolo.columns import UUID, ForeignKey, Real, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile


class Goal(Table, tablename="goal"):
    """"Walk 8,000 steps a day": a title, and optionally a metric, a target and a period."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    client = ForeignKey(Profile, null=False, index=True)
    title = Varchar(length=200)
    metric = Varchar(length=60, null=True, default=None)  # a metrics catalogue key
    target = Real(null=True, default=None)
    period = Varchar(length=10, null=True, default=None)  # day | week
    direction = Varchar(length=10, default="at_least")  # at_least | at_most
    status = Varchar(length=12, default="active")  # active | archived
    # The period-end job: when the current period closes (met or missed is then decided).
    next_check_at = Timestamptz(null=True, default=None, index=True)
    created_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class GoalEntry(Table, tablename="goal_entry"):
    """Progress towards a goal: a check-in, or a value from the client's metrics."""

    id = UUID(primary_key=True)
    goal = ForeignKey(Goal, null=False, index=True)
    value = Real(null=True, default=None)  # None: "done once" (counts 1)
    note = Text(null=True, default=None)
    source = Varchar(length=12, default="check_in")  # check_in | metric
    at = Timestamptz(default=TimestamptzNow())
    recorded_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class GoalPeriod(Table, tablename="goal_period"):
    """A period's outcome; unique per (goal, starts_at), so goal.met or goal.missed is once."""

    id = UUID(primary_key=True)
    goal = ForeignKey(Goal, null=False, index=True)
    starts_at = Timestamptz()
    outcome = Varchar(length=10)  # met | missed
    value = Real(null=True, default=None)
    decided_at = Timestamptz(default=TimestamptzNow())
