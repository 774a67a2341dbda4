"""HTTP for care plans and the practice's plan templates."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.careplans import service
from server.careplans.service import CarePlanView, PlanTemplateView, SectionIn, VersionView
from server.identity import Identity

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Ids = Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)]


class SectionBody(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(max_length=200)]
    body: Annotated[str, msgspec.Meta(max_length=20_000)] = ""


Sections = Annotated[list[SectionBody], msgspec.Meta(max_length=50)]


class PlanIn(msgspec.Struct):
    title: Title | None = None
    sections: Sections | None = None
    goal_ids: Ids = msgspec.field(default_factory=list)
    task_ids: Ids = msgspec.field(default_factory=list)
    file_ids: Ids = msgspec.field(default_factory=list)
    template_id: uuid.UUID | None = None


class PlanPatch(msgspec.Struct):
    title: Title | None = None
    sections: Sections | None = None
    goal_ids: Ids | None = None
    task_ids: Ids | None = None
    file_ids: Ids | None = None


class PlanTemplateIn(msgspec.Struct):
    title: Title
    sections: Sections


class PlanAnswer(msgspec.Struct):
    care_plan: CarePlanView


class PlansAnswer(msgspec.Struct):
    care_plans: list[CarePlanView]


class VersionsAnswer(msgspec.Struct):
    versions: list[VersionView]


class PlanTemplateAnswer(msgspec.Struct):
    template: PlanTemplateView


class PlanTemplatesAnswer(msgspec.Struct):
    templates: list[PlanTemplateView]


def _sections(raw: list[SectionBody] | None) -> list[SectionIn] | None:
    return None if raw is None else [SectionIn(title=s.title, body=s.body) for s in raw]


class CarePlansController(Controller):
    path = "/api/v1"
    tags = ["care between visits"]

    @post("/clients/{client_id:str}/care-plans", status_code=HTTP_201_CREATED,
          request_max_body_size=1024 * 1024)
    async def create(self, client_id: str, data: PlanIn, identity: Identity) -> PlanAnswer:
        """A draft plan (or a copy of a template); sections are Markdown, sanitised."""
        return PlanAnswer(await service.create_care_plan(
            identity, client_id, title=data.title, sections=_sections(data.sections),
            goal_ids=data.goal_ids, task_ids=data.task_ids, file_ids=data.file_ids,
            template_id=data.template_id))

    @get("/clients/{client_id:str}/care-plans")
    async def list(self, client_id: str, identity: Identity) -> PlansAnswer:
        """The team: every plan, latest version; the client: shared plans only."""
        return PlansAnswer(await service.list_care_plans(identity, client_id))

    @get("/care-plans/{plan_id:str}")
    async def show(self, plan_id: str, identity: Identity,
                   version: Annotated[int | None, Parameter(ge=1)] = None) -> PlanAnswer:
        """The client gets 404 until it is shared, and then the shared version."""
        return PlanAnswer(await service.get_care_plan(identity, plan_id, version))

    @patch("/care-plans/{plan_id:str}", request_max_body_size=1024 * 1024)
    async def edit(self, plan_id: str, data: PlanPatch, identity: Identity) -> PlanAnswer:
        """An edit is a new version; the earlier ones are kept."""
        return PlanAnswer(await service.update_care_plan(
            identity, plan_id, title=data.title, sections=_sections(data.sections),
            goal_ids=data.goal_ids, task_ids=data.task_ids, file_ids=data.file_ids))

    @get("/care-plans/{plan_id:str}/versions")
    async def versions(self, plan_id: str, identity: Identity) -> VersionsAnswer:
        return VersionsAnswer(await service.list_versions(identity, plan_id))

    @post("/care-plans/{plan_id:str}/share", status_code=HTTP_200_OK)
    async def share(self, plan_id: str, identity: Identity) -> PlanAnswer:
        """`care_plan.shared`; the client can read this version from now on."""
        return PlanAnswer(await service.share_care_plan(identity, plan_id))

    @get("/care-plan-templates")
    async def templates(self, identity: Identity) -> PlanTemplatesAnswer:
        return PlanTemplatesAnswer(await service.list_templates(identity))

    @post("/care-plan-templates", status_code=HTTP_201_CREATED,
          request_max_body_size=1024 * 1024)
    async def create_template(self, data: PlanTemplateIn, identity: Identity
                              ) -> PlanTemplateAnswer:
        return PlanTemplateAnswer(await service.create_template(
            identity, title=data.title, sections=_sections(data.sections) or []))

    @delete("/care-plan-templates/{template_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete_template(self, template_id: str, identity: Identity) -> None:
        await service.delete_template(identity, template_id)
