"""Web Push: browsers subscribe; a new message wakes their devices with a notification that,
like the unread email, holds no content ("New message from your care team").

Push is a nudge, not a record: it goes from the process that committed the message, after
commit, best effort (the thread and the unread email are the record). pywebpush is
synchronous (requests), so each send runs in a worker thread, a few at a time. A subscription
the push service answers 404 or 410 for has expired and is dropped.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import uuid
from datetime import datetime
from typing import Any

import anyio
import anyio.to_thread
import msgspec
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid, b64urlencode
from pywebpush import WebPushException, webpush

from server import clock, uow
from server.db import is_unique_violation, row_uuid, write_transaction
from server.errors import InvalidInput, NotFound
from server.events import EventRecord
from server.identity import STAFF_ROLES, Identity
from server.outbound import check_url
from server.push.tables import PushSubscription
from server.settings import Settings

log = logging.getLogger("carethread.push")

QUEUE_LIMIT = 10_000
CONCURRENCY = 8
TTL_SECONDS = 24 * 3600
# Nudges are gathered this long before their subscriptions are looked up: one query per
# window instead of one per message or two under load (py-spy at 800 msg/s: 4 % of the loop
# and a reader's thread busy), at a delay nobody notices on a phone.
BATCH_SECONDS = 0.05
MAX_SUBSCRIPTIONS = 20  # per person (browsers and devices)


class SubscriptionKeys(msgspec.Struct):
    p256dh: str
    auth: str


class SubscriptionIn(msgspec.Struct):
    """A browser's `PushSubscription.toJSON()`."""

    endpoint: str
    keys: SubscriptionKeys
    expirationTime: int | float | None = None


class SubscriptionView(msgspec.Struct):
    id: uuid.UUID
    endpoint: str
    created_at: datetime


def public_key(settings: Settings) -> str:
    """The VAPID public key (uncompressed P-256 point, base64url): `applicationServerKey`."""
    key = _vapid(settings).public_key
    return str(b64urlencode(key.public_bytes(serialization.Encoding.X962,
                                             serialization.PublicFormat.UncompressedPoint)))


_vapids: dict[str, Vapid] = {}


def _vapid(settings: Settings) -> Vapid:
    vapid = _vapids.get(settings.vapid_private_key)
    if vapid is None:
        vapid = _vapids[settings.vapid_private_key] = Vapid.from_raw(
            settings.vapid_private_key.encode())
    return vapid


def _b64(value: str, size: int | None, field: str) -> str:
    import base64

    value = value.strip()
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        raise InvalidInput(f"keys.{field} is not base64url.", extra={"field": field}) from None
    if size is not None and len(raw) != size:
        raise InvalidInput(f"keys.{field} has the wrong length.", extra={"field": field})
    return value


async def subscribe(settings: Settings, identity: Identity, data: SubscriptionIn
                    ) -> SubscriptionView:
    endpoint = check_url(settings, data.endpoint)
    p256dh = _b64(data.keys.p256dh, 65, "p256dh")
    auth = _b64(data.keys.auth, 16, "auth")
    async with write_transaction():
        # One endpoint is one browser: it follows whoever subscribed last on it.
        await PushSubscription.delete().where(PushSubscription.endpoint == endpoint)
        if await PushSubscription.count().where(
                PushSubscription.profile == identity.user_id) >= MAX_SUBSCRIPTIONS:
            oldest = await PushSubscription.select(PushSubscription.id).where(
                PushSubscription.profile == identity.user_id).order_by(
                PushSubscription.created_at).first()
            if oldest:
                await PushSubscription.delete().where(PushSubscription.id == oldest["id"])
        row = PushSubscription(profile=identity.user_id, endpoint=endpoint, p256dh=p256dh,
                               auth=auth, created_at=clock.now())
        try:
            await row.save()
        except Exception as exc:
            if is_unique_violation(exc):
                raise InvalidInput("That subscription was just saved.",
                                   code="conflict") from exc
            raise
    return SubscriptionView(row.id, endpoint, row.created_at)


async def list_subscriptions(identity: Identity) -> list[SubscriptionView]:
    rows = await PushSubscription.select().where(PushSubscription.profile == identity.user_id)
    return [SubscriptionView(r["id"], r["endpoint"], r["created_at"]) for r in rows]


async def unsubscribe(identity: Identity, subscription_id: str) -> None:
    try:
        sid = uuid.UUID(subscription_id)
    except ValueError:
        raise NotFound("No such subscription.") from None
    async with write_transaction():
        gone = await PushSubscription.delete().where(
            PushSubscription.id == sid, PushSubscription.profile == identity.user_id
        ).returning(PushSubscription.id)
    if not gone:
        raise NotFound("No such subscription.")


# --- sending -------------------------------------------------------------------------------


