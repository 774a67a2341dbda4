"""Clients and their care teams: adding, inviting, editing; each moment an event in the care thread.

Every client has one care thread whose members are the client and the care team (the primary
provider and the others). What only the team should see (email changes, invitation resends,
group and tag changes) is written with the `staff` audience.
"""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import phonenumbers

from server.accounts import service as accounts
from server.accounts.avatar import avatar_url
from server.accounts.tables import Account, Organization, Profile
from server.db import is_unique_violation, write_transaction
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.events import EventRecord
from server.identity import PROVIDER_ROLES, STAFF_ROLES, Identity
from server.onboarding import hooks
from server.onboarding.groups import TagView
from server.onboarding.tables import (
    CareTeamMember,
    Client,
    ClientGroup,
    ClientTag,
    PracticeSettings,
    Tag,
)
from server.security import Passwords
from server.settings import Settings, get_settings
from server.threads import service as threads
from server.throttle import LoginThrottle

INVITE_STATES = ("none", "not_sent", "sent", "accepted")
MAX_CARE_TEAM = 20
MAX_TAGS = 50


def now() -> datetime:
    return datetime.now(UTC)


# --- what the API answers (docs/api.md §3) ----------------------------------------------------


class PersonRef(msgspec.Struct):
    """A team member named in a client: `name` and `role` are null if the profile is gone."""

    id: str
    name: str | None
    role: str | None


class GroupRef(msgspec.Struct):
    id: str
    name: str
    kind: str


class ClientView(msgspec.Struct):
    """docs/api.md §3 **client**, as the caller may see it."""

    id: str
    name: str
    email: str | None
    avatar_url: str | None
    phone: str | None
    date_of_birth: date | None
    timezone: str | None
    status: str  # invited or active
    invitation: str  # none, not_sent, sent or accepted
    primary_provider: PersonRef
    care_team: list[PersonRef]
    group: GroupRef | None
    tags: list[TagView]
    care_thread_id: str | None  # only for those who may open the care thread
    created_at: datetime


class PracticeSettingsView(msgspec.Struct):
    welcome_enabled: bool
    welcome_text: str
    assignment_mode: str  # round_robin or named
    default_provider_id: str | None


class Named(msgspec.Struct):
    name: str


class JoinInfo(msgspec.Struct):
    """What a group sign-up link leads to (GET /join/{code})."""

    organization: Named
    group: Named


@dataclass
class ClientInput:
    """A client's details as a provider (or an import row) gives them."""

    name: str
    email: str | None = None
    phone: str | None = None
    date_of_birth: date | None = None
    timezone: str | None = None
    primary_provider_id: uuid.UUID | None = None
    care_team_ids: list[uuid.UUID] = field(default_factory=list)
    group_id: uuid.UUID | None = None
    tag_ids: list[uuid.UUID] = field(default_factory=list)
    send_invite: bool = True


def check_timezone(tz: str | None) -> str | None:
    if tz is None:
        return None
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown time zone {tz!r}.", extra={"field": "timezone"}) from None
    return tz


def check_phone(raw: str | None, region: str | None = None) -> str | None:
    """A phone number in E.164 (+15551234567), or a clear refusal. A number written without
    its country code is read as one of PHONE_REGION's."""
    if raw is None or not raw.strip():
        return None
    region = region or get_settings().phone_region
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput("That is not a phone number we can reach. Write it with its country "
                           "code, like +1 415 555 0132.", code="invalid_phone",
                           extra={"field": "phone"})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_birth_date(value: date | None) -> date | None:
    if value is not None and (value > date.today() or value.year < 1900):
        raise InvalidInput("That date of birth is not plausible.",
                           extra={"field": "date_of_birth"})
    return value


def _require_staff(identity: Identity) -> None:
    if not identity.is_staff:
        raise Forbidden("Only the practice's team can manage clients.")


async def _team_members(
    identity: Identity, ids: list[uuid.UUID], *, providers_only: bool = False
) -> dict[uuid.UUID, dict[str, Any]]:
    """Team profiles of the caller's practice; anything else is not found."""
    if not ids:
        return {}
    roles = PROVIDER_ROLES if providers_only else STAFF_ROLES
    rows = await Profile.select(Profile.id, Profile.name, Profile.role).where(
        Profile.id.is_in(ids),
        Profile.organization == identity.organization_id,
        Profile.status != "removed",
        Profile.role.is_in(list(roles)),
    )
    found = {r["id"]: r for r in rows}
    if len(found) != len(set(ids)):
        what = "provider" if providers_only else "team member"
        raise NotFound(f"No such {what} in this practice.")
    return found


