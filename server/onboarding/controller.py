"""HTTP for clients, groups, tags, practice settings and group sign-up links."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from server.accounts.controller import DetailOut, SessionOut
from server.auth import session_cookies
from server.identity import Identity
from server.inputs import MAX_BIGINT
from server.onboarding import groups, importer, service
from server.runtime import Runtime

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
Phone = Annotated[str, msgspec.Meta(max_length=40)]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Ids = Annotated[list[uuid.UUID], msgspec.Meta(max_length=50)]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET
InviteState = Literal["none", "not_sent", "sent", "accepted"]


class ClientIn(msgspec.Struct):
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    date_of_birth: date | None = None
    timezone: TimeZone | None = None
    primary_provider_id: uuid.UUID | None = None
    care_team_ids: Ids = msgspec.field(default_factory=list)
    group_id: uuid.UUID | None = None
    tag_ids: Ids = msgspec.field(default_factory=list)
    send_invite: bool = True


class ClientPatch(msgspec.Struct):
    """Only the fields present change; null clears where that makes sense."""

    name: Name | Unset = UNSET
    email: Email | Unset = UNSET
    phone: Phone | Unset | None = UNSET
    date_of_birth: date | Unset | None = UNSET
    timezone: TimeZone | Unset | None = UNSET
    primary_provider_id: uuid.UUID | Unset = UNSET
    care_team_ids: Ids | Unset = UNSET
    group_id: uuid.UUID | Unset | None = UNSET
    tag_ids: Ids | Unset = UNSET


class GroupIn(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    kind: Literal["care", "prospective"] = "care"


class GroupPatch(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    kind: Literal["care", "prospective"] | None = None


class TagIn(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]


class SettingsPatch(msgspec.Struct):
    welcome_enabled: bool | Unset = UNSET
    welcome_text: Annotated[str, msgspec.Meta(max_length=4000)] | Unset = UNSET
    assignment_mode: Literal["round_robin", "named"] | Unset = UNSET
    default_provider_id: uuid.UUID | Unset | None = UNSET


class JoinIn(msgspec.Struct):
    name: Name
    email: Email
    password: Password


class ClientOut(msgspec.Struct):
    client: service.ClientView


class ClientsOut(msgspec.Struct):
    clients: list[service.ClientView]


class GroupOut(msgspec.Struct):
    group: groups.GroupView


class GroupsOut(msgspec.Struct):
    groups: list[groups.GroupView]


class TagOut(msgspec.Struct):
    tag: groups.TagView


class TagsOut(msgspec.Struct):
    tags: list[groups.TagView]


class DeletedOut(msgspec.Struct):
    deleted: str  # the id of what was deleted


class PracticeSettingsOut(msgspec.Struct):
    settings: service.PracticeSettingsView


def _given(data: msgspec.Struct) -> dict[str, Any]:
    return {f: getattr(data, f) for f in data.__struct_fields__
            if getattr(data, f) is not UNSET}


class ClientsController(Controller):
    path = "/api/v1/clients"
    tags = ["clients"]

    @post("/", status_code=HTTP_201_CREATED)
    async def add(self, data: ClientIn, identity: Identity, runtime: Runtime) -> ClientOut:
        """Add a client: care thread, welcome message and (unless declined) an invitation."""
        client = await service.add_client(runtime.settings, identity, service.ClientInput(
            name=data.name, email=data.email, phone=data.phone,
            date_of_birth=data.date_of_birth, timezone=data.timezone,
            primary_provider_id=data.primary_provider_id, care_team_ids=data.care_team_ids,
            group_id=data.group_id, tag_ids=data.tag_ids, send_invite=data.send_invite,
        ))
        return ClientOut(client)

    @get("/")
    async def list(
        self,
        identity: Identity,
        search: Annotated[str | None, Parameter(max_length=200)] = None,
        group_id: uuid.UUID | None = None,
        tag_id: uuid.UUID | None = None,
        primary_provider_id: uuid.UUID | None = None,
        invitation: InviteState | None = None,
        incomplete_intake: bool | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        offset: Annotated[int, Parameter(ge=0, le=MAX_BIGINT)] = 0,
    ) -> ClientsOut:
        """The practice's clients, newest first, with search and filters."""
        return ClientsOut(await service.list_clients(
            identity, search=search, group_id=group_id, tag_id=tag_id,
            primary_provider_id=primary_provider_id, invitation=invitation,
            incomplete_intake=incomplete_intake, limit=limit, offset=offset,
        ))

    @post("/import", status_code=HTTP_200_OK, request_max_body_size=4 * 1024 * 1024,
          responses={201: ResponseSpec(importer.ImportResult, description="Imported")})
    async def import_csv(
        self, request: Request[Any, Any, Any], identity: Identity, runtime: Runtime,
        dry_run: bool = True, send_invites: bool = False,
    ) -> Response[importer.ImportResult]:
        """Import clients from CSV. A dry run reports every row's errors; a real run is
        all-or-nothing."""
        body = await request.body()
        result = await importer.import_clients(
            runtime.settings, identity, body, dry_run=dry_run, send_invites=send_invites
        )
        status = HTTP_201_CREATED if (not dry_run and not result.errors) else HTTP_200_OK
        return Response(result, status_code=status)

    @get("/{client_id:str}")
    async def show(self, client_id: str, identity: Identity) -> ClientOut:
        return ClientOut(await service.get_client(identity, client_id))

    @patch("/{client_id:str}")
    async def edit(
        self, client_id: str, data: ClientPatch, identity: Identity, runtime: Runtime
    ) -> ClientOut:
        """Edit details, care team, group, tags or email (a new email gets a new invitation)."""
        client = await service.update_client(runtime.settings, identity, client_id,
                                             **_given(data))
        return ClientOut(client)

    @post("/{client_id:str}/invitations", status_code=HTTP_201_CREATED)
    async def resend_invitation(
        self, client_id: str, identity: Identity, runtime: Runtime
    ) -> ClientOut:
        """A new invitation email; every earlier link of this client stops working."""
        await service.resend_invitation(runtime.settings, identity, client_id)
        return ClientOut(await service.get_client(identity, client_id))

    @post("/{client_id:str}/password-reset", status_code=HTTP_202_ACCEPTED)
    async def reset_password(
        self, client_id: str, identity: Identity, runtime: Runtime
    ) -> DetailOut:
        """Email the client a password-reset link."""
        await service.reset_client_password(runtime.settings, identity, client_id)
        return DetailOut("A password-reset email is on its way to the client.")


