"""HTTP for forms, form requests, intake flows and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, patch, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server.forms import fhir, service, views
from server.identity import Identity
from server.inputs import MAX_INT
from server.runtime import Runtime

Items = Annotated[list[dict[str, Any]], msgspec.Meta(max_length=200)]
Variables = Annotated[list[dict[str, Any]], msgspec.Meta(max_length=20)]
Ids = Annotated[list[uuid.UUID], msgspec.Meta(max_length=1000)]
Coding = dict[str, str]


class FormIn(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    items: Items
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    code: Coding | None = None
    score_code: Coding | None = None
    variables: Variables | None = None


class FormPatch(msgspec.Struct):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    items: Items | None = None
    archived: bool | None = None
    variables: Variables | None = None


class RequestIn(msgspec.Struct):
    form_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=20)]
    client_ids: Ids = msgspec.field(default_factory=list)
    group_id: uuid.UUID | None = None
    due_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    notify: bool = False


class AnswersIn(msgspec.Struct):
    answers: dict[str, Any]


class FlowIn(msgspec.Struct):
    form_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)]
    group_id: uuid.UUID | None = None


class FormOut(msgspec.Struct):
    form: views.FormView


class FormsOut(msgspec.Struct):
    forms: list[views.FormView]


class RequestOut(msgspec.Struct):
    request: views.FormRequestView


class RequestsOut(msgspec.Struct):
    requests: list[views.FormRequestView]


class FlowOut(msgspec.Struct):
    flow: views.IntakeFlowView


class FlowsOut(msgspec.Struct):
    flows: list[views.IntakeFlowView]


class AuditOut(msgspec.Struct):
    entries: list[views.AuditEntryView]


class FormsController(Controller):
    path = "/api/v1/forms"
    tags = ["forms"]

    @get("/")
    async def list(self, identity: Identity) -> FormsOut:
        return FormsOut(await service.list_forms(identity))

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, data: FormIn, identity: Identity) -> FormOut:
        """Build a form from typed questions (see docs/api.md for the item schema)."""
        return FormOut(await service.create_form(
            identity, title=data.title, items=data.items, description=data.description,
            code=data.code, score_code=data.score_code, variables=data.variables))

    @post("/import-fhir", status_code=HTTP_201_CREATED, request_max_body_size=1024 * 1024)
    async def import_fhir(self, data: dict[str, Any], identity: Identity) -> FormOut:
        """Create a form from a FHIR R4 Questionnaire."""
        return FormOut(await service.import_fhir(identity, data))

    @get("/{form_id:str}")
    async def show(self, form_id: str, identity: Identity,
                   version: Annotated[int | None, Parameter(ge=1, le=MAX_INT)] = None
                   ) -> FormOut:
        return FormOut(await service.get_form(identity, form_id, version))

    @patch("/{form_id:str}")
    async def edit(self, form_id: str, data: FormPatch, identity: Identity) -> FormOut:
        """New questions make a new version; answers already given keep theirs."""
        return FormOut(await service.update_form(
            identity, form_id, title=data.title, description=data.description,
            items=data.items, archived=data.archived, variables=data.variables))

    @get("/{form_id:str}/fhir")
    async def export_fhir(self, form_id: str, identity: Identity, runtime: Runtime,
                          version: Annotated[int | None, Parameter(ge=1, le=MAX_INT)] = None
                          ) -> fhir.FhirQuestionnaire:
        """The form as a FHIR R4 Questionnaire."""
        return await service.export_fhir(runtime.settings, identity, form_id, version)


class FormRequestsController(Controller):
    path = "/api/v1/form-requests"
    tags = ["forms"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, data: RequestIn, identity: Identity, runtime: Runtime
                     ) -> RequestsOut:
        """Request forms from clients (or a whole group): a `form.requested` card each."""
        return RequestsOut(await service.request_forms(
            runtime.settings, identity, form_ids=data.form_ids, client_ids=data.client_ids,
            group_id=data.group_id, due_at=data.due_at, notify=data.notify))

    @get("/")
    async def list(
        self, identity: Identity, client_id: uuid.UUID | None = None,
        status: Literal["open", "completed", "cancelled"] | None = None,
        overdue: bool | None = None, form_id: uuid.UUID | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 200,
    ) -> RequestsOut:
        """Tracking: open, completed and overdue requests (a client sees their own)."""
        return RequestsOut(await service.list_requests(
            identity, client_id=client_id, status=status, overdue=overdue, form_id=form_id,
            limit=limit))

    @get("/{request_id:str}")
    async def show(self, request_id: str, identity: Identity) -> RequestOut:
        """The questions, and the answers for the client or the care team (audited)."""
        return RequestOut(await service.get_request(identity, request_id))

    @put("/{request_id:str}/draft")
    async def save_draft(self, request_id: str, data: AnswersIn, identity: Identity
                         ) -> views.DraftSaved:
        return await service.save_draft(identity, request_id, data.answers)

    @post("/{request_id:str}/calculate", status_code=HTTP_200_OK)
    async def calculate(self, request_id: str, data: AnswersIn, identity: Identity
                        ) -> views.Calculated:
        """The calculated items' values for these answers (nothing saved): the live view."""
        return await service.calculate(identity, request_id, data.answers)

    @post("/{request_id:str}/submit", status_code=HTTP_200_OK)
    async def submit(self, request_id: str, data: AnswersIn, identity: Identity
                     ) -> views.StatusChanged:
        return await service.submit(identity, request_id, data.answers)

    @post("/{request_id:str}/cancel", status_code=HTTP_200_OK)
    async def cancel(self, request_id: str, identity: Identity) -> views.StatusChanged:
        return await service.cancel(identity, request_id)

    @post("/{request_id:str}/remind", status_code=HTTP_200_OK)
    async def remind(self, request_id: str, identity: Identity, runtime: Runtime
                     ) -> views.Reminded:
        return await service.remind(runtime.settings, identity, request_id)

    @get("/{request_id:str}/export")
    async def export(self, request_id: str, identity: Identity, runtime: Runtime,
                     format: Literal["json", "fhir"] = "json"
                     ) -> views.FormRequestView | fhir.FhirQuestionnaireResponse:
        """A completed response as JSON or a FHIR QuestionnaireResponse (audited)."""
        return await service.export_response(runtime.settings, identity, request_id, format)


class IntakeController(Controller):
    path = "/api/v1"
    tags = ["forms"]

    @put("/intake-flows")
    async def set_flow(self, data: FlowIn, identity: Identity) -> FlowOut:
        """The forms asked of a client joining `group_id` (null: any new client)."""
        return FlowOut(await service.set_intake_flow(identity, data.group_id, data.form_ids))

    @get("/intake-flows")
    async def list_flows(self, identity: Identity) -> FlowsOut:
        """Every intake flow of the practice (group_id null: the practice default)."""
        return FlowsOut(await service.list_intake_flows(identity))

    @get("/audit")
    async def audit(self, identity: Identity, client_id: uuid.UUID | None = None
                    ) -> AuditOut:
        """Who viewed or exported which form responses, and when (admins)."""
        return AuditOut(await service.audit_log(identity, client_id=client_id))
