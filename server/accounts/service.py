"""Practices, logins, sessions, invitations and bots: every rule about who may act lives here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.engine.postgres import PostgresEngine

from server import bus, uow
from server.accounts.avatar import avatar_url
from server.accounts.tables import (
    Account,
    AuthToken,
    Invitation,
    Organization,
    PasswordReset,
    Profile,
)
from server.db import engine, is_unique_violation, write_transaction
from server.errors import Conflict, Forbidden, Gone, InvalidCredentials, InvalidInput, NotFound
from server.identity import (  # noqa: F401  (re-exported)
    ADMIN_ROLES,
    INVITABLE_ROLES,
    PROVIDER_ROLES,
    STAFF_ROLES,
    Identity,
)
from server.mail import service as mail
from server.security import Passwords, hash_token, new_token
from server.settings import Settings
from server.throttle import LoginThrottle

SESSION = "session"
BOT = "bot"
TOUCH_EVERY = timedelta(seconds=60)
MIN_PASSWORD = 8

# Python's whitespace (str.isspace), spelled out so the same pattern means the same in the
# OpenAPI schema (ECMA regex) as here; control characters are refused as well.
WHITESPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
_EMAIL_CHAR = f"[^@{WHITESPACE}\\x00-\\x1f\\x7f-\\x9f]+"
EMAIL_PATTERN = f"^{_EMAIL_CHAR}@{_EMAIL_CHAR}\\.{_EMAIL_CHAR}$"
_EMAIL = re.compile(EMAIL_PATTERN)


def now() -> datetime:
    return datetime.now(UTC)


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput("That is not a valid email address.", extra={"field": "email"})
    return email


def clean_name(name: str, field: str = "name") -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("A name is required.", extra={"field": field})
    return name


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"A password needs at least {MIN_PASSWORD} characters.", extra={"field": "password"}
        )


class UserView(msgspec.Struct):
    """A person of a practice (docs/api.md §3 **user**): the one view for HTTP, sockets, bots."""

    id: str
    name: str
    role: str  # owner, admin, provider, staff, client or bot
    organization_id: str
    status: str  # active, invited; removed only in the answer of DELETE /team/{id}
    email: str | None
    avatar_url: str | None  # their photo (server/accounts/avatar.py), None: initials


class ProfileView(UserView):
    """A user plus the name of its practice (`profiles` of POST /sessions and GET /me)."""

    organization_name: str


class OrganizationView(msgspec.Struct):
    id: str
    name: str
    created_at: datetime


class MeView(msgspec.Struct):
    user: UserView
    organization: OrganizationView
    role: str
    profiles: list[ProfileView]


class InvitationPreview(msgspec.Struct):
    """What an invitation link leads to (GET /invitations/{token})."""

    organization_name: str | None
    name: str
    email: str | None
    role: str
    existing_login: bool


def _user_fields(profile: dict[str, Any], email: str | None) -> dict[str, Any]:
    return {
        "id": str(profile["id"]),
        "name": profile["name"],
        "role": profile["role"],
        "organization_id": str(profile["organization"]),
        "status": profile["status"],
        "email": email,
        "avatar_url": avatar_url(profile["id"], profile.get("avatar")),
    }


def user_view(profile: dict[str, Any], email: str | None = None) -> UserView:
    return UserView(**_user_fields(profile, email))


def profile_view(profile: dict[str, Any], email: str | None) -> ProfileView:
    """`profile` with its practice's name as `organization_name` (see _active_profiles)."""
    return ProfileView(**_user_fields(profile, email),
                       organization_name=profile["organization_name"])


async def set_avatar_in_transaction(profile_id: uuid.UUID, avatar: str | None) -> str | None:
    """Inside the caller's write transaction: the person's photo becomes `avatar` (a blob's
    SHA-256, or None); answers the one it replaces, for its blob reference to be dropped."""
    query = Profile.select(Profile.avatar).where(Profile.id == profile_id)
    if isinstance(engine(), PostgresEngine):  # two changes at once drop the old photo once
        query = query.lock_rows()
    rows = await query
    if not rows:
        raise NotFound("No such user.")
    await Profile.update({Profile.avatar: avatar}).where(Profile.id == profile_id)
    old: str | None = rows[0]["avatar"]
    return old


