"""HTTP for notification settings, and the unsubscribe link that works without logging in."""

from __future__ import annotations

import html
from typing import Annotated

import msgspec
from litestar import Controller, MediaType, Response, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK

from server.identity import Identity
from server.notifications import service
from server.runtime import Runtime

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
Token = Annotated[str, Parameter(min_length=1, max_length=200)]


class NotificationsOut(msgspec.Struct):
    notifications: service.Notifications


class NotificationsController(Controller):
    path = "/api/v1/me/notifications"
    tags = ["notifications"]

    @get("/")
    async def show(self, identity: Identity) -> NotificationsOut:
        """`email`: `unread` (an email when messages stay unread) or `off`."""
        return NotificationsOut(await service.get_settings(identity))

    @put("/", status_code=HTTP_200_OK)
    async def update(self, data: service.Notifications, identity: Identity
                     ) -> NotificationsOut:
        return NotificationsOut(await service.update_settings(identity, data))


def _page(title: str, text: str, form_action: str | None = None) -> Response[str]:
    button = ""
    if form_action is not None:
        button = (f'<form method="post" action="{html.escape(form_action)}">'
                  '<button type="submit">Stop these emails</button></form>')
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;"
        "padding:0 1rem\">"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{button}</body></html>"
    )
    return Response(page, media_type=MediaType.HTML, headers=PAGE_HEADERS)


class UnsubscribeController(Controller):
    """The link in each email: GET shows a button (link scanners must not unsubscribe anyone);
    POST unsubscribes, and is also what mail clients send for one-click (RFC 8058)."""

    path = "/api/v1/notifications/unsubscribe"
    tags = ["notifications"]

    @get("/")
    async def confirm(self, user: Token, sig: Token, runtime: Runtime) -> Response[str]:
        service.check_unsubscribe(runtime.settings, user, sig)
        return _page("Unread-message emails",
                     "Stop the emails that tell you about unread messages?",
                     form_action=f"?user={user}&sig={sig}")

    @post("/", status_code=HTTP_200_OK)
    async def unsubscribe(self, user: Token, sig: Token, runtime: Runtime) -> Response[str]:
        await service.unsubscribe(runtime.settings, user, sig)
        return _page("Unsubscribed",
                     "You will no longer get emails about unread messages. You can turn them "
                     "on again in the app's settings.")