async def _group(identity: Identity, group_id: uuid.UUID | None) -> dict[str, Any] | None:
    if group_id is None:
        return None
    row = await ClientGroup.select().where(
        ClientGroup.id == group_id, ClientGroup.organization == identity.organization_id
    ).first()
    if row is None:
        raise NotFound("No such group in this practice.")
    return row


async def _tags(identity: Identity, tag_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    if not tag_ids:
        return []
    if len(set(tag_ids)) > MAX_TAGS:
        raise InvalidInput(f"A client has at most {MAX_TAGS} tags.")
    rows = await Tag.select().where(
        Tag.id.is_in(list(set(tag_ids))), Tag.organization == identity.organization_id
    )
    if len(rows) != len(set(tag_ids)):
        raise NotFound("No such tag in this practice.")
    return rows


async def _organization_name(organization_id: uuid.UUID) -> str:
    org = await Organization.select(Organization.name).where(
        Organization.id == organization_id).first()
    return org["name"] if org else ""


# --- the welcome message ---------------------------------------------------------------------


def render_welcome(template: str, *, client_name: str, practice_name: str,
                   provider_name: str) -> str:
    """Fill the known placeholders; anything else in braces stays as written."""
    values = {
        "{client_first_name}": client_name.split()[0] if client_name.split() else client_name,
        "{client_name}": client_name,
        "{practice_name}": practice_name,
        "{provider_name}": provider_name,
        "{provider_first_name}": provider_name.split()[0] if provider_name.split() else "",
    }
    for key, value in values.items():
        template = template.replace(key, value)
    return template


# What a new practice's welcome message says (on by default; owners change it in Settings).
DEFAULT_WELCOME = (
    "Hi {client_first_name}, welcome to {practice_name}! I'm {provider_first_name}, and this is "
    "where you can message me and the team whenever you need us. We'll reply as soon as we can."
)


async def practice_settings(organization_id: uuid.UUID) -> dict[str, Any]:
    row = await PracticeSettings.select().where(
        PracticeSettings.organization == organization_id).first()
    if row is not None:
        return row
    try:
        # Practices older than the default got their row (welcome off) in m0031.
        await PracticeSettings.insert(PracticeSettings(
            organization=organization_id, welcome_enabled=True, welcome_text=DEFAULT_WELCOME))
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
    row = await PracticeSettings.select().where(
        PracticeSettings.organization == organization_id).first()
    assert row is not None
    return row


# --- adding clients --------------------------------------------------------------------------


@dataclass
class NewClient:
    """What creating one client wrote: its id and the events to publish after commit."""

    client_id: uuid.UUID
    events: list[EventRecord]
    invited_email: str | None = None
    group_id: uuid.UUID | None = None


async def add_client(
    settings: Settings, identity: Identity, data: ClientInput
) -> ClientView:
    """A provider adds a client: profile, care thread, welcome message, invitation."""
    _require_staff(identity)
    prepared = await _prepare(identity, data)
    try:
        async with write_transaction():
            created = await create_client_in_transaction(settings, identity, prepared)
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("This email already belongs to someone in this practice.",
                           code="email_taken") from exc
        raise
    await after_commit([created])
    return await get_client(identity, str(created.client_id))


async def after_commit(created: list[NewClient]) -> None:
    for c in created:
        await hooks.new_client(c.client_id, c.group_id)
        if c.group_id is not None:
            await hooks.client_joined_group(c.client_id, c.group_id)


@dataclass
class PreparedClient:
    data: ClientInput
    name: str
    email: str | None
    primary_id: uuid.UUID
    primary_name: str
    care_team: list[uuid.UUID]
    group: dict[str, Any] | None
    tags: list[dict[str, Any]]


async def _prepare(identity: Identity, data: ClientInput) -> PreparedClient:
    """Validate everything before writing anything."""
    name = accounts.clean_name(data.name)
    email = accounts.normalize_email(data.email) if data.email else None
    check_timezone(data.timezone)
    check_birth_date(data.date_of_birth)
    data.phone = check_phone(data.phone)
    primary_id = data.primary_provider_id
    if primary_id is None:
        if identity.role not in PROVIDER_ROLES:
            raise InvalidInput("Choose the client's primary provider.",
                               extra={"field": "primary_provider_id"})
        primary_id = identity.user_id
    primary = (await _team_members(identity, [primary_id], providers_only=True))[primary_id]
    others = [m for m in dict.fromkeys(data.care_team_ids) if m != primary_id]
    if len(others) > MAX_CARE_TEAM:
        raise InvalidInput(f"A care team has at most {MAX_CARE_TEAM} other members.")
    await _team_members(identity, others)
    group = await _group(identity, data.group_id)
    tags = await _tags(identity, data.tag_ids)
    if email:
        await _check_email_free(identity.organization_id, email)
    return PreparedClient(data, name, email, primary_id, primary["name"], others, group, tags)


async def prepare_client(identity: Identity, data: ClientInput) -> PreparedClient:
    """Validate a new client before a transaction that writes it with
    `create_client_in_transaction` (then `after_commit`): for other domains that add a client
    inside their own transaction (a first booking through the public link)."""
    return await _prepare(identity, data)


async def _check_email_free(organization_id: uuid.UUID, email: str) -> None:
    account = await accounts.account_by_email(email)
    if account and await Profile.exists().where(
        Profile.organization == organization_id, Profile.account == account["id"],
        Profile.status != "removed",
    ):
        raise Conflict("This email already belongs to someone in this practice.",
                       code="email_taken")


async def create_client_in_transaction(
    settings: Settings, identity: Identity, p: PreparedClient, *, active: bool = False,
    account_id: uuid.UUID | None = None,
) -> NewClient:
    """Write one client inside the caller's transaction; events are published by the caller."""
    org_id = identity.organization_id
    if p.email and account_id is None:
        account_id = await accounts.login_for_email(p.email)
    client_id = await accounts.create_profile(org_id, account_id, p.name, "client",
                                              active=active)
    members = [client_id, p.primary_id, *p.care_team]
    # A sign-up through a group link has no team member behind it: the system writes.
    creator = identity.user_id if identity.role != "client" else None
    thread_id, created_view = await threads.create_thread_in_transaction(
        org_id, creator, members, p.name, "care"
    )
    events = [created_view]
    state = "accepted" if active else ("not_sent" if p.email else "none")
    await Client.insert(Client(
        id=client_id, organization=org_id, phone=p.data.phone,
        date_of_birth=p.data.date_of_birth, timezone=p.data.timezone,
        primary_provider=p.primary_id, client_group=p.group["id"] if p.group else None,
        care_thread=thread_id, invite_state=state,
        created_by=creator, created_at=now(),
    ))
    if p.care_team:
        await CareTeamMember.insert(*[
            CareTeamMember(client=client_id, provider=m) for m in p.care_team
        ])
    if p.tags:
        await ClientTag.insert(*[ClientTag(client=client_id, tag=t["id"]) for t in p.tags])
    if p.group:
        events.append(await threads.append_in_transaction(
            thread_id, "group.changed", creator,
            data={"from": None, "to": str(p.group["id"]), "to_name": p.group["name"]},
            audience=threads.STAFF,
        ))
    settings_row = await practice_settings(org_id)
    practice_name = await _organization_name(org_id)
    if settings_row["welcome_enabled"] and settings_row["welcome_text"].strip():
        body = render_welcome(settings_row["welcome_text"], client_name=p.name,
                              practice_name=practice_name, provider_name=p.primary_name
                              )[:settings.max_message_length]
        events.append(await threads.append_in_transaction(
            thread_id, threads.MESSAGE, p.primary_id, body=body, data={"automated": True},
        ))
    invited = None
    if p.email and p.data.send_invite and not active:
        assert account_id is not None
        events.append(await _invite_in_transaction(
            settings, identity, client_id, account_id, p.email, thread_id, practice_name,
        ))
        invited = p.email
    return NewClient(client_id, events, invited, p.group["id"] if p.group else None)


async def _invite_in_transaction(
    settings: Settings, identity: Identity, client_id: uuid.UUID, account_id: uuid.UUID,
    email: str, thread_id: uuid.UUID, practice_name: str, *, resend: bool = False,
) -> EventRecord:
    await accounts.send_invitation(
        settings, profile_id=client_id, account_id=account_id, email=email,
        organization_name=practice_name, inviter_name=identity.name, role="client",
    )
    await Client.update({Client.invite_state: "sent"}).where(Client.id == client_id)
    return await threads.append_in_transaction(
        thread_id, "invite.sent", identity.user_id,
        data={"email": email, "resend": resend}, audience=threads.STAFF,
    )


# --- reading clients -------------------------------------------------------------------------


async def _client_row(identity: Identity, client_id: str | uuid.UUID) -> dict[str, Any]:
    """A client of the caller's practice; staff only. Anything else is not found."""
    cid = threads.parse_id(client_id, "client")
    if not identity.is_staff:
        raise NotFound("No such client.")
    row = await Client.select().where(
        Client.id == cid, Client.organization == identity.organization_id
    ).first()
    if row is None:
        raise NotFound("No such client.")
    profile = await Profile.select().where(Profile.id == cid).first()
    if profile is None or profile["status"] == "removed":
        raise NotFound("No such client.")
    row["profile"] = profile
    return row


async def get_client(identity: Identity, client_id: str) -> ClientView:
    row = await _client_row(identity, client_id)
    return (await _client_views(identity, [row]))[0]


async def list_clients(
    identity: Identity, *, search: str | None = None, group_id: uuid.UUID | None = None,
    tag_id: uuid.UUID | None = None, primary_provider_id: uuid.UUID | None = None,
    invitation: str | None = None, incomplete_intake: bool | None = None, limit: int = 100,
    offset: int = 0,
) -> list[ClientView]:
    """The practice's clients, newest first, filtered; any team member sees them all."""
    if not identity.is_staff:
        raise Forbidden("Only the practice's team can list clients.")
    sql = [
        "SELECT c.* FROM client c JOIN profile p ON p.id = c.id",
        "LEFT JOIN account a ON a.id = p.account",
        "WHERE c.organization = {} AND p.status <> 'removed'",
    ]
    args: list[Any] = [identity.organization_id]
    if search and search.strip():
        # A literal substring: LIKE's own wildcards in the search are escaped.
        sql.append("AND (LOWER(p.name) LIKE {} ESCAPE '\\' OR LOWER(a.email) LIKE {} ESCAPE '\\')")
        literal = search.strip().lower()
        for char in ("\\", "%", "_"):
            literal = literal.replace(char, "\\" + char)
        pattern = "%" + literal + "%"
        args += [pattern, pattern]
    for column, value in (("c.client_group", group_id),
                          ("c.primary_provider", primary_provider_id),
                          ("c.invite_state", invitation)):
        if value is not None:
            sql.append(f"AND {column} = {{}}")
            args.append(value)
    if tag_id is not None:
        sql.append("AND c.id IN (SELECT client FROM client_tag WHERE tag = {})")
        args.append(tag_id)
    if incomplete_intake is not None:
        from server.forms.service import OPEN_INTAKE_CLIENTS_SQL as open_intake

        sql.append(f"AND c.id {'IN' if incomplete_intake else 'NOT IN'} ({open_intake})")
    sql.append("ORDER BY c.created_at DESC LIMIT {} OFFSET {}")
    args += [limit, offset]
    rows = await Client.raw(" ".join(sql), *args)
    if not rows:
        return []
    for row in rows:  # raw rows on SQLite may hold ids as text
        for key in ("id", "primary_provider", "client_group", "care_thread", "organization",
                    "created_by"):
            if row[key] is not None and not isinstance(row[key], uuid.UUID):
                row[key] = uuid.UUID(str(row[key]))
        if isinstance(row["date_of_birth"], str):
            row["date_of_birth"] = date.fromisoformat(row["date_of_birth"])
    profiles = await Profile.select().where(Profile.id.is_in([r["id"] for r in rows]))
    by_id = {p["id"]: p for p in profiles}
    for row in rows:
        row["profile"] = by_id[row["id"]]
    return await _client_views(identity, rows)


async def _client_views(identity: Identity, rows: list[dict[str, Any]]) -> list[ClientView]:
    """Client rows with names, care team, group and tags, in a few queries for the page."""
    ids = [r["id"] for r in rows]
    account_ids = [r["profile"]["account"] for r in rows if r["profile"]["account"]]
    emails = {a["id"]: a["email"] for a in await Account.select(
        Account.id, Account.email).where(Account.id.is_in(account_ids))} if account_ids else {}
    team_rows = await CareTeamMember.select(CareTeamMember.client, CareTeamMember.provider).where(
        CareTeamMember.client.is_in(ids))
    people_ids = list({r["primary_provider"] for r in rows} | {t["provider"] for t in team_rows})
    people = {p["id"]: p for p in await Profile.select(
        Profile.id, Profile.name, Profile.role).where(Profile.id.is_in(people_ids))}
    group_ids = list({r["client_group"] for r in rows if r["client_group"]})
    groups = {g["id"]: g for g in await ClientGroup.select().where(
        ClientGroup.id.is_in(group_ids))} if group_ids else {}
    tag_rows = await ClientTag.select(
        ClientTag.client, ClientTag.tag, ClientTag.tag.name.as_alias("name")
    ).where(ClientTag.client.is_in(ids))
    thread_ids = [r["care_thread"] for r in rows if r["care_thread"]]
    visible_threads: set[uuid.UUID] = set()
    if thread_ids:
        if identity.is_admin:
            visible_threads = set(thread_ids)
        else:
            windows = await threads.visible_windows(identity.user_id, thread_ids)
            visible_threads = {t for t, w in windows.items() if threads.is_open(w)}

    def person(pid: uuid.UUID) -> PersonRef:
        p = people.get(pid)
        return PersonRef(id=str(pid), name=p["name"] if p else None,
                         role=p["role"] if p else None)

    views = []
    for row in rows:
        profile = row["profile"]
        group = groups.get(row["client_group"])
        views.append(ClientView(
            id=str(row["id"]),
            name=profile["name"],
            email=emails.get(profile["account"]),
            avatar_url=avatar_url(row["id"], profile.get("avatar")),
            phone=row["phone"],
            date_of_birth=row["date_of_birth"],
            timezone=row["timezone"],
            status=profile["status"],
            invitation=row["invite_state"],
            primary_provider=person(row["primary_provider"]),
            care_team=[person(t["provider"]) for t in team_rows if t["client"] == row["id"]],
            group=GroupRef(id=str(group["id"]), name=group["name"], kind=group["kind"])
            if group else None,
            tags=sorted(
                (TagView(id=str(t["tag"]), name=t["name"]) for t in tag_rows
                 if t["client"] == row["id"]), key=lambda t: t.name),
            # Only for those who may open it: the care team, and admins.
            care_thread_id=str(row["care_thread"])
            if row["care_thread"] in visible_threads else None,
            created_at=row["created_at"],
        ))
    return views


# --- editing clients -------------------------------------------------------------------------

UNSET: Any = object()


async def _require_editor(identity: Identity, row: dict[str, Any]) -> None:
    """Admins and the client's care team edit; other providers only read."""
    if identity.is_admin or row["primary_provider"] == identity.user_id:
        return
    if await CareTeamMember.exists().where(
        CareTeamMember.client == row["id"], CareTeamMember.provider == identity.user_id
    ):
        return
    raise Forbidden("Only admins and the client's care team can change this client.")


async def update_client(
    settings: Settings, identity: Identity, client_id: str, *, name: Any = UNSET,
    email: Any = UNSET, phone: Any = UNSET, date_of_birth: Any = UNSET, timezone: Any = UNSET,
    primary_provider_id: Any = UNSET, care_team_ids: Any = UNSET, group_id: Any = UNSET,
    tag_ids: Any = UNSET,
) -> ClientView:
    """Change what was given; each change that matters to the care story is an event."""
    row = await _client_row(identity, client_id)
    await _require_editor(identity, row)
    cid = row["id"]
    updates: dict[Any, Any] = {}
    new_name: str | None = None
    if name is not UNSET:
        new_name = accounts.clean_name(name)
    if phone is not UNSET:
        updates[Client.phone] = check_phone(phone)
    if date_of_birth is not UNSET:
        updates[Client.date_of_birth] = check_birth_date(date_of_birth)
    if timezone is not UNSET:
        updates[Client.timezone] = check_timezone(timezone)
    new_email = None
    if email is not UNSET and email is not None:
        new_email = accounts.normalize_email(email)
        current = await _email_of(row["profile"])
        if new_email == current:
            new_email = None
        else:
            await _check_email_free(identity.organization_id, new_email)
    team_change = None
    if primary_provider_id is not UNSET or care_team_ids is not UNSET:
        team_change = await _plan_team_change(identity, row, primary_provider_id, care_team_ids)
    group = UNSET
    if group_id is not UNSET and group_id != row["client_group"]:
        group = await _group(identity, group_id)
    tag_change = None
    if tag_ids is not UNSET:
        tags = await _tags(identity, tag_ids)
        current_tags = {r["tag"] for r in await ClientTag.select(ClientTag.tag).where(
            ClientTag.client == cid)}
        wanted = {t["id"] for t in tags}
        if wanted != current_tags:
            tag_change = (wanted - current_tags, current_tags - wanted)

    events: list[EventRecord] = []
    try:
        async with write_transaction():
            if new_name is not None:
                await accounts.rename_profile(cid, new_name)
            if updates:
                await Client.update(updates).where(Client.id == cid)
            if team_change is not None:
                events += await _apply_team_change(identity, row, team_change)
            if group is not UNSET:
                events.append(await _move_group_in_transaction(identity, row, group))
            if tag_change is not None:
                events.append(await _apply_tags(identity, row, *tag_change))
            if new_email is not None:
                events += await _change_email_in_transaction(settings, identity, row, new_email)
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("This email already belongs to someone in this practice.",
                           code="email_taken") from exc
        raise
    if new_email is not None:
        await accounts.revoke_profile_sessions(cid)
        accounts.end_sockets(cid)
    if group is not UNSET and group is not None:
        await hooks.client_joined_group(cid, group["id"])
    return await get_client(identity, str(cid))


async def _email_of(profile: dict[str, Any]) -> str | None:
    if profile["account"] is None:
        return None
    account = await Account.select(Account.email).where(Account.id == profile["account"]).first()
    return account["email"] if account else None


@dataclass
class TeamChange:
    primary: uuid.UUID
    others: list[uuid.UUID]
    added: list[uuid.UUID]
    removed: list[uuid.UUID]


async def _plan_team_change(
    identity: Identity, row: dict[str, Any], primary_provider_id: Any, care_team_ids: Any
) -> TeamChange | None:
    current_others = [r["provider"] for r in await CareTeamMember.select(
        CareTeamMember.provider).where(CareTeamMember.client == row["id"])]
    primary = row["primary_provider"] if primary_provider_id is UNSET else primary_provider_id
    if primary is None:
        raise InvalidInput("Every client has a primary provider.",
                           extra={"field": "primary_provider_id"})
    await _team_members(identity, [primary], providers_only=True)
    others = current_others if care_team_ids is UNSET else list(dict.fromkeys(care_team_ids))
    others = [m for m in others if m != primary]
    if len(others) > MAX_CARE_TEAM:
        raise InvalidInput(f"A care team has at most {MAX_CARE_TEAM} other members.")
    await _team_members(identity, others)
    before = {row["primary_provider"], *current_others}
    after = {primary, *others}
    if primary == row["primary_provider"] and set(others) == set(current_others):
        return None
    return TeamChange(primary, others, sorted(after - before), sorted(before - after))


async def _apply_team_change(
    identity: Identity, row: dict[str, Any], change: TeamChange
) -> list[EventRecord]:
    cid, thread_id = row["id"], row["care_thread"]
    await Client.update({Client.primary_provider: change.primary}).where(Client.id == cid)
    await CareTeamMember.delete().where(CareTeamMember.client == cid)
    if change.others:
        await CareTeamMember.insert(*[
            CareTeamMember(client=cid, provider=m) for m in change.others
        ])
    events = []
    for uid in change.removed:
        view = await threads.remove_member_in_transaction(thread_id, uid, identity.user_id)
        if view is not None:
            events.append(view)
    current = set(await threads.current_member_ids(thread_id))
    for uid in change.added:
        if uid not in current:
            events.append(await threads.add_member_in_transaction(thread_id, uid,
                                                                  identity.user_id))
    events.append(await threads.append_in_transaction(
        thread_id, "care_team.updated", identity.user_id,
        data={
            "primary_provider_id": str(change.primary),
            "care_team_ids": [str(m) for m in change.others],
            "added": [str(m) for m in change.added],
            "removed": [str(m) for m in change.removed],
        },
    ))
    return events


async def _move_group_in_transaction(
    identity: Identity, row: dict[str, Any], group: dict[str, Any] | None
) -> EventRecord:
    await Client.update({Client.client_group: group["id"] if group else None}).where(
        Client.id == row["id"])
    return await threads.append_in_transaction(
        row["care_thread"], "group.changed", identity.user_id,
        data={"from": str(row["client_group"]) if row["client_group"] else None,
              "to": str(group["id"]) if group else None,
              "to_name": group["name"] if group else None},
        audience=threads.STAFF,
    )


async def _apply_tags(
    identity: Identity, row: dict[str, Any], added: set[uuid.UUID], removed: set[uuid.UUID]
) -> EventRecord:
    if removed:
        await ClientTag.delete().where(ClientTag.client == row["id"],
                                       ClientTag.tag.is_in(list(removed)))
    if added:
        await ClientTag.insert(*[ClientTag(client=row["id"], tag=t) for t in added])
    return await threads.append_in_transaction(
        row["care_thread"], "tags.changed", identity.user_id,
        data={"added": sorted(str(t) for t in added), "removed": sorted(str(t) for t in removed)},
        audience=threads.STAFF,
    )


async def _change_email_in_transaction(
    settings: Settings, identity: Identity, row: dict[str, Any], new_email: str
) -> list[EventRecord]:
    """The profile moves to the login of the new email; a new invitation goes there and every
    earlier link dies. Other practices of the old login are untouched."""
    cid, thread_id = row["id"], row["care_thread"]
    account_id = await accounts.login_for_email(new_email)
    old_email = await _email_of(row["profile"])
    await accounts.move_profile_to_login(cid, account_id)
    changed = await threads.append_in_transaction(
        thread_id, "client.email_changed", identity.user_id,
        data={"from": old_email, "to": new_email}, audience=threads.STAFF,
    )
    invited = await _invite_in_transaction(
        settings, identity, cid, account_id, new_email, thread_id,
        await _organization_name(identity.organization_id), resend=old_email is not None,
    )
    return [changed, invited]


async def resend_invitation(settings: Settings, identity: Identity, client_id: str) -> None:
    """A new invitation email; every earlier link of the client stops working."""
    row = await _client_row(identity, client_id)
    email = await _email_of(row["profile"])
    if email is None:
        raise InvalidInput("Add the client's email first.", code="no_email")
    if row["profile"]["status"] == "active":
        raise Conflict("This client already set a password; send a password reset instead.",
                       code="invitation_accepted")
    async with write_transaction():
        await _invite_in_transaction(
            settings, identity, row["id"], row["profile"]["account"], email, row["care_thread"],
            await _organization_name(identity.organization_id), resend=True,
        )


async def reset_client_password(settings: Settings, identity: Identity, client_id: str) -> None:
    """A provider sends the client a password-reset email."""
    row = await _client_row(identity, client_id)
    email = await _email_of(row["profile"])
    if email is None:
        raise InvalidInput("Add the client's email first.", code="no_email")
    if row["profile"]["status"] != "active":
        raise Conflict("This client has not set a password yet; resend the invitation.",
                       code="invitation_pending")
    async with write_transaction():
        await accounts.send_password_reset(settings, row["profile"]["account"], email,
                                           requested_by=identity.name)
        await threads.append_in_transaction(
            row["care_thread"], "password_reset.sent", identity.user_id,
            data={"email": email}, audience=threads.STAFF,
        )


# --- invitations accepted and group links ------------------------------------------------------


async def accept_invitation(
    settings: Settings, passwords: Passwords, throttle: LoginThrottle, *, token: str,
    password: str, address: str,
) -> tuple[str, accounts.UserView]:
    """Accept any invitation; a client's acceptance is also an event in their care thread."""
    session, user = await accounts.accept_invitation(
        settings, passwords, throttle, token=token, password=password, address=address
    )
    if user.role == "client":
        cid = uuid.UUID(user.id)
        row = await Client.select(Client.care_thread).where(Client.id == cid).first()
        if row is not None:
            async with write_transaction():
                await Client.update({Client.invite_state: "accepted"}).where(Client.id == cid)
                await threads.append_in_transaction(
                    row["care_thread"], "invite.accepted", cid, data={"user_id": str(cid)})
    return session, user


async def group_by_code(code: str) -> dict[str, Any]:
    row = await ClientGroup.select(
        *ClientGroup.all_columns(), ClientGroup.organization.name.as_alias("organization_name")
    ).where(ClientGroup.invite_code == code).first()
    if row is None:
        raise NotFound("This sign-up link is not valid. Ask the practice for a new one.",
                       code="invite_link_invalid")
    return row


async def join_info(code: str) -> JoinInfo:
    group = await group_by_code(code)
    return JoinInfo(organization=Named(group["organization_name"]), group=Named(group["name"]))


JOINS_PER_ADDRESS = 30


async def join_by_link(
    settings: Settings, passwords: Passwords, throttle: LoginThrottle, *, code: str, name: str,
    email: str, password: str, address: str,
) -> tuple[str, accounts.UserView]:
    """Sign up through a group's link: a client in that group, with a primary provider chosen
    by the practice's default, signed in."""
    group = await group_by_code(code)
    await throttle.action("join", address, JOINS_PER_ADDRESS)
    name = accounts.clean_name(name)
    email = accounts.normalize_email(email)
    accounts.check_password(password)
    email_in_use = Conflict(
        "This email is already in use. If you already have a Carethread login, ask the "
        "practice to invite you by email instead; if you signed up as a practice by mistake, "
        "use another email.", code="email_taken")
    if await accounts.account_by_email(email):
        raise email_in_use
    password_hash = await passwords.hash(password)
    org_id = group["organization"]
    try:
        async with write_transaction():
            if await accounts.account_by_email(email):
                raise email_in_use
            primary = await _assign_provider_in_transaction(org_id)
            account_id = await accounts.create_login(email, password_hash)
            system = Identity(
                token_id=uuid.uuid4(), kind="system", user_id=primary["id"],
                organization_id=org_id, account_id=None, role="client", name=primary["name"],
                expires_at=now(),
            )
            prepared = PreparedClient(
                ClientInput(name=name, email=email, send_invite=False), name, email,
                primary["id"], primary["name"], [], group, [],
            )
            created = await create_client_in_transaction(
                settings, system, prepared, active=True, account_id=account_id)
            token = await accounts.issue_session(settings, created.client_id, account_id)
    except Exception as exc:
        if is_unique_violation(exc):
            raise email_in_use from exc
        raise
    await after_commit([created])
    profile = await Profile.select().where(Profile.id == created.client_id).first()
    assert profile is not None
    return token, accounts.user_view(profile, email)


async def _assign_provider_in_transaction(organization_id: uuid.UUID) -> dict[str, Any]:
    """The practice's default: a named provider, or round-robin among its providers."""
    settings_row = await practice_settings(organization_id)
    candidates = await Profile.select(Profile.id, Profile.name, Profile.role).where(
        Profile.organization == organization_id,
        Profile.status == "active",
        Profile.role.is_in(list(PROVIDER_ROLES)),
    ).order_by(Profile.created_at).order_by(Profile.id)
    if not candidates:
        raise Conflict("This practice has no provider to assign yet.", code="no_provider")
    if settings_row["assignment_mode"] == "named" and settings_row["default_provider"]:
        named = [c for c in candidates if c["id"] == settings_row["default_provider"]]
        if named:
            return named[0]
    pool = [c for c in candidates if c["role"] == "provider"] or candidates
    last = settings_row["last_assigned_provider"]
    ids = [c["id"] for c in pool]
    index = (ids.index(last) + 1) % len(pool) if last in ids else 0
    chosen = pool[index]
    await PracticeSettings.update({PracticeSettings.last_assigned_provider: chosen["id"]}).where(
        PracticeSettings.organization == organization_id)
    return chosen


# --- practice settings -------------------------------------------------------------------------


def settings_view(row: dict[str, Any]) -> PracticeSettingsView:
    return PracticeSettingsView(
        welcome_enabled=row["welcome_enabled"],
        welcome_text=row["welcome_text"],
        assignment_mode=row["assignment_mode"],
        default_provider_id=str(row["default_provider"]) if row["default_provider"] else None,
    )


async def get_practice_settings(identity: Identity) -> PracticeSettingsView:
    if not identity.is_staff:
        raise Forbidden("Only the practice's team can see its settings.")
    return settings_view(await practice_settings(identity.organization_id))


async def update_practice_settings(
    identity: Identity, *, welcome_enabled: Any = UNSET, welcome_text: Any = UNSET,
    assignment_mode: Any = UNSET, default_provider_id: Any = UNSET,
) -> PracticeSettingsView:
    if not identity.is_admin:
        raise Forbidden("Only owners and admins can change the practice's settings.")
    await practice_settings(identity.organization_id)
    updates: dict[Any, Any] = {}
    if welcome_enabled is not UNSET:
        updates[PracticeSettings.welcome_enabled] = bool(welcome_enabled)
    if welcome_text is not UNSET:
        updates[PracticeSettings.welcome_text] = welcome_text
    if assignment_mode is not UNSET:
        updates[PracticeSettings.assignment_mode] = assignment_mode
    if default_provider_id is not UNSET:
        if default_provider_id is not None:
            await _team_members(identity, [default_provider_id], providers_only=True)
        updates[PracticeSettings.default_provider] = default_provider_id
    if updates:
        await PracticeSettings.update(updates).where(
            PracticeSettings.organization == identity.organization_id)
    return settings_view(await practice_settings(identity.organization_id))
