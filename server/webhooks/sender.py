"""The webhook sender: delivers pending rows, oldest first per (webhook, thread), off the
request path. Each attempt is leased with a compare-and-set on `attempts`, so two processes
never send the same delivery at once; the lease outlives the request timeout."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook as Signer

from server import clock
from server.background import PollingJob
from server.settings import Settings
from server.webhooks import service
from server.webhooks.tables import Webhook, WebhookDelivery

log = logging.getLogger("carethread.webhooks")

SCAN = 500
MAX_IN_FLIGHT = 50
FIRST_RETRY_SECONDS = 5
MAX_BACKOFF_SECONDS = 3600


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s, ... up to an hour between attempts."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0),
                                 MAX_BACKOFF_SECONDS))


class WebhookSender:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._job = PollingJob("webhooks", self.run_pass, settings.webhook_poll_seconds)
        self._client: httpx.AsyncClient | None = None
        self._in_flight: dict[uuid.UUID, asyncio.Task[None]] = {}

    def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=self._settings.webhook_timeout_seconds, follow_redirects=False,
            headers={"User-Agent": "Carethread-Webhooks/1"},
            limits=httpx.Limits(max_connections=MAX_IN_FLIGHT),
        )
        service.install(self._job.wake)
        self._job.start()

    async def stop(self) -> None:
        await self._job.stop()
        for task in list(self._in_flight.values()):
            task.cancel()
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    async def run_pass(self) -> bool:
        """Start the due heads of each (webhook, thread) queue; never wait for receivers."""
        room = MAX_IN_FLIGHT - len(self._in_flight)
        if room <= 0:
            return False
        now = clock.now()
        due = await WebhookDelivery.select(
            WebhookDelivery.id, WebhookDelivery.webhook, WebhookDelivery.thread,
            WebhookDelivery.seq, WebhookDelivery.attempts,
        ).where(WebhookDelivery.status == service.PENDING,
                WebhookDelivery.next_attempt_at <= now
                ).order_by(WebhookDelivery.next_attempt_at).limit(SCAN)
        heads: dict[tuple[Any, Any], dict[str, Any]] = {}
        for row in due:
            if row["id"] in self._in_flight:
                continue
            key = (row["webhook"], row["thread"])
            if key not in heads or row["seq"] < heads[key]["seq"]:
                heads[key] = row
        started = 0
        for row in heads.values():
            if started >= room:
                break
            # In order per thread: an earlier event still pending (retrying) goes first.
            if await WebhookDelivery.exists().where(
                WebhookDelivery.webhook == row["webhook"], WebhookDelivery.thread == row["thread"],
                WebhookDelivery.status == service.PENDING, WebhookDelivery.seq < row["seq"],
            ):
                continue
            if not await self._claim(row):
                continue
            task = asyncio.create_task(self._deliver(row["id"], row["attempts"] + 1))
            self._in_flight[row["id"]] = task
            task.add_done_callback(self._done_callback(row["id"]))
            started += 1
        return False

    def _done_callback(self, delivery_id: uuid.UUID) -> Any:
        def done(_task: asyncio.Task[None]) -> None:
            self._done(delivery_id)

        return done

    def _done(self, delivery_id: uuid.UUID) -> None:
        self._in_flight.pop(delivery_id, None)
        self._job.wake()  # the next of that thread may go now

    async def _claim(self, row: dict[str, Any]) -> bool:
        lease = timedelta(seconds=self._settings.webhook_timeout_seconds + 60)
        claimed = await WebhookDelivery.update({
            WebhookDelivery.attempts: row["attempts"] + 1,
            WebhookDelivery.next_attempt_at: clock.now() + lease,
        }).where(
            WebhookDelivery.id == row["id"], WebhookDelivery.attempts == row["attempts"],
            WebhookDelivery.status == service.PENDING,
        ).returning(WebhookDelivery.id)
        return bool(claimed)

    async def _deliver(self, delivery_id: uuid.UUID, attempts: int) -> None:
        try:
            row = await WebhookDelivery.select().where(WebhookDelivery.id == delivery_id).first()
            hook = row and await Webhook.select().where(Webhook.id == row["webhook"]).first()
            if row is None or hook is None:
                return
            code, error = await self._post(hook, row)
            await self._record(row, attempts, code, error)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook delivery %s failed", delivery_id)

    async def _post(self, hook: dict[str, Any], row: dict[str, Any]
                    ) -> tuple[int | None, str | None]:
        assert self._client is not None
        url = hook["url"]
        host = urlsplit(url).hostname or ""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM)
        except OSError as exc:
            return None, f"cannot resolve {host}: {exc}"[:300]
        if any(service.forbidden_address(str(info[4][0])) for info in infos):
            return None, "refused: the host resolves to a link-local address"
        body = row["payload"]
        msg_id = f"msg_{row['event_id']}"
        now = datetime.now(clock.now().tzinfo)
        signatures = [Signer(service.unseal(self._settings, hook["secret"])
                             ).sign(msg_id, now, body)]
        if hook["previous_secret"] and hook["previous_until"] and \
                hook["previous_until"] > clock.now():
            signatures.append(Signer(service.unseal(self._settings, hook["previous_secret"])
                                     ).sign(msg_id, now, body))
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": " ".join(signatures),
        }
        try:
            response = await self._client.post(url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            return None, (type(exc).__name__ + ": " + str(exc))[:300]
        return response.status_code, None

    async def _record(self, row: dict[str, Any], attempts: int, code: int | None,
                      error: str | None) -> None:
        now = clock.now()
        changes: dict[Any, Any] = {WebhookDelivery.last_status_code: code,
                                   WebhookDelivery.last_error: error}
        if code is not None and 200 <= code < 300:
            changes.update({WebhookDelivery.status: service.DELIVERED,
                            WebhookDelivery.finished_at: now})
        elif now - row["created_at"] >= timedelta(seconds=self._settings.webhook_retry_seconds):
            changes.update({WebhookDelivery.status: service.FAILED,
                            WebhookDelivery.finished_at: now})
        else:
            changes[WebhookDelivery.next_attempt_at] = now + backoff(attempts)
        await WebhookDelivery.update(changes).where(
            WebhookDelivery.id == row["id"], WebhookDelivery.attempts == attempts)