def organization_view(org: dict[str, Any]) -> OrganizationView:
    return OrganizationView(id=str(org["id"]), name=org["name"], created_at=org["created_at"])


async def _issue_token(
    settings: Settings, profile_id: uuid.UUID, account_id: uuid.UUID | None, kind: str
) -> str:
    token = new_token()
    lifetime = (
        settings.bot_token_lifetime_seconds if kind == BOT else settings.session_lifetime_seconds
    )
    await AuthToken.insert(
        AuthToken(
            token_hash=hash_token(token),
            kind=kind,
            account=account_id,
            profile=profile_id,
            expires_at=now() + timedelta(seconds=lifetime),
            last_used_at=now(),
        )
    )
    return token


async def login_for_email(email: str, password_hash: str | None = None) -> uuid.UUID:
    """The login of an email, created (without a password unless one is given) when new.
    For other domains, inside their transaction: onboarding adds clients this way."""
    account = await account_by_email(email)
    if account is not None:
        return uuid.UUID(str(account["id"]))
    row = Account(email=email, password_hash=password_hash, created_at=now())
    await row.save()
    return uuid.UUID(str(row.id))


async def create_login(email: str, password_hash: str) -> uuid.UUID:
    """A new login with a password (a sign-up); a taken email is a unique violation."""
    row = Account(email=email, password_hash=password_hash, created_at=now())
    await row.save()
    return uuid.UUID(str(row.id))


async def create_profile(
    organization_id: uuid.UUID, account_id: uuid.UUID | None, name: str, role: str, *,
    active: bool,
) -> uuid.UUID:
    """A person in a practice (a user); `invited` until they set a password."""
    profile = Profile(organization=organization_id, account=account_id, name=name, role=role,
                      status="active" if active else "invited", created_at=now())
    await profile.save()
    return uuid.UUID(str(profile.id))


async def rename_profile(profile_id: uuid.UUID, name: str) -> None:
    await Profile.update({Profile.name: name}).where(Profile.id == profile_id)


