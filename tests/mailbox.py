"""A real SMTP server (aiosmtpd) that keeps what it receives, for tests to read."""

from __future__ import annotations

import asyncio
import email
import re
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+")


@dataclass
class Attached:
    filename: str
    content_type: str
    text: str


@dataclass
class Mail:
    to: str
    subject: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[Attached] = field(default_factory=list)

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.body)

    @property
    def token(self) -> str:
        """The invitation token: the `token` query parameter of the first link."""
        for link in self.links:
            match = re.search(r"[?&]token=([^&\s]+)", link)
            if match:
                return match.group(1)
        raise AssertionError(f"no token link in mail: {self.body!r}")


def _decoded(part: Message) -> str:
    body = part.get_payload(decode=True)
    return body.decode() if isinstance(body, bytes) else str(part.get_payload())


def _parts(parsed: Message) -> tuple[str, list[Attached]]:
    """The text body, and the attachments of a multipart message."""
    if not parsed.is_multipart():
        return _decoded(parsed), []
    text, attached = "", []
    for part in parsed.walk():
        if part.is_multipart():
            continue
        if part.get_filename():
            attached.append(Attached(part.get_filename() or "", part.get_content_type(),
                                     _decoded(part)))
        elif part.get_content_type() == "text/plain" and not text:
            text = _decoded(part)
    return text, attached


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.box.lock:
            if self.box.failures_left > 0:
                self.box.failures_left -= 1
                return "451 Temporary failure, try again"
            parsed: Message = email.message_from_bytes(envelope.content)
            text, attached = _parts(parsed)
            for rcpt in envelope.rcpt_tos:
                subject = " ".join(str(parsed["Subject"]).split())  # unfolded
                self.box.mails.append(Mail(rcpt.lower(), subject, text,
                                           {k: str(v) for k, v in parsed.items()}, attached))
        return "250 Message accepted"


class Mailbox:
    def __init__(self, port: int) -> None:
        self.port = port
        self.mails: list[Mail] = []
        self.lock = threading.Lock()
        self.failures_left = 0
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def fail_next(self, count: int) -> None:
        with self.lock:
            self.failures_left = count

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.mails if m.to == address.lower()]

    async def wait_for(self, address: str, count: int = 1, wait: float = 15) -> Mail:
        """The `count`-th mail to `address`, waiting for it to arrive."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found[count - 1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no mail #{count} for {address} within {wait}s")

    def wait_for_sync(self, address: str, match: Any, wait: float = 15) -> Mail:
        """The first mail to `address` that `match(mail)` accepts, waiting (no event loop)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            for mail in self.to(address):
                if match(mail):
                    return mail
            time.sleep(0.05)
        raise AssertionError(f"no matching mail for {address} within {wait}s")
