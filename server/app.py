"""The Litestar application: wiring only; behaviour lives in the domain services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, get
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.response import File
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from server import bus as bus_module
from server import db, uow
from server.accounts.controller import AccountsController
from server.auth import current_identity
from server.errors import EXCEPTION_HANDLERS
from server.files import storage as file_storage
from server.files.cleanup import UnattachedCleanup
from server.files.controller import DocumentsController, files_router
from server.forms.controller import (
    FormRequestsController,
    FormsController,
    IntakeController,
)
from server.forms.reminders import ReminderJob
from server.forms.service import hooks_for
from server.mail.sender import OutboxSender
from server.onboarding import hooks
from server.onboarding.controller import (
    ClientsController,
    GroupsController,
    PracticeController,
    TagsController,
)
from server.runtime import Runtime, get_runtime
from server.security import Passwords
from server.settings import Settings, get_settings
from server.threads.controller import SearchController, ThreadsController
from server.throttle import LoginThrottle
from server.ws.handler import ws_endpoint

log = logging.getLogger("carethread")

MAX_BODY_BYTES = 256 * 1024


STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# Screens of the web client that a link in an email can open; all serve the same page.
WEB_ENTRY_PATHS = ["/", "/accept-invite", "/reset-password", "/join/{code:str}"]


PAGE_HEADERS = {
    # The page's own <meta> policy cannot say frame-ancestors; the header can.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # invitation and reset URLs carry tokens
    "Cache-Control": "no-cache",
}


@get(WEB_ENTRY_PATHS, include_in_schema=False, sync_to_thread=False)
def web_client(code: str | None = None) -> File:
    """The browser client's page; it routes on the URL itself."""
    return File(STATIC_DIR / "index.html", content_disposition_type="inline",
                media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@get("/health", tags=["ops"])
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


def _store(settings: Settings) -> Store:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore
        from redis.asyncio import Redis

        return RedisStore(Redis.from_url(settings.redis_url), namespace=settings.redis_namespace)
    return MemoryStore()


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    runtime = Runtime(
        settings=settings,
        passwords=Passwords(settings),
        throttle=LoginThrottle(
            _store(settings), settings.login_failure_limit, settings.login_failure_window_seconds
        ),
        outbox=OutboxSender(settings),
        bus=bus_module.Bus(settings),
    )

    reminders = ReminderJob(settings)
    file_cleanup = UnattachedCleanup(settings)
    file_storage.install(file_storage.make_storage(settings))
    on_client_added, on_group_joined = hooks_for(settings)
    hooks.client_added[:] = [on_client_added]
    hooks.group_joined[:] = [on_group_joined]

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.start(settings)
        bus_module.install(runtime.bus)
        uow.install(wake_mail=runtime.outbox.notify)
        runtime.bus.start()
        runtime.outbox.start()
        reminders.start()
        file_cleanup.start()
        try:
            yield
        finally:
            await file_cleanup.stop()
            await reminders.stop()
            await runtime.outbox.stop()
            await runtime.bus.stop()
            await db.stop(settings)

    route_handlers: list[Any] = [
        health, AccountsController, ThreadsController, ws_endpoint, ClientsController,
        GroupsController, TagsController, PracticeController, FormsController,
        FormRequestsController, IntakeController, files_router(settings), DocumentsController,
        SearchController,
    ]
    if (STATIC_DIR / "index.html").exists():
        route_handlers += [
            web_client,
            # Module names carry no version: revalidate, so a deploy never mixes old and new.
            create_static_files_router(path="/static", directories=[STATIC_DIR],
                                       include_in_schema=False,
                                       cache_control=CacheControlHeader(no_cache=True)),
        ]
    return Litestar(
        route_handlers=route_handlers,
        dependencies={
            "runtime": Provide(get_runtime, sync_to_thread=False),
            "identity": Provide(current_identity),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        plugins=[runtime.bus.plugin],
        state=State({"runtime": runtime}),
        openapi_config=OpenAPIConfig(title="Carethread", version="1.0.0", path="/schema"),
        request_max_body_size=MAX_BODY_BYTES,
    )