async def move_profile_to_login(profile_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """The profile now signs in with another login (a changed email): it is invited there
    again and every earlier invitation link dies."""
    await Profile.update({Profile.account: account_id, Profile.status: "invited"}).where(
        Profile.id == profile_id)
    await Invitation.update({Invitation.revoked_at: now()}).where(
        Invitation.profile == profile_id, Invitation.used_at.is_null(),
        Invitation.revoked_at.is_null(),
    )


async def account_by_email(email: str) -> dict[str, Any] | None:
    return await Account.select().where(Account.email == email).first()


async def issue_session(
    settings: Settings, profile_id: uuid.UUID, account_id: uuid.UUID
) -> str:
    """A session token for a profile; call inside the transaction that made it."""
    return await _issue_token(settings, profile_id, account_id, SESSION)


# --- practices and logins -------------------------------------------------------------------


async def create_organization(
    settings: Settings, passwords: Passwords, *, name: str, owner_name: str, email: str,
    password: str,
) -> tuple[OrganizationView, UserView, str]:
    """A new practice and its first owner, signed in."""
    name = clean_name(name, "name")
    owner_name = clean_name(owner_name, "owner.name")
    email = normalize_email(email)
    check_password(password)
    if await account_by_email(email):
        raise Conflict(
            "This email already has a Carethread login (perhaps as a client of a practice). "
            "Use another email for your practice, or log in with it.",
            code="email_taken",
        )
    password_hash = await passwords.hash(password)
    try:
        return await _insert_organization(settings, name, owner_name, email, password_hash)
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("An account with this email already exists.",
                           code="email_taken") from exc
        raise


async def _insert_organization(
    settings: Settings, name: str, owner_name: str, email: str, password_hash: str
) -> tuple[OrganizationView, UserView, str]:
    async with write_transaction():
        if await account_by_email(email):
            raise Conflict("An account with this email already exists.", code="email_taken")
        org = Organization(name=name, created_at=now())
        await org.save()
        account = Account(email=email, password_hash=password_hash, created_at=now())
        await account.save()
        profile = Profile(
            organization=org.id, account=account.id, name=owner_name, role="owner",
            status="active", created_at=now(),
        )
        await profile.save()
        token = await _issue_token(settings, profile.id, account.id, SESSION)
    org_row = {"id": org.id, "name": org.name, "created_at": org.created_at}
    return organization_view(org_row), user_view(profile.to_dict(), email), token


async def login(
    settings: Settings, passwords: Passwords, throttle: LoginThrottle, *, email: str,
    password: str, address: str, profile_id: uuid.UUID | None = None,
) -> tuple[str, UserView, list[ProfileView]]:
    """Unknown email and wrong password are one answer, at the same cost."""
    email = email.strip().lower()
    await throttle.check(email, address)
    account = await account_by_email(email)
    ok = await passwords.verify(account["password_hash"] if account else None, password)
    profiles = await _active_profiles(account["id"]) if (ok and account) else []
    if not ok or not account or not profiles:
        await throttle.failed(email, address)
        raise InvalidCredentials("Email or password is incorrect.")
    await throttle.succeeded(email)
    if passwords.needs_rehash(account["password_hash"]):
        new_hash = await passwords.hash(password)
        await Account.update({Account.password_hash: new_hash}).where(Account.id == account["id"])
    chosen = profiles[0]
    if profile_id is not None:
        matching = [p for p in profiles if p["id"] == profile_id]
        if not matching:
            raise NotFound("No such profile for this login.")
        chosen = matching[0]
    token = await _issue_token(settings, chosen["id"], account["id"], SESSION)
    views = [profile_view(p, email) for p in profiles]
    return token, user_view(chosen, email), views


async def _active_profiles(account_id: uuid.UUID) -> list[dict[str, Any]]:
    return await (
        Profile.select(
            *Profile.all_columns(),
            Profile.organization.name.as_alias("organization_name"),
        )
        .where(Profile.account == account_id, Profile.status == "active")
        .order_by(Profile.created_at)
    )


# Plain SQL: every HTTP request and every socket (re)connect runs it, and building this
# join with the query builder cost more CPU than the query itself (py-spy, reconnect storm).
_TOKEN_SQL = (
    "SELECT t.id AS id, t.kind AS kind, t.account AS account, t.expires_at AS expires_at, "
    "t.last_used_at AS last_used_at, t.revoked_at AS revoked_at, p.id AS user_id, "
    "p.organization AS organization_id, p.role AS role, p.name AS name, "
    "p.status AS status FROM auth_token t JOIN profile p ON p.id = t.profile "
    "WHERE t.token_hash = {}"
)


async def authenticate(settings: Settings, token: str) -> Identity | None:
    """The one check of a token, for HTTP and WebSocket alike."""
    if not token or len(token) > 200:
        return None
    rows = await AuthToken.raw(_TOKEN_SQL, hash_token(token))
    row = rows[0] if rows else None
    current = now()
    if row is None or not _alive(settings, row, row["kind"], current):
        return None
    if current - row["last_used_at"] >= TOUCH_EVERY:
        await AuthToken.update({AuthToken.last_used_at: current}).where(AuthToken.id == row["id"])
    return Identity(
        token_id=row["id"],
        kind=row["kind"],
        user_id=row["user_id"],
        organization_id=row["organization_id"],
        account_id=row["account"],
        role=row["role"],
        name=row["name"],
        expires_at=row["expires_at"],
    )


def _alive(settings: Settings, row: dict[str, Any], kind: str, current: datetime) -> bool:
    """Not revoked, not expired, not idle too long (sessions), and the profile still active."""
    if row["revoked_at"] is not None or row["status"] != "active":
        return False
    if row["expires_at"] <= current:
        return False
    idle = timedelta(seconds=settings.session_idle_timeout_seconds)
    return not (kind == SESSION and row["last_used_at"] + idle <= current)


SESSION_CHECK_BATCH = 10_000  # ids per statement: under both engines' bound-parameter limits


async def ended_sessions(settings: Settings, identities: Collection[Identity]) -> set[uuid.UUID]:
    """The tokens among these that may no longer hold a socket open; the others count as used.

    For a whole process's sockets at once: one SELECT for every token (per 10,000), and one
    UPDATE for those whose last use is older than TOUCH_EVERY, so idle sockets cost a constant
    number of statements per check instead of one write each.
    """
    kinds = {identity.token_id: identity.kind for identity in identities}
    if not kinds:
        return set()
    ids = list(kinds)
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), SESSION_CHECK_BATCH):
        rows += await AuthToken.select(
            AuthToken.id,
            AuthToken.revoked_at,
            AuthToken.expires_at,
            AuthToken.last_used_at,
            AuthToken.profile.status.as_alias("status"),
        ).where(AuthToken.id.is_in(ids[start:start + SESSION_CHECK_BATCH]))
    current = now()
    live = {row["id"]: row for row in rows if _alive(settings, row, kinds[row["id"]], current)}
    stale = [token_id for token_id, row in live.items()
             if current - row["last_used_at"] >= TOUCH_EVERY]
    if stale:
        async with write_transaction():  # queued with the other writers on SQLite
            for start in range(0, len(stale), SESSION_CHECK_BATCH):
                await AuthToken.update({AuthToken.last_used_at: current}).where(
                    AuthToken.id.is_in(stale[start:start + SESSION_CHECK_BATCH]))
    return set(kinds) - set(live)


