"""Care plans: the team writes a plan for a client from sections (Markdown, sanitised), with
links to the client's goals and tasks, and files (held by the plan: the team reads them, the
client once a version naming them is shared); drafts stay with the team; sharing writes
`care_plan.shared` and the client reads the shared version from then on. Every edit makes a new
version and keeps the earlier ones; the client sees the last shared one until the next share.
Plan templates of the practice are applied to a client by copying them.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import msgspec

from server import clock, richtext
from server.careplans.tables import CarePlan, CarePlanTemplate, CarePlanVersion
from server.db import is_unique_violation, write_transaction
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.files import service as files
from server.files.service import FileView
from server.goals import service as goals
from server.identity import Identity
from server.onboarding import access
from server.tasks import service as tasks
from server.threads import service as threads

MAX_SECTIONS = 50
MAX_FILES = 20
FILE_HOLDER = "care_plan"
DRAFT, SHARED = "draft", "shared"


class SectionIn(msgspec.Struct):
    title: str
    body: str = ""


class Section(msgspec.Struct):
    title: str
    body: str  # Markdown, as written
    html: str  # the sanitised rendering


class CarePlanView(msgspec.Struct):
    id: str
    client_id: str
    title: str
    status: str  # draft (never shared) | shared
    version: int
    shared_version: int | None
    shared_at: datetime | None
    has_unshared_changes: bool
    sections: list[Section]
    goal_ids: list[str]
    task_ids: list[str]
    file_ids: list[str]
    created_at: datetime
    updated_at: datetime
    files: list[FileView] = msgspec.field(default_factory=list)


class VersionView(msgspec.Struct):
    version: int
    title: str
    created_at: datetime
    created_by: str | None
    shared_at: datetime | None


class PlanTemplateView(msgspec.Struct):
    id: str
    title: str
    sections: list[Section]
    created_at: datetime


def _load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def sections_of(raw: list[SectionIn]) -> list[Section]:
    if len(raw) > MAX_SECTIONS:
        raise InvalidInput(f"At most {MAX_SECTIONS} sections.", extra={"field": "sections"})
    return [Section(title=" ".join(s.title.split()), body=s.body,
                    html=await richtext.render_async(s.body)) for s in raw]


def _sections_json(sections: list[Section]) -> str:
    return msgspec.json.encode(sections).decode()


def _sections_from(value: Any) -> list[Section]:
    return msgspec.convert(_load(value) or [], list[Section])


def _title(raw: str) -> str:
    title = " ".join(raw.split())
    if not title:
        raise InvalidInput("A care plan needs a title.", extra={"field": "title"})
    return title


def _file_ids(version: dict[str, Any]) -> list[uuid.UUID]:
    return [uuid.UUID(str(i)) for i in _load(version.get("file_ids")) or []]


async def plan_view(plan: dict[str, Any], version: dict[str, Any], *, for_client: bool
                    ) -> CarePlanView:
    shared = plan["shared_version"]
    ids = _file_ids(version)
    views = await files.views_of(ids)
    return CarePlanView(
        id=str(plan["id"]), client_id=str(plan["client"]), title=version["title"],
        status=SHARED if shared is not None else DRAFT, version=version["version"],
        shared_version=shared, shared_at=plan["shared_at"],
        has_unshared_changes=False if for_client else shared != plan["current_version"],
        sections=_sections_from(version["sections"]),
        goal_ids=list(_load(version["goal_ids"]) or []),
        task_ids=list(_load(version["task_ids"]) or []),
        file_ids=[str(i) for i in ids if i in views], files=[views[i] for i in ids if i in views],
        created_at=plan["created_at"], updated_at=plan["updated_at"])


async def _check_links(who: access.ClientAccess, goal_ids: list[uuid.UUID],
                       task_ids: list[uuid.UUID]) -> None:
    """Links name the same client's goals and tasks; anything else is not found. (Files are
    held inside the write transaction: `_hold_files`.)"""
    if not await goals.ids_of_client(who.client_id, list(goal_ids)):
        raise NotFound("No such goal for this client.")
    if not await tasks.ids_of_client(who.client_id, list(task_ids)):
        raise NotFound("No such task for this client.")


async def _hold_files(identity: Identity, plan_id: uuid.UUID, file_ids: list[uuid.UUID]
                      ) -> str:
    """Inside the write transaction: the version's files, as JSON. A file the plan holds
    already stays; a new one must be the caller's own unattached upload (another practice's,
    another person's or a used one is not found, and nothing is written)."""
    if len(set(file_ids)) > MAX_FILES:
        raise InvalidInput(f"At most {MAX_FILES} files.", extra={"field": "file_ids"})
    rows = await files.hold_in_transaction(identity, file_ids, kind=FILE_HOLDER,
                                           holder_id=plan_id)
    return json.dumps([str(r["id"]) for r in rows])


