"""Groups (one per client, with a shareable sign-up link) and tags (labels for the team)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import msgspec

from server.accounts.tables import Profile
from server.db import is_unique_violation, write_transaction
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.identity import Identity
from server.onboarding.tables import Client, ClientGroup, ClientTag, Tag
from server.settings import Settings
from server.threads import service as threads

GROUP_KINDS = ("care", "prospective")


def join_link(settings: Settings, code: str) -> str:
    return f"{settings.base_url}/join/{code}"


class GroupView(msgspec.Struct):
    """docs/api.md §3 **group**; `client_count` is counted by GET /groups (0 elsewhere)."""

    id: str
    name: str
    kind: str  # care or prospective
    invite_link: str
    client_count: int


class TagView(msgspec.Struct):
    id: str
    name: str


def group_view(settings: Settings, row: dict[str, Any], count: int = 0) -> GroupView:
    return GroupView(
        id=str(row["id"]),
        name=row["name"],
        kind=row["kind"],
        invite_link=join_link(settings, row["invite_code"]),
        client_count=count,
    )


def _clean(name: str, what: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(f"A {what} needs a name.", extra={"field": "name"})
    return name


async def _group_row(identity: Identity, group_id: str) -> dict[str, Any]:
    gid = threads.parse_id(group_id, "group")
    row = await ClientGroup.select().where(
        ClientGroup.id == gid, ClientGroup.organization == identity.organization_id
    ).first()
    if row is None or not identity.is_staff:
        raise NotFound("No such group.")
    return row


async def list_groups(settings: Settings, identity: Identity) -> list[GroupView]:
    if not identity.is_staff:
        raise Forbidden("Only the practice's team can see groups.")
    rows = await ClientGroup.select().where(
        ClientGroup.organization == identity.organization_id
    ).order_by(ClientGroup.name)
    counts = await _client_counts(identity.organization_id)
    return [group_view(settings, r, counts.get(r["id"], 0)) for r in rows]


async def _client_counts(organization_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Clients per group, removed clients aside."""
    counts: dict[uuid.UUID, int] = {}
    members = await Client.select(Client.id, Client.client_group).where(
        Client.organization == organization_id, Client.client_group.is_not_null())
    if not members:
        return counts
    removed = {p["id"] for p in await Profile.select(Profile.id).where(
        Profile.id.is_in([m["id"] for m in members]), Profile.status == "removed")}
    for member in members:
        if member["id"] not in removed:
            counts[member["client_group"]] = counts.get(member["client_group"], 0) + 1
    return counts


async def create_group(
    settings: Settings, identity: Identity, *, name: str, kind: str = "care"
) -> GroupView:
    if not identity.is_admin:
        raise Forbidden("Only owners and admins can create groups.")
    row = ClientGroup(organization=identity.organization_id, name=_clean(name, "group"),
                      kind=kind, invite_code=secrets.token_urlsafe(16))
    try:
        await row.save()
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("A group with this name exists.", code="name_taken") from exc
        raise
    return group_view(settings, row.to_dict())


async def update_group(
    settings: Settings, identity: Identity, group_id: str, *, name: str | None = None,
    kind: str | None = None, rotate_link: bool = False,
) -> GroupView:
    """Rename, change kind, or rotate the sign-up link (the old link stops working at once)."""
    row = await _group_row(identity, group_id)
    if not identity.is_admin:
        raise Forbidden("Only owners and admins can change groups.")
    updates: dict[Any, Any] = {}
    if name is not None:
        updates[ClientGroup.name] = _clean(name, "group")
    if kind is not None:
        updates[ClientGroup.kind] = kind
    if rotate_link:
        updates[ClientGroup.invite_code] = secrets.token_urlsafe(16)
    if updates:
        try:
            await ClientGroup.update(updates).where(ClientGroup.id == row["id"])
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict("A group with this name exists.", code="name_taken") from exc
            raise
    fresh = await ClientGroup.select().where(ClientGroup.id == row["id"]).first()
    assert fresh is not None
    counts = await _client_counts(identity.organization_id)
    return group_view(settings, fresh, counts.get(fresh["id"], 0))


async def delete_group(identity: Identity, group_id: str) -> None:
    """Its clients leave it (each with a `group.changed` in their care thread)."""
    row = await _group_row(identity, group_id)
    if not identity.is_admin:
        raise Forbidden("Only owners and admins can delete groups.")
    events = []
    async with write_transaction():
        members = await Client.select(Client.id, Client.care_thread).where(
            Client.client_group == row["id"])
        await Client.update({Client.client_group: None}).where(Client.client_group == row["id"])
        for client in members:
            events.append(await threads.append_in_transaction(
                client["care_thread"], "group.changed", identity.user_id,
                data={"from": str(row["id"]), "to": None, "to_name": None},
                audience=threads.STAFF,
            ))
        await ClientGroup.delete().where(ClientGroup.id == row["id"])


def tag_view(row: dict[str, Any]) -> TagView:
    return TagView(id=str(row["id"]), name=row["name"])


async def list_tags(identity: Identity) -> list[TagView]:
    if not identity.is_staff:
        raise Forbidden("Only the practice's team can see tags.")
    rows = await Tag.select().where(Tag.organization == identity.organization_id).order_by(
        Tag.name)
    return [tag_view(r) for r in rows]


async def create_tag(identity: Identity, *, name: str) -> TagView:
    if not identity.is_staff:
        raise Forbidden("Only the practice's team can create tags.")
    row = Tag(organization=identity.organization_id, name=_clean(name, "tag"))
    try:
        await row.save()
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("A tag with this name exists.", code="name_taken") from exc
        raise
    return tag_view(row.to_dict())


async def delete_tag(identity: Identity, tag_id: str) -> None:
    tid = threads.parse_id(tag_id, "tag")
    row = await Tag.select().where(Tag.id == tid,
                                   Tag.organization == identity.organization_id).first()
    if row is None or not identity.is_staff:
        raise NotFound("No such tag.")
    if not identity.is_admin:
        raise Forbidden("Only owners and admins can delete tags.")
    async with write_transaction():
        await ClientTag.delete().where(ClientTag.tag == tid)
        await Tag.delete().where(Tag.id == tid)