# Plain SQL, one statement: it runs for every message's nudges (py-spy at the knee: building
# two Piccolo queries per message was 7 % of the server's time). On PostgreSQL the people go as
# one array, so the statement is the same for every batch and stays prepared: an `IN` list of
# each batch's length was parsed and planned again for most batches (3-4 ms of PostgreSQL's
# time each, bench/RESULTS.md).
_SUBSCRIPTIONS_OF = (
    "SELECT s.id AS id, s.profile AS profile, s.endpoint AS endpoint, s.p256dh AS p256dh, "
    "s.auth AS auth, o.name AS practice FROM push_subscription s "
    "JOIN profile p ON p.id = s.profile JOIN organization o ON o.id = p.organization "
    "WHERE s.profile "
)



class Pusher:
    """Takes (person, thread) nudges after commit and sends them from a background task."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._queue: asyncio.Queue[tuple[uuid.UUID, uuid.UUID, bool]] = asyncio.Queue(
            QUEUE_LIMIT)
        self._limiter = anyio.CapacityLimiter(CONCURRENCY)
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._sub = settings.vapid_subject or (
            "mailto:" + (email.utils.parseaddr(settings.mail_from)[1] or "no-reply@localhost"))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="web-push")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, *self._sending, return_exceptions=True)

    async def on_events(self, work: uow.UnitOfWork, events: list[EventRecord]) -> None:
        """Before commit (no query): who should be nudged; queued after commit."""
        nudges: dict[uuid.UUID, tuple[uuid.UUID, bool]] = {}
        for event in events:
            if event.kind != "message":
                continue
            for profile, role in work.thread_members.get(event.thread_id, {}).items():
                if profile == event.actor_id:
                    continue
                if event.staff_only and role not in STAFF_ROLES:
                    continue
                nudges[profile] = (event.thread_id, role in STAFF_ROLES)
        if nudges:
            work.after_commit(lambda: self._enqueue(nudges))

    def _enqueue(self, nudges: dict[uuid.UUID, tuple[uuid.UUID, bool]]) -> None:
        for profile, (thread, staff) in nudges.items():
            try:
                self._queue.put_nowait((profile, thread, staff))
            except asyncio.QueueFull:
                log.warning("push queue full; a notification was dropped")
                return

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(BATCH_SECONDS)
            while not self._queue.empty() and len(batch) < 500:
                batch.append(self._queue.get_nowait())
            try:
                await self._send_batch(batch)
            except Exception:
                log.exception("push batch failed")

    async def _send_batch(self, batch: list[tuple[uuid.UUID, uuid.UUID, bool]]) -> None:
        latest = {profile: (thread, staff) for profile, thread, staff in batch}
        profiles = list(latest)
        if self._settings.is_sqlite:
            subs = await PushSubscription.raw(
                _SUBSCRIPTIONS_OF + "IN ({})".format(", ".join("{}" for _ in profiles)),
                *profiles)
        else:
            subs = await PushSubscription.raw(_SUBSCRIPTIONS_OF + "= ANY({}::uuid[])", profiles)
        for sub in subs:
            thread, staff = latest[row_uuid(sub["profile"])]
            message = notification(sub["practice"] or "", thread, staff)
            task = asyncio.create_task(self._send(sub, message))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, sub: dict[str, Any], message: dict[str, str]) -> None:
        info = {"endpoint": sub["endpoint"],
                "keys": {"p256dh": sub["p256dh"], "auth": sub["auth"]}}
        data = json.dumps(message)

        def send() -> int:
            try:
                webpush(info, data, vapid_private_key=_vapid(self._settings),
                        vapid_claims={"sub": self._sub}, ttl=TTL_SECONDS, timeout=10,
                        headers={"Urgency": "normal", "Topic": message["tag"][:32]})
            except WebPushException as exc:
                return exc.response.status_code if exc.response is not None else 0
            except Exception as exc:  # network errors: best effort
                log.info("push to %s failed: %s", _origin(sub["endpoint"]), type(exc).__name__)
                return 0
            return 201

        status = await anyio.to_thread.run_sync(send, limiter=self._limiter)
        if status in (404, 410):
            await PushSubscription.delete().where(PushSubscription.id == sub["id"])
        elif status and status >= 300:
            log.info("push to %s answered %s", _origin(sub["endpoint"]), status)


def _origin(endpoint: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def notification(practice: str, thread_id: uuid.UUID, staff: bool) -> dict[str, str]:
    """What a device shows: the practice and that there is something new. Never the message,
    never who wrote it (a client's name would show on a team member's lock screen)."""
    return {
        "title": practice or "Carethread",
        "body": "New message" if staff else "New message from your care team",
        "url": f"/#/threads/{thread_id}",
        "tag": f"t{thread_id.hex}",
    }
