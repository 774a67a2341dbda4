"""Metric entries, a practice's own metric types, and each client's metric settings."""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile


class MetricType(Table, tablename="metric_type"):
    """A practice's own kind of measurement (the catalogue's are in code: units.CATALOGUE)."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    key = Varchar(length=40)
    name = Varchar(length=100)
    unit = Varchar(length=40)  # canonical UCUM unit
    min_value = DoublePrecision()
    max_value = DoublePrecision()
    code = JSON(null=True, default=None)  # {system, code, display?}
    decimals = Integer(default=1)
    created_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class MetricEntry(Table, tablename="metric_entry"):
    """One measurement, stored in its type's canonical unit; what was entered is kept beside."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False)
    client = ForeignKey(Profile, null=False)
    type_key = Varchar(length=40)
    value = DoublePrecision()
    components = JSON(null=True, default=None)  # {"systolic": 120, "diastolic": 80}
    unit = Varchar(length=40)
    entered_value = JSON()
    entered_unit = Varchar(length=40)
    measured_at = Timestamptz()
    note = Varchar(length=500, null=True, default=None)
    source = Varchar(length=20, default="app")  # app | fhir
    external_id = Varchar(length=300, null=True, default=None)  # an imported Observation's
    logged_by = ForeignKey(Profile, null=True, default=None)
    event_id = UUID(null=True, default=None)  # its metric.logged event
    created_at = Timestamptz(default=TimestamptzNow())


class MetricSettings(Table, tablename="metric_settings"):
    """Per client: eating-disorder mode hides weight and BMI from the client everywhere."""

    id = UUID(primary_key=True)
    client = ForeignKey(Profile, null=False, unique=True)
    eating_disorder_mode = Boolean(default=False)
    updated_by = ForeignKey(Profile, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
