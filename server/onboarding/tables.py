"""Clients, care teams, groups, tags and the practice's onboarding settings."""

from piccolo.columns import UUID, Boolean, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from server.accounts.tables import Organization, Profile
from server.threads.tables import Thread


class ClientGroup(Table, tablename="client_group"):
    """A care pathway; a client is in at most one. `prospective` groups are the simple CRM."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    name = Varchar(length=100)
    kind = Varchar(length=20, default="care")
    # The shareable sign-up link's code: public by design (it is meant to be shared), rotatable.
    invite_code = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Tag(Table, tablename="tag"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    name = Varchar(length=60)
    created_at = Timestamptz(default=TimestamptzNow())


class Client(Table, tablename="client"):
    """What a practice knows about a client profile, beside the profile itself."""

    id = UUID(primary_key=True)  # the client's profile id
    organization = ForeignKey(Organization, null=False, index=True)
    phone = Varchar(length=40, null=True, default=None)
    date_of_birth = Date(null=True, default=None)
    timezone = Varchar(length=64, null=True, default=None)
    primary_provider = ForeignKey(Profile, null=False, index=True)
    client_group = ForeignKey(ClientGroup, null=True, default=None, index=True)
    care_thread = ForeignKey(Thread, null=True, default=None)
    # none (no email) | not_sent | sent | accepted
    invite_state = Varchar(length=20, default="none")
    created_by = ForeignKey(Profile, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class CareTeamMember(Table, tablename="care_team_member"):
    """The client's team besides the primary provider (who is on Client)."""

    id = UUID(primary_key=True)
    client = ForeignKey(Client, null=False, index=True)
    provider = ForeignKey(Profile, null=False, index=True)


class ClientTag(Table, tablename="client_tag"):
    id = UUID(primary_key=True)
    client = ForeignKey(Client, null=False, index=True)
    tag = ForeignKey(Tag, null=False, index=True)


class PracticeSettings(Table, tablename="practice_settings"):
    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, unique=True)
    welcome_enabled = Boolean(default=False)
    welcome_text = Text(default="")
    # How a client who signs up through a group link gets a primary provider.
    assignment_mode = Varchar(length=20, default="round_robin")
    default_provider = ForeignKey(Profile, null=True, default=None)
    last_assigned_provider = ForeignKey(Profile, null=True, default=None)
