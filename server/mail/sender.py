"""The background sender: delivers the outbox to SMTP, or to the log when no SMTP_URL is set."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import email.utils
import json
import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib

from server.background import BackgroundTask
from server.mail.tables import OutboxEmail
from server.settings import Settings

log = logging.getLogger("carethread.mail")

BATCH = 20
LEASE = timedelta(minutes=2)
MAX_BACKOFF_SECONDS = 15 * 60


# Long header values (List-Unsubscribe URLs) stay whole instead of becoming encoded words.
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998, cte_type="7bit")


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


class OutboxSender:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._wake = asyncio.Event()
        self._loop = BackgroundTask("outbox-sender", self._run)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    def notify(self) -> None:
        """Wake the sender now rather than at the next poll."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                more = await self.deliver_due()
            except Exception:
                log.exception("outbox pass failed; retrying")
                more = False
            if more:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.outbox_poll_seconds)

    async def deliver_due(self) -> bool:
        """Deliver one batch; True when a full batch suggests more are waiting."""
        now = datetime.now(UTC)
        due = (
            await OutboxEmail.select()
            .where(OutboxEmail.sent_at.is_null(), OutboxEmail.next_attempt_at <= now)
            .order_by(OutboxEmail.next_attempt_at)
            .limit(BATCH)
        )
        for row in due:
            if await self._claim(row):
                await self._deliver(row)
        return len(due) == BATCH

    async def _claim(self, row: dict[str, Any]) -> bool:
        """Lease the row with a compare-and-set on attempts, so two processes never both send."""
        claimed = (
            await OutboxEmail.update(
                {
                    OutboxEmail.attempts: row["attempts"] + 1,
                    OutboxEmail.next_attempt_at: datetime.now(UTC) + LEASE,
                }
            )
            .where(
                OutboxEmail.id == row["id"],
                OutboxEmail.attempts == row["attempts"],
                OutboxEmail.sent_at.is_null(),
            )
            .returning(OutboxEmail.id)
        )
        return bool(claimed)

    async def _deliver(self, row: dict[str, Any]) -> None:
        attempts = row["attempts"] + 1
        try:
            await self._send(row)
        except Exception as exc:
            log.warning("email %s to %s failed (attempt %d): %s", row["id"], row["to_address"],
                        attempts, exc)
            await OutboxEmail.update(
                {
                    OutboxEmail.last_error: str(exc)[:1000],
                    OutboxEmail.next_attempt_at: datetime.now(UTC) + backoff(attempts),
                }
            ).where(OutboxEmail.id == row["id"])
            return
        # A delivered body is dropped: it may hold a live link, and the mailbox has the copy.
        await OutboxEmail.update(
            {OutboxEmail.sent_at: datetime.now(UTC), OutboxEmail.last_error: None,
             OutboxEmail.body: "", OutboxEmail.attachments: None}
        ).where(OutboxEmail.id == row["id"])

    async def _send(self, row: dict[str, Any]) -> None:
        if not self._settings.smtp_url:
            log.info(
                "email (no SMTP_URL, logged instead)\nTo: %s\nSubject: %s\n\n%s",
                row["to_address"], row["subject"], row["body"],
            )
            return
        message = EmailMessage(policy=MAIL_POLICY)
        message["From"] = self._settings.mail_from
        message["To"] = row["to_address"]
        message["Subject"] = row["subject"]
        extra = row.get("headers")
        if isinstance(extra, str):
            extra = json.loads(extra)
        for name, value in (extra or {}).items():
            message[name] = value
        message.set_content(row["body"])
        add_attachments(message, row.get("attachments"))
        # Flattened here: aiosmtplib's own policy would fold long headers into encoded words.
        await aiosmtplib.send(
            message.as_bytes(policy=MAIL_POLICY),
            sender=email.utils.parseaddr(self._settings.mail_from)[1],
            recipients=[row["to_address"]],
            **smtp_options(self._settings), timeout=30,
        )


def add_attachments(message: EmailMessage, stored: Any) -> None:
    """Text attachments stored with the row (JSON) as MIME parts of the message."""
    if not stored:
        return
    for part in json.loads(stored) if isinstance(stored, str) else stored:
        _main, _, rest = part["content_type"].partition("/")
        subtype, *params = [p.strip() for p in rest.split(";")]
        extra = dict(p.split("=", 1) for p in params if "=" in p)
        message.add_attachment(part["content"], subtype=subtype, filename=part["filename"],
                               params=extra)


def smtp_options(settings: Settings) -> dict[str, Any]:
    assert settings.smtp_url
    url = urlsplit(settings.smtp_url)
    implicit_tls = url.scheme == "smtps" or settings.smtp_tls == "tls"
    start_tls: bool | None = None  # auto: upgrade when offered
    if settings.smtp_tls == "none":
        start_tls = False
    elif settings.smtp_tls == "starttls":
        start_tls = True
    return {
        "hostname": url.hostname or "localhost",
        "port": url.port or (465 if implicit_tls else 25),
        "username": unquote(url.username) if url.username else None,
        "password": unquote(url.password) if url.password else None,
        "use_tls": implicit_tls,
        "start_tls": False if implicit_tls else start_tls,
    }
