"""Who may act on a client: the one rule every care domain (files, tasks, metrics, ...) uses.

The client's care team (primary provider and team members) and the practice's owners and
admins may act on a client; a client only on themselves; anyone else gets 404.
"""

from __future__ import annotations

import uuid

import msgspec

from server.accounts.tables import Profile
from server.errors import NotFound
from server.identity import Identity
from server.onboarding.tables import CareTeamMember, Client


class ClientAccess(msgspec.Struct, frozen=True):
    client_id: uuid.UUID
    organization_id: uuid.UUID
    care_thread_id: uuid.UUID
    as_team: bool  # False: the caller is the client themselves


def parse_client_id(raw: str | uuid.UUID) -> uuid.UUID:
    if isinstance(raw, uuid.UUID):
        return raw
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise NotFound("No such client.") from None


async def client_access(
    identity: Identity, client_id: str | uuid.UUID, *, team_only: bool = False
) -> ClientAccess:
    """The caller's access to a client of their practice, or NotFound."""
    cid = parse_client_id(client_id)
    row = await Client.select(Client.id, Client.care_thread).where(
        Client.id == cid, Client.organization == identity.organization_id
    ).first()
    if row is None or row["care_thread"] is None:
        raise NotFound("No such client.")
    status = await Profile.select(Profile.status).where(Profile.id == cid).first()
    if status is None or status["status"] == "removed":
        raise NotFound("No such client.")
    if identity.user_id == cid and not team_only:
        return ClientAccess(cid, identity.organization_id, row["care_thread"], as_team=False)
    if identity.is_staff and await is_care_team(identity, cid):
        return ClientAccess(cid, identity.organization_id, row["care_thread"], as_team=True)
    raise NotFound("No such client.")


async def is_care_team(identity: Identity, client_id: uuid.UUID) -> bool:
    """Owners and admins count as everyone's team; others when primary or on the team."""
    if identity.is_admin:
        return True
    if await Client.exists().where(Client.id == client_id,
                                   Client.primary_provider == identity.user_id):
        return True
    return bool(await CareTeamMember.exists().where(
        CareTeamMember.client == client_id, CareTeamMember.provider == identity.user_id))


async def team_client_ids(identity: Identity) -> list[uuid.UUID]:
    """The clients whose care team the caller is on (every client for owners and admins)."""
    if not identity.is_staff:
        return []
    if identity.is_admin:
        rows = await Client.select(Client.id).where(
            Client.organization == identity.organization_id)
        return [r["id"] for r in rows]
    primary = await Client.select(Client.id).where(
        Client.organization == identity.organization_id,
        Client.primary_provider == identity.user_id)
    team = await CareTeamMember.select(CareTeamMember.client).where(
        CareTeamMember.provider == identity.user_id,
        CareTeamMember.client.organization == identity.organization_id)
    return list(dict.fromkeys([r["id"] for r in primary] + [r["client"] for r in team]))


def team_clients_sql(identity: Identity) -> tuple[str, list[object]]:
    """`team_client_ids` as an SQL subquery (Piccolo `{}` placeholders, and their values), for
    reads that filter a large table by the caller's clients in one statement (the feed).
    The same rule: primary provider or on the care team; owners and admins use no filter."""
    return (
        "SELECT c.id FROM client c WHERE c.organization = {} AND c.primary_provider = {} "
        "UNION SELECT t.client FROM care_team_member t JOIN client tc ON tc.id = t.client "
        "WHERE t.provider = {} AND tc.organization = {}",
        [identity.organization_id, identity.user_id, identity.user_id, identity.organization_id],
    )


async def group_clients_sql(identity: Identity, group_id: str | uuid.UUID
                            ) -> tuple[str, list[object]]:
    """`group_client_ids` as an SQL subquery; another practice's group is 404."""
    from server.onboarding.tables import ClientGroup

    try:
        gid = uuid.UUID(str(group_id))
    except ValueError:
        raise NotFound("No such group.") from None
    if not await ClientGroup.exists().where(
            ClientGroup.id == gid, ClientGroup.organization == identity.organization_id):
        raise NotFound("No such group.")
    return ("SELECT g.id FROM client g WHERE g.client_group = {} AND g.organization = {}",
            [gid, identity.organization_id])


async def group_client_ids(identity: Identity, group_id: str | uuid.UUID) -> list[uuid.UUID]:
    """The clients of a group of the caller's practice; another practice's group is 404."""
    from server.onboarding.tables import ClientGroup

    try:
        gid = uuid.UUID(str(group_id))
    except ValueError:
        raise NotFound("No such group.") from None
    if not await ClientGroup.exists().where(
            ClientGroup.id == gid, ClientGroup.organization == identity.organization_id):
        raise NotFound("No such group.")
    rows = await Client.select(Client.id).where(
        Client.client_group == gid, Client.organization == identity.organization_id)
    return [r["id"] for r in rows]
