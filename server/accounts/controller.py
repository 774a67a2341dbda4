"""HTTP for practices, sessions, invitations and bots: parse, call the service, serialize."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_202_ACCEPTED,
    HTTP_204_NO_CONTENT,
)

from server.accounts import service
from server.auth import clear_session_cookies, session_cookies
from server.errors import NotFound
from server.identity import Identity
from server.onboarding import service as onboarding
from server.runtime import Runtime

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class OwnerIn(msgspec.Struct):
    name: Name
    email: Email
    password: Password


class CreateOrganizationIn(msgspec.Struct):
    name: Name
    owner: OwnerIn


class LoginIn(msgspec.Struct):
    email: Email
    password: Password
    profile_id: uuid.UUID | None = None


class InviteStaffIn(msgspec.Struct):
    name: Name
    email: Email
    role: Literal["provider", "admin", "staff"] = "provider"


class AcceptInvitationIn(msgspec.Struct):
    token: Token
    password: Password


class CreateBotIn(msgspec.Struct):
    name: Name


class ForgotIn(msgspec.Struct):
    email: Email


class ResetIn(msgspec.Struct):
    token: Token
    password: Password


class ChangePasswordIn(msgspec.Struct):
    current_password: Password
    new_password: Password


class SwitchIn(msgspec.Struct):
    profile_id: uuid.UUID


class DetailOut(msgspec.Struct):
    detail: str


class SessionOut(msgspec.Struct):
    """A new session: its token (also set as cookies) and the profile it acts as."""

    token: str
    user: service.UserView


class OrganizationCreatedOut(msgspec.Struct):
    organization: service.OrganizationView
    user: service.UserView
    token: str


class LoginOut(msgspec.Struct):
    token: str
    user: service.UserView
    profiles: list[service.ProfileView]


class UserOut(msgspec.Struct):
    user: service.UserView


class UsersOut(msgspec.Struct):
    users: list[service.UserView]


class InvitationOut(msgspec.Struct):
    invitation: service.InvitationPreview


class BotOut(msgspec.Struct):
    """The bot's token is shown only here."""

    user: service.UserView
    token: str


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class AccountsController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @post("/organizations", status_code=HTTP_201_CREATED)
    async def create_organization(
        self, data: CreateOrganizationIn, runtime: Runtime
    ) -> Response[OrganizationCreatedOut]:
        """Create a practice and its first owner; answers a session token (and cookie)."""
        org, user, token = await service.create_organization(
            runtime.settings, runtime.passwords, name=data.name, owner_name=data.owner.name,
            email=data.owner.email, password=data.owner.password,
        )
        return Response(
            OrganizationCreatedOut(organization=org, user=user, token=token),
            status_code=HTTP_201_CREATED,
            cookies=session_cookies(runtime.settings, token),
        )

    @post("/sessions", status_code=HTTP_201_CREATED)
    async def login(
        self, request: Request[Any, Any, Any], data: LoginIn, runtime: Runtime
    ) -> Response[LoginOut]:
        """Log in with email and password; lists every profile of this login."""
        token, user, profiles = await service.login(
            runtime.settings, runtime.passwords, runtime.throttle, email=data.email,
            password=data.password, address=_address(request), profile_id=data.profile_id,
        )
        return Response(
            LoginOut(token=token, user=user, profiles=profiles),
            status_code=HTTP_201_CREATED,
            cookies=session_cookies(runtime.settings, token),
        )

    @delete("/sessions/current", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, identity: Identity) -> Response[None]:
        """End this session; its token stops working at once."""
        await service.logout(identity)
        response: Response[None] = Response(None, status_code=HTTP_204_NO_CONTENT)
        clear_session_cookies(response)
        return response

    @post("/sessions/switch", status_code=HTTP_201_CREATED)
    async def switch(
        self, data: SwitchIn, identity: Identity, runtime: Runtime
    ) -> Response[SessionOut]:
        """Move to another profile (practice) of the same login; this session's token ends."""
        token, user = await service.switch_profile(runtime.settings, identity, data.profile_id)
        return Response(SessionOut(token=token, user=user), status_code=HTTP_201_CREATED,
                        cookies=session_cookies(runtime.settings, token))

    @post("/password/forgot", status_code=HTTP_202_ACCEPTED)
    async def forgot_password(
        self, request: Request[Any, Any, Any], data: ForgotIn, runtime: Runtime
    ) -> DetailOut:
        """The same answer for known and unknown emails."""
        await service.forgot_password(runtime.settings, runtime.throttle, data.email,
                                      _address(request))
        return DetailOut("If this email has a Carethread login, a reset link is on its way.")

    @post("/password/reset", status_code=HTTP_204_NO_CONTENT)
    async def reset_password(self, data: ResetIn, runtime: Runtime) -> None:
        """Spend a reset link; every session of the login ends."""
        await service.reset_password(runtime.passwords, token=data.token,
                                     password=data.password)

    @post("/password/change", status_code=HTTP_204_NO_CONTENT)
    async def change_password(
        self, request: Request[Any, Any, Any], data: ChangePasswordIn, identity: Identity,
        runtime: Runtime,
    ) -> None:
        """Change the password; every other session of the login ends."""
        await service.change_password(runtime.passwords, runtime.throttle, identity,
                                      current=data.current_password, new=data.new_password,
                                      address=_address(request))

    @get("/me")
    async def me(self, identity: Identity) -> service.MeView:
        return await service.me(identity)

    @post("/providers", status_code=HTTP_201_CREATED)
    async def invite_provider(
        self, data: InviteStaffIn, identity: Identity, runtime: Runtime
    ) -> UserOut:
        """Owners and admins add a team member, who gets an invitation email."""
        user = await service.invite_staff(
            runtime.settings, identity, name=data.name, email=data.email, role=data.role
        )
        return UserOut(user)

    @get("/invitations/{token:str}")
    async def preview_invitation(self, token: str) -> InvitationOut:
        """What an invitation link leads to (no auth; the token is the key)."""
        if len(token) > 200:
            raise NotFound("This invitation link is not valid.", code="invitation_invalid")
        return InvitationOut(await service.preview_invitation(token))

    @post("/invitations/accept", status_code=HTTP_201_CREATED)
    async def accept_invitation(
        self, request: Request[Any, Any, Any], data: AcceptInvitationIn, runtime: Runtime
    ) -> Response[SessionOut]:
        """Spend an invitation link: set a password (or confirm an existing login's)."""
        token, user = await onboarding.accept_invitation(
            runtime.settings, runtime.passwords, runtime.throttle, token=data.token,
            password=data.password, address=_address(request),
        )
        return Response(
            SessionOut(token=token, user=user),
            status_code=HTTP_201_CREATED,
            cookies=session_cookies(runtime.settings, token),
        )

    @get("/team")
    async def team(self, identity: Identity) -> UsersOut:
        """The practice's team (everyone but clients), for staff."""
        return UsersOut(await service.list_team(identity))

    @delete("/team/{user_id:str}", status_code=HTTP_200_OK)
    async def remove_from_team(self, user_id: str, identity: Identity) -> UserOut:
        """Owners and admins remove someone: sessions end, sockets close, links die."""
        try:
            uid = uuid.UUID(user_id)
        except ValueError:
            raise NotFound("No such user in this practice.") from None
        return UserOut(await service.remove_from_practice(identity, uid))

    @post("/team/{user_id:str}/invitations", status_code=HTTP_201_CREATED)
    async def resend_team_invitation(
        self, user_id: str, identity: Identity, runtime: Runtime
    ) -> UserOut:
        """Owners and admins send a team member who has not joined a new invitation email;
        every earlier link of theirs stops working."""
        try:
            uid = uuid.UUID(user_id)
        except ValueError:
            raise NotFound("No such team member in this practice.") from None
        return UserOut(await service.resend_staff_invitation(runtime.settings, identity, uid))

    @post("/bots", status_code=HTTP_201_CREATED)
    async def create_bot(
        self, data: CreateBotIn, identity: Identity, runtime: Runtime
    ) -> BotOut:
        """Owners and admins add a bot; its token is shown only in this answer."""
        user, token = await service.create_bot(runtime.settings, identity, name=data.name)
        return BotOut(user=user, token=token)
