"""HTTP for people's photos: set and remove one's own, remove anyone's (owners, admins), read
one (whoever may see the person)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, put
from litestar.response import Response
from litestar.status_codes import HTTP_204_NO_CONTENT

from server.accounts.controller import UserOut
from server.files import avatars
from server.files.controller import _download_response
from server.identity import Identity
from server.runtime import Runtime


class AvatarIn(msgspec.Struct):
    file_id: uuid.UUID  # an image the caller uploaded with POST /files, not attached yet


class AvatarsController(Controller):
    path = "/api/v1"
    tags = ["files"]

    @put("/me/avatar")
    async def set_mine(self, data: AvatarIn, identity: Identity, runtime: Runtime
                       ) -> UserOut:
        """Your photo: a square cut of an image you uploaded (the upload is used up). 415
        `unsupported_media_type` for a file that is not an image; 404 for a file that is not
        your own unattached upload."""
        return UserOut(await avatars.set_avatar(identity, runtime.settings, data.file_id))

    @delete("/me/avatar", status_code=HTTP_204_NO_CONTENT)
    async def remove_mine(self, identity: Identity) -> None:
        """Back to initials."""
        await avatars.remove_avatar(identity, identity.user_id)

    @delete("/users/{user_id:str}/avatar", status_code=HTTP_204_NO_CONTENT)
    async def remove(self, user_id: str, identity: Identity) -> None:
        """Owners and admins remove anyone's photo of their practice (and anyone their own)."""
        await avatars.remove_avatar(identity, user_id)

    @get("/users/{user_id:str}/avatar")
    async def show(self, user_id: str, identity: Identity,
                   request: Request[Any, Any, Any]) -> Response[Any]:
        """The person's photo (JPEG, square); 404 without one, or for anyone who may not see
        the person."""
        return _download_response(await avatars.open_avatar(
            identity, user_id, if_none_match=request.headers.get("if-none-match")))