async def _may_read_file(identity: Identity, plan_id: uuid.UUID, file_id: uuid.UUID) -> bool:
    """Who reads a plan's file: the client's care team; the client once a version naming it
    has been shared (a draft's files stay with the team, like the draft)."""
    plan = await CarePlan.select(CarePlan.client).where(
        CarePlan.id == plan_id, CarePlan.organization == identity.organization_id).first()
    if plan is None:
        return False
    try:
        who = await access.client_access(identity, plan["client"])
    except NotFound:
        return False
    query = CarePlanVersion.select(CarePlanVersion.file_ids).where(
        CarePlanVersion.care_plan == plan_id)
    if not who.as_team:
        query = query.where(CarePlanVersion.shared_at.is_not_null())
    return any(file_id in _file_ids(v) for v in await query)


files.register_holder(FILE_HOLDER, _may_read_file)


async def create_care_plan(
    identity: Identity, client_id: str, *, title: str | None, sections: list[SectionIn] | None,
    goal_ids: list[uuid.UUID], task_ids: list[uuid.UUID], file_ids: list[uuid.UUID],
    template_id: uuid.UUID | None = None,
) -> CarePlanView:
    """A draft plan for a client (from a template: a copy of its sections)."""
    who = await access.client_access(identity, client_id, team_only=True)
    if template_id is not None:
        template = await CarePlanTemplate.select().where(
            CarePlanTemplate.id == template_id,
            CarePlanTemplate.organization == identity.organization_id).first()
        if template is None:
            raise NotFound("No such care plan template.")
        title = title or template["title"]
        copied = _sections_from(template["sections"])
        parsed = await sections_of(sections) if sections is not None else copied
    else:
        if title is None or sections is None:
            raise InvalidInput("A care plan needs a title and sections.",
                               extra={"field": "title" if title is None else "sections"})
        parsed = await sections_of(sections)
    title = _title(title or "")
    goal_ids, task_ids = list(dict.fromkeys(goal_ids)), list(dict.fromkeys(task_ids))
    await _check_links(who, goal_ids, task_ids)
    now = clock.now()
    plan: dict[str, Any] = {
        "id": uuid.uuid4(), "organization": who.organization_id, "client": who.client_id,
        "title": title, "current_version": 1, "shared_version": None, "shared_at": None,
            "created_by": identity.user_id, "created_at": now, "updated_at": now}
    version: dict[str, Any] = {
        "id": uuid.uuid4(), "care_plan": plan["id"], "version": 1, "title": title,
        "sections": _sections_json(parsed),
               "goal_ids": json.dumps([str(g) for g in goal_ids]),
               "task_ids": json.dumps([str(t) for t in task_ids]), "shared_at": None,
               "created_by": identity.user_id, "created_at": now}
    async with write_transaction():
        await CarePlan.insert(CarePlan(**plan))
        version["file_ids"] = await _hold_files(identity, plan["id"], list(file_ids))
        await CarePlanVersion.insert(CarePlanVersion(**version))
    return await plan_view(plan, version, for_client=False)