async def logout(identity: Identity) -> None:
    """Revoke the token; its open sockets close as soon as the bus tells them."""
    await AuthToken.update({AuthToken.revoked_at: now()}).where(
        AuthToken.id == identity.token_id, AuthToken.revoked_at.is_null()
    )
    end_sockets(identity.user_id, identity.token_id)


def end_sockets(user_id: uuid.UUID, token_id: uuid.UUID | None = None) -> None:
    """Close the sockets of one token, or (None) every socket of the user, in every process:
    after commit inside a write transaction, at once outside one."""
    work = uow.current_or_none()
    if work is not None:
        work.close_sockets(user_id, token_id)
    else:
        bus.current().publish(bus.encode_close(token_id), [user_id])


async def me(identity: Identity) -> MeView:
    profile = await Profile.select().where(Profile.id == identity.user_id).first()
    org = await Organization.select().where(Organization.id == identity.organization_id).first()
    if profile is None or org is None:
        raise NotFound()
    email = None
    if profile["account"] is not None:
        account = await Account.select(Account.email).where(
            Account.id == profile["account"]).first()
        email = account["email"] if account else None
    return MeView(
        user=user_view(profile, email),
        organization=organization_view(org),
        role=profile["role"],
        profiles=await profiles_of(identity),
    )


# --- invitations ----------------------------------------------------------------------------


