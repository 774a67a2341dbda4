"""Webhooks: a practice's owners and admins register URLs for event kinds; every matching
thread event is delivered, signed the Standard Webhooks way, at least once, in order per
thread, retried with exponential backoff for a day.

Deliveries are rows written by an event observer *inside* the transaction that appends the
events (before commit), so an event is stored if and only if its deliveries are: nothing is
lost when a process dies right after a commit (an after-commit hook could lose it). The
sender (see `sender.py`) then works from the table, off the request path, so a slow or dead
receiver never slows chat.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import sqlite3
import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from server import clock, uow
from server.db import row_uuid, write_transaction
from server.errors import Forbidden, InvalidInput, NotFound
from server.events import EventRecord, encoded
from server.identity import Identity
from server.outbound import check_url, forbidden_address
from server.settings import Settings
from server.threads.service import EarlyRead
from server.webhooks.tables import Webhook, WebhookDelivery

__all__ = ["check_url", "forbidden_address"]

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
ROTATION_OVERLAP = timedelta(hours=24)
MAX_EVENTS = 50
MAX_WEBHOOKS = 20
KIND = re.compile(r"^(\*|[a-z][a-z_]*(\.[a-z_]+)*(\.\*)?)$")


# --- views ---------------------------------------------------------------------------------


class WebhookView(msgspec.Struct):
    id: uuid.UUID
    url: str
    events: list[str]
    trusted: bool
    active: bool
    created_at: datetime


class DeliveryView(msgspec.Struct):
    id: uuid.UUID
    event_id: uuid.UUID
    thread_id: uuid.UUID
    seq: int
    kind: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None


def _events(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value or []]


def view(row: dict[str, Any]) -> WebhookView:
    return WebhookView(id=row["id"], url=row["url"], events=_events(row["events"]),
                       trusted=row["trusted"], active=row["active"],
                       created_at=row["created_at"])


# --- secrets at rest -----------------------------------------------------------------------


def _key(settings: Settings) -> bytes:
    return hashlib.sha256(b"carethread webhook secrets\0" + settings.secret_key.encode()).digest()


def seal(settings: Settings, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(settings)).encrypt(nonce, secret.encode(), b"webhook")
    return "v1:" + base64.b64encode(nonce + sealed).decode()


def unseal(settings: Settings, stored: str) -> str:
    raw = base64.b64decode(stored.removeprefix("v1:"))
    return AESGCM(_key(settings)).decrypt(raw[:12], raw[12:], b"webhook").decode()


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _kinds(events: list[str]) -> list[str]:
    kinds = list(dict.fromkeys(e.strip() for e in events))
    if not kinds:
        raise InvalidInput("Choose at least one event kind.", code="no_events",
                           extra={"field": "events"})
    bad = [k for k in kinds if len(k) > 40 or not KIND.match(k)]
    if bad:
        raise InvalidInput(f"Not an event kind: {bad[0]!r}.", extra={"field": "events"})
    return kinds


def matches(kinds: list[str], kind: str) -> bool:
    for k in kinds:
        if k == "*" or k == kind or (k.endswith(".*") and kind.startswith(k[:-1])):
            return True
    return False


# --- managing webhooks ---------------------------------------------------------------------


def _require_admin(identity: Identity) -> None:
    if not identity.is_admin:
        raise Forbidden("Only the practice's owners and admins manage webhooks.")


def _check_trusted(identity: Identity, trusted: bool) -> None:
    if trusted and identity.role != "owner":
        raise Forbidden("Only an owner can trust a URL with team-only events.",
                        code="owner_only")


async def create(settings: Settings, identity: Identity, *, url: str, events: list[str],
                 trusted: bool) -> tuple[WebhookView, str]:
    _require_admin(identity)
    _check_trusted(identity, trusted)
    checked = check_url(settings, url)
    kinds = _kinds(events)
    if await Webhook.count().where(Webhook.organization == identity.organization_id
                                   ) >= MAX_WEBHOOKS:
        raise InvalidInput(f"A practice has at most {MAX_WEBHOOKS} webhooks.",
                           code="too_many_webhooks")
    secret = new_secret()
    row = Webhook(organization=identity.organization_id, url=checked,
                  events=json.dumps(kinds), trusted=trusted, secret=seal(settings, secret),
                  active=True, created_by=identity.user_id, created_at=clock.now())
    async with write_transaction():
        await row.save()
    return await get(identity, str(row.id)), secret


async def _own(identity: Identity, webhook_id: str) -> dict[str, Any]:
    _require_admin(identity)
    try:
        wid = uuid.UUID(webhook_id)
    except ValueError:
        raise NotFound("No such webhook.") from None
    row = await Webhook.select().where(
        Webhook.id == wid, Webhook.organization == identity.organization_id).first()
    if row is None:
        raise NotFound("No such webhook.")
    return row


async def get(identity: Identity, webhook_id: str) -> WebhookView:
    return view(await _own(identity, webhook_id))


async def list_webhooks(identity: Identity) -> list[WebhookView]:
    _require_admin(identity)
    rows = await Webhook.select().where(
        Webhook.organization == identity.organization_id).order_by(Webhook.created_at)
    return [view(r) for r in rows]


async def update(settings: Settings, identity: Identity, webhook_id: str, *,
                 url: str | None, events: list[str] | None, trusted: bool | None,
                 active: bool | None) -> WebhookView:
    row = await _own(identity, webhook_id)
    changes: dict[Any, Any] = {}
    if url is not None:
        changes[Webhook.url] = check_url(settings, url)
    if events is not None:
        changes[Webhook.events] = json.dumps(_kinds(events))
    if trusted is not None:
        if trusted != row["trusted"]:
            if identity.role != "owner":
                raise Forbidden("Only an owner can change whether a URL is trusted.",
                                code="owner_only")
        changes[Webhook.trusted] = trusted
    if active is not None:
        changes[Webhook.active] = active
    if changes:
        async with write_transaction():
            await Webhook.update(changes).where(Webhook.id == row["id"])
    return await get(identity, webhook_id)


async def delete(identity: Identity, webhook_id: str) -> None:
    row = await _own(identity, webhook_id)
    async with write_transaction():
        await WebhookDelivery.delete().where(WebhookDelivery.webhook == row["id"])
        await Webhook.delete().where(Webhook.id == row["id"])


async def rotate_secret(settings: Settings, identity: Identity, webhook_id: str
                        ) -> tuple[WebhookView, str]:
    """A new secret, shown once; the old one also signs for a day, so receivers can switch."""
    row = await _own(identity, webhook_id)
    secret = new_secret()
    async with write_transaction():
        await Webhook.update({
            Webhook.secret: seal(settings, secret), Webhook.previous_secret: row["secret"],
            Webhook.previous_until: clock.now() + ROTATION_OVERLAP,
        }).where(Webhook.id == row["id"])
    return await get(identity, webhook_id), secret


async def deliveries(identity: Identity, webhook_id: str, status: str | None = None,
                     limit: int = 100) -> list[DeliveryView]:
    row = await _own(identity, webhook_id)
    query = WebhookDelivery.select().where(WebhookDelivery.webhook == row["id"])
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    rows = await query.order_by(WebhookDelivery.created_at, ascending=False).order_by(
        WebhookDelivery.seq, ascending=False).limit(limit)
    return [DeliveryView(
        id=r["id"], event_id=r["event_id"], thread_id=r["thread"], seq=r["seq"],
        kind=r["kind"], status=r["status"], attempts=r["attempts"],
        last_status_code=r["last_status_code"], last_error=r["last_error"],
        created_at=r["created_at"],
        next_attempt_at=r["next_attempt_at"] if r["status"] == PENDING else None,
    ) for r in rows]


# --- feeding deliveries from events (inside the appending transaction) ---------------------


_wakers: list[Any] = []


def install(wake: Any) -> None:
    _wakers[:] = [wake]


def _wake() -> None:
    for wake in _wakers:
        wake()


# Plain SQL: this runs inside every appending transaction, where building a join per event
# was the largest share of the send path's own CPU (py-spy at the knee).
_HOOKS_OF_THREADS = (
    "SELECT w.id AS id, w.organization AS organization, w.events AS events, "
    "w.trusted AS trusted, t.id AS thread FROM webhook w "
    "JOIN thread t ON t.organization = w.organization "
    "WHERE w.active = {{}} AND t.id IN ({})"
)


_HOOKS_OF_ONE_THREAD_SQLITE = _HOOKS_OF_THREADS.format("{}").replace("{}", "?")
_HOOKS_OF_ONE_THREAD_PG = (
    "SELECT json_agg(json_build_object('id', w.id, 'organization', w.organization, "
    "'events', w.events, 'trusted', w.trusted, 'thread', t.id)) FROM webhook w "
    "JOIN thread t ON t.organization = w.organization WHERE w.active AND t.id = $1"
)


def _hooks_of_one_thread(db: sqlite3.Connection, thread_id: uuid.UUID
                         ) -> list[dict[str, Any]]:
    return db.execute(_HOOKS_OF_ONE_THREAD_SQLITE, [True, thread_id]).fetchall()


# Read with a message's append, kept for `on_events`: on SQLite the transaction holds the
# writer, so they cannot change before it ends; on PostgreSQL a webhook added while the
# message commits is a race either way, as it was when this was a query of its own.
HOOKS_READ_EARLY = EarlyRead("webhooks", _hooks_of_one_thread, _HOOKS_OF_ONE_THREAD_PG)


async def on_events(work: uow.UnitOfWork, events: list[EventRecord]) -> None:
    """Before commit: one delivery row per (matching webhook, event). One query (webhooks
    joined to the events' threads) finds them, unless they were read early; a practice
    without any costs just that query."""
    if not events:
        return
    thread_ids = list({e.thread_id for e in events})
    early = [work.early_reads.get(("webhooks", t)) for t in thread_ids]
    if all(rows is not None for rows in early):
        hooks = [hook for rows in early if rows for hook in rows]
    else:
        placeholders = ", ".join("{}" for _ in thread_ids)
        hooks = await Webhook.raw(_HOOKS_OF_THREADS.format(placeholders), True, *thread_ids)
    if not hooks:
        return
    now = clock.now()
    rows = []
    for hook in hooks:
        kinds = _events(hook["events"])
        for event in events:
            if event.thread_id != row_uuid(hook["thread"]):
                continue
            if event.staff_only and not hook["trusted"]:
                continue
            if not matches(kinds, event.kind):
                continue
            rows.append(WebhookDelivery(
                webhook=row_uuid(hook["id"]), event_id=event.id, thread=event.thread_id,
                seq=event.seq,
                kind=event.kind, payload=payload(hook["organization"], event).decode(),
                status=PENDING, attempts=0, next_attempt_at=now, created_at=now,
            ))
    if rows:
        await WebhookDelivery.insert(*rows)
        work.after_commit(_wake)



def payload(organization_id: uuid.UUID, event: EventRecord) -> bytes:
    """The Standard Webhooks body: `{type, timestamp, data}`; data holds the event as the
    API shows it, and the practice it belongs to."""
    return (b'{"type":' + json.dumps(event.kind).encode()
            + b',"timestamp":' + json.dumps(event.created_at.isoformat()).encode()
            + b',"data":{"organization_id":"' + str(organization_id).encode()
            + b'","event":' + encoded(event) + b"}}")