class GroupsController(Controller):
    path = "/api/v1/groups"
    tags = ["groups"]

    @get("/")
    async def list(self, identity: Identity, runtime: Runtime) -> GroupsOut:
        return GroupsOut(await groups.list_groups(runtime.settings, identity))

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, data: GroupIn, identity: Identity, runtime: Runtime
                     ) -> GroupOut:
        return GroupOut(await groups.create_group(runtime.settings, identity, name=data.name,
                                                  kind=data.kind))

    @patch("/{group_id:str}")
    async def edit(self, group_id: str, data: GroupPatch, identity: Identity, runtime: Runtime
                   ) -> GroupOut:
        return GroupOut(await groups.update_group(runtime.settings, identity, group_id,
                                                  name=data.name, kind=data.kind))

    @post("/{group_id:str}/invite-link", status_code=HTTP_201_CREATED)
    async def rotate_link(self, group_id: str, identity: Identity, runtime: Runtime
                          ) -> GroupOut:
        """A new sign-up link for the group; the old one stops working."""
        return GroupOut(await groups.update_group(runtime.settings, identity, group_id,
                                                  rotate_link=True))

    @delete("/{group_id:str}", status_code=HTTP_200_OK)
    async def remove(self, group_id: str, identity: Identity) -> DeletedOut:
        await groups.delete_group(identity, group_id)
        return DeletedOut(group_id)


class TagsController(Controller):
    path = "/api/v1/tags"
    tags = ["tags"]

    @get("/")
    async def list(self, identity: Identity) -> TagsOut:
        return TagsOut(await groups.list_tags(identity))

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, data: TagIn, identity: Identity) -> TagOut:
        return TagOut(await groups.create_tag(identity, name=data.name))

    @delete("/{tag_id:str}", status_code=HTTP_200_OK)
    async def remove(self, tag_id: str, identity: Identity) -> DeletedOut:
        await groups.delete_tag(identity, tag_id)
        return DeletedOut(tag_id)


class PracticeController(Controller):
    path = "/api/v1"
    tags = ["practice"]

    @get("/practice/settings")
    async def get_settings(self, identity: Identity) -> PracticeSettingsOut:
        return PracticeSettingsOut(await service.get_practice_settings(identity))

    @patch("/practice/settings")
    async def edit_settings(self, data: SettingsPatch, identity: Identity
                            ) -> PracticeSettingsOut:
        """Welcome message (on/off, text with {client_first_name}, {practice_name}, ...) and
        how group-link sign-ups get a primary provider."""
        return PracticeSettingsOut(
            await service.update_practice_settings(identity, **_given(data)))

    @get("/join/{code:str}")
    async def join_info(self, code: str) -> service.JoinInfo:
        """What a group sign-up link leads to (public)."""
        return await service.join_info(code)

    @post("/join/{code:str}", status_code=HTTP_201_CREATED)
    async def join(
        self, request: Request[Any, Any, Any], code: str, data: JoinIn, runtime: Runtime
    ) -> Response[SessionOut]:
        """Sign up as a client through a group's link; answers a session (and cookie)."""
        token, user = await service.join_by_link(
            runtime.settings, runtime.passwords, runtime.throttle, code=code, name=data.name,
            email=data.email, password=data.password,
            address=request.client.host if request.client else "unknown",
        )
        return Response(SessionOut(token=token, user=user), status_code=HTTP_201_CREATED,
                        cookies=session_cookies(runtime.settings, token))
