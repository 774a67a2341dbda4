"""The Litestar application: wiring only; behaviour lives in the domain services."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, get
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin
from litestar.response import File
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from server import bus as bus_module
from server import db, gctune, uow
from server.accounts.controller import AccountsController
from server.appointments.controller import (
    AppointmentsController,
    AppointmentTypesController,
    ProvidersAvailabilityController,
)
from server.appointments.reminders import AppointmentReminderJob
from server.auth import current_identity
from server.background import PollingJob
from server.broadcasts import service as broadcasts
from server.broadcasts.controller import BroadcastsController
from server.carejobs import CareJobs
from server.careplans.controller import CarePlansController
from server.errors import EXCEPTION_HANDLERS
from server.feed.controller import FeedController
from server.files import storage as file_storage
from server.files.avatar_controller import AvatarsController
from server.files.cleanup import UnattachedCleanup
from server.files.controller import DocumentsController, files_router
from server.forms.controller import (
    FormRequestsController,
    FormsController,
    IntakeController,
)
from server.forms.reminders import ReminderJob
from server.forms.service import hooks_for
from server.goals.controller import GoalsController
from server.inputs import CarethreadRequest, refuse_nul_in_url
from server.journals.controller import JournalController
from server.mail.sender import OutboxSender
from server.metrics.controller import MetricsController
from server.notifications import service as notifications
from server.notifications.controller import NotificationsController, UnsubscribeController
from server.onboarding import hooks
from server.onboarding.controller import (
    ClientsController,
    GroupsController,
    PracticeController,
    TagsController,
)
from server.openapi import SCHEMA_PATH, openapi_truth
from server.programs.controller import ProgramsController
from server.push.controller import PushController
from server.push.service import Pusher
from server.runtime import Runtime, get_runtime
from server.scheduled import service as scheduled
from server.scheduled.controller import ScheduledController
from server.security import Passwords
from server.settings import Settings, get_settings
from server.tasks.controller import TasksController
from server.threads import service as threads_service
from server.threads.controller import SearchController, ThreadsController
from server.throttle import LoginThrottle
from server.webhooks import service as webhooks
from server.webhooks.controller import WebhooksController
from server.webhooks.sender import WebhookSender
from server.ws.handler import ws_endpoint
from server.ws.sessions import SessionWatch

log = logging.getLogger("carethread")

MAX_BODY_BYTES = 256 * 1024


STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# The API browser (/schema) loads its script from here, not from a CDN: it works offline.
APIDOCS_DIR = Path(__file__).resolve().parent / "apidocs"
APIDOCS_PATH = "/schema-assets"
# Screens of the web client that a link in an email can open; all serve the same page.
WEB_ENTRY_PATHS = ["/", "/accept-invite", "/reset-password", "/join/{code:str}",
                   "/book/{code:str}"]


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


@get("/sw.js", include_in_schema=False, sync_to_thread=False)
def service_worker() -> File:
    """The push service worker, at the root so its scope is the whole app."""
    return File(STATIC_DIR / "sw.js", content_disposition_type="inline",
                media_type="text/javascript; charset=utf-8",
                headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


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
        sessions=SessionWatch(settings),
    )

    reminders = ReminderJob(settings)
    jobs = [
        PollingJob("scheduled-messages", scheduled.send_due, settings.scheduled_poll_seconds),
        PollingJob("broadcasts", broadcasts.send_due, settings.scheduled_poll_seconds),
    ]
    # Nothing is due in a process's first moments (emails wait `notify_delay_seconds`), which
    # after a restart are a reconnect storm; and a random start keeps processes that started
    # together from scanning together (bench/RESULTS.md, issue 10, sixth session).
    jobs.append(PollingJob("unread-emails",
                           lambda: notifications.notify_due(settings),
                           settings.notify_poll_seconds,
                           first_after=settings.notify_poll_seconds * random.uniform(0.5, 1)))
    webhook_sender = WebhookSender(settings)
    pusher = Pusher(settings)
    threads_service.event_observers[:] = [webhooks.on_events, pusher.on_events]
    threads_service.early_readers[:] = [webhooks.HOOKS_READ_EARLY]
    scheduled.install(jobs[0].wake)
    broadcasts.install(jobs[1].wake)
    appointment_reminders = AppointmentReminderJob(settings)
    care_jobs = CareJobs(settings)
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
        for job in jobs:
            job.start()
        webhook_sender.start()
        pusher.start()
        appointment_reminders.start()
        care_jobs.start()
        file_cleanup.start()
        gctune.tune_after_startup(settings.gc_gen0_threshold)
        try:
            yield
        finally:
            await runtime.sessions.stop()
            await file_cleanup.stop()
            await care_jobs.stop()
            await appointment_reminders.stop()
            await pusher.stop()
            await webhook_sender.stop()
            for job in reversed(jobs):
                await job.stop()
            await reminders.stop()
            await runtime.outbox.stop()
            await runtime.bus.stop()
            await db.stop(settings)
            runtime.passwords.close()

    route_handlers: list[Any] = [
        health, AccountsController, ThreadsController, ws_endpoint, ClientsController,
        GroupsController, TagsController, PracticeController, FormsController,
        FormRequestsController, IntakeController, files_router(settings), DocumentsController,
        AvatarsController,
        SearchController,
        create_static_files_router(path=APIDOCS_PATH, directories=[APIDOCS_DIR],
                                   include_in_schema=False),
        ScheduledController, BroadcastsController,
        NotificationsController, UnsubscribeController, WebhooksController,
        PushController, AppointmentTypesController, ProvidersAvailabilityController,
        AppointmentsController, MetricsController, JournalController, FeedController,
        TasksController, GoalsController,
        CarePlansController, ProgramsController,
    ]
    if (STATIC_DIR / "index.html").exists():
        route_handlers += [
            web_client, service_worker,
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
        openapi_config=OpenAPIConfig(
            title="Carethread", version="1.0.0", path=SCHEMA_PATH,
            render_plugins=[RedocRenderPlugin(
                path="/redoc", js_url=f"{APIDOCS_PATH}/redoc.standalone.js", google_fonts=False,
                favicon="<link rel='icon' type='image/svg+xml' href='/static/icon.svg'>",
            )],
        ),
        request_max_body_size=MAX_BODY_BYTES,
        # Logging is configured once, by `carethread serve` (server/logs.py): Litestar's own
        # config would install a second format on the root logger. Errors are logged by
        # server/errors.py.
        logging_config=None,
        request_class=CarethreadRequest,
        middleware=[refuse_nul_in_url, openapi_truth],
    )