async def _plan_for(identity: Identity, plan_id: str) -> tuple[dict[str, Any],
                                                               access.ClientAccess]:
    pid = threads.parse_id(plan_id, "care plan")
    plan = await CarePlan.select().where(
        CarePlan.id == pid, CarePlan.organization == identity.organization_id).first()
    if plan is None:
        raise NotFound("No such care plan.")
    try:
        who = await access.client_access(identity, plan["client"])
    except NotFound:
        raise NotFound("No such care plan.") from None
    if not who.as_team and plan["shared_version"] is None:
        raise NotFound("No such care plan.")  # a draft stays with the team
    return plan, who


async def _version(plan_id: uuid.UUID, number: int) -> dict[str, Any]:
    row = await CarePlanVersion.select().where(CarePlanVersion.care_plan == plan_id,
                                               CarePlanVersion.version == number).first()
    if row is None:
        raise NotFound("No such version of this care plan.")
    return row


async def get_care_plan(identity: Identity, plan_id: str, version: int | None = None
                        ) -> CarePlanView:
    """The team reads any version (the latest by default); the client the shared ones."""
    plan, who = await _plan_for(identity, plan_id)
    if who.as_team:
        row = await _version(plan["id"], version or plan["current_version"])
    else:
        row = await _version(plan["id"], version or plan["shared_version"])
        if row["shared_at"] is None:
            raise NotFound("No such version of this care plan.")
    return await plan_view(plan, row, for_client=not who.as_team)


async def list_care_plans(identity: Identity, client_id: str) -> list[CarePlanView]:
    who = await access.client_access(identity, client_id)
    query = CarePlan.select().where(CarePlan.client == who.client_id,
                                    CarePlan.organization == who.organization_id)
    if not who.as_team:
        query = query.where(CarePlan.shared_version.is_not_null())
    views = []
    for plan in await query.order_by(CarePlan.created_at, ascending=False):
        number = plan["current_version"] if who.as_team else plan["shared_version"]
        views.append(await plan_view(plan, await _version(plan["id"], number),
                                     for_client=not who.as_team))
    return views


async def list_versions(identity: Identity, plan_id: str) -> list[VersionView]:
    plan, who = await _plan_for(identity, plan_id)
    query = CarePlanVersion.select().where(CarePlanVersion.care_plan == plan["id"])
    if not who.as_team:
        query = query.where(CarePlanVersion.shared_at.is_not_null())
    rows = await query.order_by(CarePlanVersion.version, ascending=False)
    return [VersionView(version=r["version"], title=r["title"], created_at=r["created_at"],
                        created_by=str(r["created_by"]) if r["created_by"] else None,
                        shared_at=r["shared_at"]) for r in rows]


def _require_team(who: access.ClientAccess) -> None:
    if not who.as_team:
        raise Forbidden("Only the client's care team can change a care plan.")


