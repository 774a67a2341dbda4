"""Organizations, login identities, per-practice profiles, tokens and invitations."""

from piccolo.columns import UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Organization(Table, tablename="organization"):
    id = UUID(primary_key=True)
    name = Varchar(length=200)
    created_at = Timestamptz(default=TimestamptzNow())


class Account(Table, tablename="account"):
    """A login: one email, one password, any number of profiles."""

    id = UUID(primary_key=True)
    email = Varchar(length=320, unique=True)
    password_hash = Varchar(length=255, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Profile(Table, tablename="profile"):
    """A person as one practice knows them; the API calls it a `user`."""

    id = UUID(primary_key=True)
    organization = ForeignKey(Organization, null=False, index=True)
    account = ForeignKey(Account, null=True, default=None, index=True)
    name = Varchar(length=200)
    role = Varchar(length=20)
    status = Varchar(length=20, default="active")
    created_at = Timestamptz(default=TimestamptzNow())
    # Their photo: the SHA-256 of the square image in file storage (server/files/avatars.py);
    # None shows initials.
    avatar = Varchar(length=64, null=True, default=None)
    # Unique (organization, account): an index made in migrations/m0001_accounts.py.


class AuthToken(Table, tablename="auth_token"):
    """Session and bot tokens; only the SHA-256 of the token is stored."""

    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    kind = Varchar(length=10)
    account = ForeignKey(Account, null=True, default=None, index=True)
    profile = ForeignKey(Profile, null=False, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    last_used_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class Invitation(Table, tablename="invitation"):
    """A single-use link that lets a profile's person set (or confirm) their password."""

    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    profile = ForeignKey(Profile, null=False, index=True)
    account = ForeignKey(Account, null=False, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class PasswordReset(Table, tablename="password_reset"):
    """A single-use, expiring link to set a new password; only its hash is stored."""

    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(Account, null=False, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