def invitation_link(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/accept-invite?token={token}"


async def send_invitation(
    settings: Settings, *, profile_id: uuid.UUID, account_id: uuid.UUID, email: str,
    organization_name: str, inviter_name: str, role: str,
) -> None:
    """Kill every earlier link of this person, then mail a fresh one. Call inside a transaction."""
    await Invitation.update({Invitation.revoked_at: now()}).where(
        Invitation.profile == profile_id,
        Invitation.used_at.is_null(),
        Invitation.revoked_at.is_null(),
    )
    token = new_token()
    await Invitation.insert(
        Invitation(
            token_hash=hash_token(token),
            profile=profile_id,
            account=account_id,
            created_at=now(),
            expires_at=now() + timedelta(seconds=settings.invitation_lifetime_seconds),
        )
    )
    days = max(1, settings.invitation_lifetime_seconds // 86400)
    as_what = "as a client" if role == "client" else f"as {role}"
    body = (
        f"{inviter_name} invited you to join {organization_name} on Carethread {as_what}.\n\n"
        f"Set your password and sign in here:\n{invitation_link(settings, token)}\n\n"
        f"This link works once and expires in {days} days. "
        "If you did not expect this email, you can ignore it.\n"
    )
    await mail.enqueue(email, f"You're invited to {organization_name} on Carethread", body)


async def invite_staff(
    settings: Settings, identity: Identity, *, name: str, email: str, role: str = "provider",
) -> UserView:
    """An owner or admin adds a provider (or admin/staff); they get an invitation email."""
    if not identity.is_admin:
        raise Forbidden("Only owners and admins can add team members.")
    if role not in INVITABLE_ROLES:
        raise InvalidInput("role must be one of admin, provider, staff.", extra={"field": "role"})
    name = clean_name(name)
    email = normalize_email(email)
    org = await Organization.select().where(Organization.id == identity.organization_id).first()
    assert org is not None
    async with write_transaction():
        account = await account_by_email(email)
        if account is None:
            account_row = Account(email=email, password_hash=None, created_at=now())
            await account_row.save()
            account_id = account_row.id
        else:
            account_id = account["id"]
            existing = await Profile.exists().where(
                Profile.organization == identity.organization_id, Profile.account == account_id
            )
            if existing:
                raise Conflict("This email already belongs to someone in this practice.",
                               code="email_taken")
        profile = Profile(
            organization=identity.organization_id, account=account_id, name=name, role=role,
            status="invited", created_at=now(),
        )
        await profile.save()
        await send_invitation(
            settings, profile_id=profile.id, account_id=account_id, email=email,
            organization_name=org["name"], inviter_name=identity.name, role=role,
        )
    return user_view(profile.to_dict(), email)


async def accept_invitation(
    settings: Settings, passwords: Passwords, throttle: LoginThrottle, *, token: str,
    password: str, address: str,
) -> tuple[str, UserView]:
    """Spend the link once: a new login sets its password, an existing one proves it."""
    token_hash = hash_token(token)
    invitation = await Invitation.select().where(Invitation.token_hash == token_hash).first()
    if invitation is None:
        raise NotFound("This invitation link is not valid.", code="invitation_invalid")
    _check_invitation_state(invitation)
    account = await Account.select().where(Account.id == invitation["account"]).first()
    assert account is not None
    if account["password_hash"]:
        # Proving an existing login's password is a login attempt, throttled like one.
        await throttle.check(account["email"], address)
        if not await passwords.verify(account["password_hash"], password):
            await throttle.failed(account["email"], address)
            raise InvalidCredentials(
                "This email already has a Carethread login: enter its password to accept.",
            )
        new_hash = None
    else:
        check_password(password)
        new_hash = await passwords.hash(password)
    async with write_transaction():
        claimed = await (
            Invitation.update({Invitation.used_at: now()})
            .where(
                Invitation.id == invitation["id"],
                Invitation.used_at.is_null(),
                Invitation.revoked_at.is_null(),
                Invitation.expires_at > now(),
            )
            .returning(Invitation.id)
        )
        if not claimed:
            fresh = await Invitation.select().where(Invitation.id == invitation["id"]).first()
            _check_invitation_state(fresh or invitation)
            raise Gone("This invitation link was already used.", code="invitation_used")
        if new_hash is not None:
            # Only a login that never had a password gets one here.
            await Account.update({Account.password_hash: new_hash}).where(
                Account.id == account["id"], WhereRaw("password_hash IS NULL")
            )
        await Profile.update({Profile.status: "active"}).where(
            Profile.id == invitation["profile"], Profile.status == "invited"
        )
        profile = await Profile.select().where(Profile.id == invitation["profile"]).first()
        assert profile is not None
        session = await _issue_token(settings, profile["id"], account["id"], SESSION)
    return session, user_view(profile, account["email"])


async def preview_invitation(token: str) -> InvitationPreview:
    """What an invitation link leads to, so the page can say "choose" or "enter" a password."""
    invitation = await Invitation.select(
        *Invitation.all_columns(),
        Invitation.profile.name.as_alias("name"),
        Invitation.profile.role.as_alias("role"),
        Invitation.profile.organization.as_alias("organization_id"),
        Invitation.account.email.as_alias("email"),
        Invitation.account.password_hash.as_alias("password_hash"),
    ).where(Invitation.token_hash == hash_token(token)).first()
    if invitation is None:
        raise NotFound("This invitation link is not valid.", code="invitation_invalid")
    _check_invitation_state(invitation)
    org = await Organization.select(Organization.name).where(
        Organization.id == invitation["organization_id"]).first()
    return InvitationPreview(
        organization_name=org["name"] if org else None,
        name=invitation["name"],
        email=invitation["email"],
        role=invitation["role"],
        existing_login=bool(invitation["password_hash"]),
    )


def _check_invitation_state(invitation: dict[str, Any]) -> None:
    if invitation["used_at"] is not None:
        raise Gone("This invitation link was already used. Log in instead.",
                   code="invitation_used")
    if invitation["revoked_at"] is not None:
        raise Gone("This invitation link was replaced by a newer one. Use the latest email.",
                   code="invitation_superseded")
    if invitation["expires_at"] <= now():
        raise Gone("This invitation link has expired. Ask for a new one.",
                   code="invitation_expired")


# --- passwords and profiles -----------------------------------------------------------------

RESET_LIFETIME = timedelta(hours=2)


def reset_link(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/reset-password?token={token}"


async def send_password_reset(settings: Settings, account_id: uuid.UUID, email: str,
                              requested_by: str | None = None) -> None:
    """Mail a single-use, expiring reset link; earlier unused links die."""
    await PasswordReset.update({PasswordReset.used_at: now()}).where(
        PasswordReset.account == account_id, PasswordReset.used_at.is_null()
    )
    token = new_token()
    await PasswordReset.insert(PasswordReset(
        token_hash=hash_token(token), account=account_id, created_at=now(),
        expires_at=now() + RESET_LIFETIME,
    ))
    who = f"{requested_by} asked" if requested_by else "Someone (hopefully you) asked"
    body = (
        f"{who} to reset your Carethread password.\n\n"
        f"Choose a new password here:\n{reset_link(settings, token)}\n\n"
        "The link works once and expires in 2 hours. Your other sessions end when you use it. "
        "If you did not ask for this, ignore this email: your password stays as it is.\n"
    )
    await mail.enqueue(email, "Reset your Carethread password", body)


FORGOT_PER_ADDRESS = 20


async def forgot_password(
    settings: Settings, throttle: LoginThrottle, email: str, address: str
) -> None:
    """The same answer whether or not the email is known; only a login with a password gets
    a link (one that never set a password uses its invitation)."""
    await throttle.action("forgot", address, FORGOT_PER_ADDRESS)
    try:
        email = normalize_email(email)
    except InvalidInput:
        return
    account = await account_by_email(email)
    if account is None or not account["password_hash"]:
        return
    async with write_transaction():
        await send_password_reset(settings, account["id"], email)


async def reset_password(passwords: Passwords, *, token: str, password: str) -> None:
    """Spend a reset link: a new password, and every session of the login ends."""
    check_password(password)
    row = await PasswordReset.select().where(
        PasswordReset.token_hash == hash_token(token)
    ).first()
    if row is None:
        raise NotFound("This reset link is not valid.", code="reset_invalid")
    if row["used_at"] is not None:
        raise Gone("This reset link was already used or replaced.", code="reset_used")
    if row["expires_at"] <= now():
        raise Gone("This reset link has expired. Ask for a new one.", code="reset_expired")
    new_hash = await passwords.hash(password)
    async with write_transaction():
        claimed = await PasswordReset.update({PasswordReset.used_at: now()}).where(
            PasswordReset.id == row["id"], PasswordReset.used_at.is_null()
        ).returning(PasswordReset.id)
        if not claimed:
            raise Gone("This reset link was already used or replaced.", code="reset_used")
        await Account.update({Account.password_hash: new_hash}).where(
            Account.id == row["account"]
        )
        ended = await _revoke_account_sessions(row["account"])
    for user_id in ended:
        end_sockets(user_id)


async def change_password(
    passwords: Passwords, throttle: LoginThrottle, identity: Identity, *, current: str,
    new: str, address: str,
) -> None:
    """With the current password; every other session of the login ends."""
    if identity.account_id is None:
        raise Forbidden("Bots have no password.")
    check_password(new)
    account = await Account.select().where(Account.id == identity.account_id).first()
    assert account is not None
    await throttle.check(account["email"], address)
    if not await passwords.verify(account["password_hash"], current):
        await throttle.failed(account["email"], address)
        raise InvalidCredentials("The current password is not correct.")
    new_hash = await passwords.hash(new)
    async with write_transaction():
        await Account.update({Account.password_hash: new_hash}).where(
            Account.id == identity.account_id
        )
        ended = await _revoke_account_sessions(identity.account_id, keep=identity.token_id)
    for user_id, token_id in ended.items():
        end_sockets(user_id, token_id)


async def _revoke_account_sessions(
    account_id: uuid.UUID, keep: uuid.UUID | None = None
) -> dict[uuid.UUID, uuid.UUID]:
    """Revoke the login's session tokens (but `keep`); the profiles and tokens that ended."""
    query = AuthToken.update({AuthToken.revoked_at: now()}).where(
        AuthToken.account == account_id, AuthToken.revoked_at.is_null()
    )
    if keep is not None:
        query = query.where(AuthToken.id != keep)
    rows = await query.returning(AuthToken.profile, AuthToken.id)
    return {r["profile"]: r["id"] for r in rows}


async def revoke_profile_sessions(profile_id: uuid.UUID) -> None:
    """For a change of login (email): the profile's sessions end, and its sockets close."""
    await AuthToken.update({AuthToken.revoked_at: now()}).where(
        AuthToken.profile == profile_id, AuthToken.revoked_at.is_null()
    )


async def switch_profile(
    settings: Settings, identity: Identity, profile_id: uuid.UUID
) -> tuple[str, UserView]:
    """Move this session to another profile of the same login (another practice)."""
    if identity.account_id is None:
        raise NotFound("No such profile for this login.")
    profiles = await _active_profiles(identity.account_id)
    chosen = next((p for p in profiles if p["id"] == profile_id), None)
    if chosen is None:
        raise NotFound("No such profile for this login.")
    account = await Account.select(Account.email).where(
        Account.id == identity.account_id).first()
    async with write_transaction():
        token = await _issue_token(settings, chosen["id"], identity.account_id, SESSION)
        await AuthToken.update({AuthToken.revoked_at: now()}).where(
            AuthToken.id == identity.token_id
        )
    end_sockets(identity.user_id, identity.token_id)
    return token, user_view(chosen, account["email"] if account else None)


async def profiles_of(identity: Identity) -> list[ProfileView]:
    if identity.account_id is None:
        return []
    account = await Account.select(Account.email).where(
        Account.id == identity.account_id).first()
    email = account["email"] if account else None
    return [profile_view(p, email) for p in await _active_profiles(identity.account_id)]


# --- the team -------------------------------------------------------------------------------


async def list_team(identity: Identity) -> list[UserView]:
    """Everyone of the practice except clients: owners, admins, providers, staff and bots."""
    if not identity.is_staff:
        raise Forbidden("Only the practice's team can list the team.")
    rows = await Profile.select(
        *Profile.all_columns(), Profile.account.email.as_alias("email")
    ).where(
        Profile.organization == identity.organization_id,
        Profile.role != "client",
        Profile.status != "removed",
    ).order_by(Profile.created_at)
    return [user_view(r, r["email"]) for r in rows]


async def resend_staff_invitation(
    settings: Settings, identity: Identity, user_id: uuid.UUID
) -> UserView:
    """An owner or admin sends a team member who has not joined yet a new link; every earlier
    link of theirs stops working."""
    if not identity.is_admin:
        raise Forbidden("Only owners and admins can invite team members.")
    async with write_transaction():
        profile = await Profile.select(
            *Profile.all_columns(), Profile.account.email.as_alias("email")
        ).where(
            Profile.id == user_id,
            Profile.organization == identity.organization_id,
            Profile.role.is_in(list(INVITABLE_ROLES)),
            Profile.status != "removed",
        ).first()
        if profile is None:
            raise NotFound("No such team member in this practice.")
        if profile["status"] != "invited":
            raise Conflict(f"{profile['name']} has already joined.", code="already_joined")
        org = await Organization.select(Organization.name).where(
            Organization.id == identity.organization_id).first()
        assert org is not None
        await send_invitation(
            settings, profile_id=user_id, account_id=profile["account"], email=profile["email"],
            organization_name=org["name"], inviter_name=identity.name, role=profile["role"],
        )
    return user_view(profile, profile["email"])


async def remove_from_practice(identity: Identity, user_id: uuid.UUID) -> UserView:
    """An owner or admin removes someone: their tokens die and their sockets close at once."""
    if not identity.is_admin:
        raise Forbidden("Only owners and admins can remove people from the practice.")
    profile = await Profile.select().where(
        Profile.id == user_id,
        Profile.organization == identity.organization_id,
        Profile.status != "removed",
    ).first()
    if profile is None:
        raise NotFound("No such user in this practice.")
    if profile["role"] == "owner" and identity.role != "owner":
        raise Forbidden("Only an owner can remove an owner.")
    if profile["role"] == "owner":
        owners = await Profile.count().where(
            Profile.organization == identity.organization_id,
            Profile.role == "owner",
            Profile.status == "active",
        )
        if owners <= 1:
            raise Conflict("A practice keeps at least one owner.", code="last_owner")
    from server.threads import service as threads  # threads builds on accounts

    async with write_transaction() as work:
        # Detached from its login, so the email can be invited again as someone new.
        await Profile.update({Profile.status: "removed", Profile.account: None}).where(
            Profile.id == user_id)
        for thread_id in await threads.open_thread_ids(user_id):
            await threads.remove_member_in_transaction(thread_id, user_id, identity.user_id)
        await AuthToken.update({AuthToken.revoked_at: now()}).where(
            AuthToken.profile == user_id, AuthToken.revoked_at.is_null()
        )
        await Invitation.update({Invitation.revoked_at: now()}).where(
            Invitation.profile == user_id, Invitation.used_at.is_null(),
            Invitation.revoked_at.is_null(),
        )
        work.close_sockets(user_id)
    email = None
    if profile["account"] is not None:
        account = await Account.select(Account.email).where(
            Account.id == profile["account"]).first()
        email = account["email"] if account else None
    return user_view({**profile, "status": "removed"}, email)


# --- bots -----------------------------------------------------------------------------------


async def create_bot(
    settings: Settings, identity: Identity, *, name: str
) -> tuple[UserView, str]:
    """A bot is a profile with no login; its bearer token is shown once."""
    if not identity.is_admin:
        raise Forbidden("Only owners and admins can add bots.")
    name = clean_name(name)
    async with write_transaction():
        profile = Profile(
            organization=identity.organization_id, account=None, name=name, role="bot",
            status="active", created_at=now(),
        )
        await profile.save()
        token = await _issue_token(settings, profile.id, None, BOT)
    return user_view(profile.to_dict()), token