async def update_care_plan(
    identity: Identity, plan_id: str, *, title: str | None = None,
    sections: list[SectionIn] | None = None, goal_ids: list[uuid.UUID] | None = None,
    task_ids: list[uuid.UUID] | None = None, file_ids: list[uuid.UUID] | None = None,
) -> CarePlanView:
    """An edit is a new version; the earlier ones stay readable. The client keeps reading the
    shared version until the plan is shared again."""
    plan, who = await _plan_for(identity, plan_id)
    _require_team(who)
    current = await _version(plan["id"], plan["current_version"])
    new_title = _title(title) if title is not None else current["title"]
    new_sections = (_sections_json(await sections_of(sections)) if sections is not None
                    else current["sections"])
    goal_list = (list(dict.fromkeys(goal_ids)) if goal_ids is not None
                 else [uuid.UUID(g) for g in _load(current["goal_ids"]) or []])
    task_list = (list(dict.fromkeys(task_ids)) if task_ids is not None
                 else [uuid.UUID(t) for t in _load(current["task_ids"]) or []])
    await _check_links(who, goal_list if goal_ids is not None else [],
                       task_list if task_ids is not None else [])
    file_list = (list(dict.fromkeys(file_ids)) if file_ids is not None
                 else _file_ids(current))
    now = clock.now()
    number = plan["current_version"] + 1
    version = {"id": uuid.uuid4(), "care_plan": plan["id"], "version": number,
               "title": new_title, "sections": new_sections,
               "goal_ids": json.dumps([str(g) for g in goal_list]),
               "task_ids": json.dumps([str(t) for t in task_list]), "shared_at": None,
               "created_by": identity.user_id, "created_at": now}
    try:
        async with write_transaction():
            bumped = await CarePlan.update({
                CarePlan.current_version: number, CarePlan.title: new_title,
                CarePlan.updated_at: now,
            }).where(CarePlan.id == plan["id"],
                     CarePlan.current_version == plan["current_version"]).returning(
                CarePlan.id)
            if not bumped:
                raise Conflict("Someone else changed this plan; reload it.",
                               code="edit_conflict")
            version["file_ids"] = await _hold_files(identity, plan["id"], file_list)
            await CarePlanVersion.insert(CarePlanVersion(**version))
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("Someone else changed this plan; reload it.",
                           code="edit_conflict") from None
        raise
    plan = {**plan, "current_version": number, "title": new_title, "updated_at": now}
    return await plan_view(plan, version, for_client=False)


async def share_care_plan(identity: Identity, plan_id: str) -> CarePlanView:
    """Share the latest version: `care_plan.shared`; the client can read it from now on."""
    plan, who = await _plan_for(identity, plan_id)
    _require_team(who)
    now = clock.now()
    number = plan["current_version"]
    async with write_transaction():
        changed = await CarePlan.update({
            CarePlan.shared_version: number, CarePlan.shared_at: now,
        }).where(CarePlan.id == plan["id"], CarePlan.current_version == number,
                 (CarePlan.shared_version.is_null()) | (CarePlan.shared_version != number)
                 ).returning(CarePlan.id)
        if changed:
            await CarePlanVersion.update({CarePlanVersion.shared_at: now}).where(
                CarePlanVersion.care_plan == plan["id"], CarePlanVersion.version == number)
            await threads.append_in_transaction(
                who.care_thread_id, "care_plan.shared", identity.user_id,
                data={"care_plan_id": str(plan["id"]), "title": plan["title"],
                      "version": number})
    return await get_care_plan(identity, plan_id)


# --- templates ---------------------------------------------------------------------------------


def _template_view(row: dict[str, Any]) -> PlanTemplateView:
    return PlanTemplateView(id=str(row["id"]), title=row["title"],
                            sections=_sections_from(row["sections"]),
                            created_at=row["created_at"])


def _team(identity: Identity) -> None:
    if not identity.is_staff:
        raise NotFound("Not found.")


async def create_template(identity: Identity, *, title: str, sections: list[SectionIn]
                          ) -> PlanTemplateView:
    _team(identity)
    row: dict[str, Any] = {"id": uuid.uuid4(), "organization": identity.organization_id,
           "title": _title(title), "sections": _sections_json(await sections_of(sections)),
           "created_by": identity.user_id, "created_at": clock.now()}
    await CarePlanTemplate.insert(CarePlanTemplate(**row))
    return _template_view(row)


async def list_templates(identity: Identity) -> list[PlanTemplateView]:
    _team(identity)
    rows = await CarePlanTemplate.select().where(
        CarePlanTemplate.organization == identity.organization_id).order_by(
        CarePlanTemplate.title)
    return [_template_view(r) for r in rows]


async def delete_template(identity: Identity, template_id: str) -> None:
    _team(identity)
    tid = threads.parse_id(template_id, "care plan template")
    where = ((CarePlanTemplate.id == tid)
             & (CarePlanTemplate.organization == identity.organization_id))
    if not await CarePlanTemplate.exists().where(where):
        raise NotFound("No such care plan template.")
    await CarePlanTemplate.delete().where(where)
