"""Small steps the tests' stories are made of, all through the public HTTP API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.mailbox import Mailbox

PASSWORD = "correct horse battery"


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.org"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Person:
    """Someone signed in: their user (profile) in one practice and their token."""

    user: dict[str, Any]
    token: str
    email: str | None = None
    password: str = PASSWORD

    @property
    def id(self) -> str:
        return str(self.user["id"])

    @property
    def org_id(self) -> str:
        return str(self.user["organization_id"])

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def new_practice(http: httpx.AsyncClient, name: str = "Sunrise Wellness") -> Person:
    email = unique_email("owner")
    resp = await http.post(
        "/organizations",
        json={"name": name, "owner": {"name": "Olivia Owner", "email": email,
                                      "password": PASSWORD}},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return Person(body["user"], body["token"], email)


async def invite_staff(
    http: httpx.AsyncClient, mailbox: Mailbox, admin: Person, role: str = "provider",
    email: str | None = None, name: str = "Pat Provider", password: str = PASSWORD,
) -> Person:
    """An admin invites a team member, who accepts from the emailed link."""
    email = email or unique_email(role)
    before = len(mailbox.to(email))
    resp = await http.post("/providers", json={"name": name, "email": email, "role": role},
                           headers=admin.headers)
    assert resp.status_code == 201, resp.text
    mail = await mailbox.wait_for(email, count=before + 1)
    resp = await http.post("/invitations/accept", json={"token": mail.token, "password": password})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return Person(body["user"], body["token"], email, password)


async def new_bot(http: httpx.AsyncClient, admin: Person, name: str = "Reminder Bot") -> Person:
    resp = await http.post("/bots", json={"name": name}, headers=admin.headers)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return Person(body["user"], body["token"])


async def login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/sessions", json={"email": email, "password": password})


async def new_thread(
    http: httpx.AsyncClient, creator: Person, *members: Person, title: str | None = "Care"
) -> str:
    resp = await http.post("/threads", json={"member_ids": [m.id for m in members],
                                             "title": title}, headers=creator.headers)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["thread"]["id"])


async def say(http: httpx.AsyncClient, person: Person, thread_id: str, body: str,
              client_id: str | None = None) -> dict[str, Any]:
    resp = await http.post(f"/threads/{thread_id}/messages",
                           json={"body": body, "client_id": client_id or uuid.uuid4().hex},
                           headers=person.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["event"])


async def all_events(http: httpx.AsyncClient, person: Person, thread_id: str
                     ) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        resp = await http.get(f"/threads/{thread_id}/events",
                              params={"after": after, "limit": 200}, headers=person.headers)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        events.extend(page["events"])
        if not page["more"]:
            return events
        after = page["events"][-1]["seq"]


async def team(http: httpx.AsyncClient, mailbox: Mailbox) -> tuple[Person, Person, Person]:
    """A practice with its owner, a provider and a bot."""
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    bot = await new_bot(http, owner)
    return owner, provider, bot


async def add_client(http: httpx.AsyncClient, provider: Person, **fields: Any) -> dict[str, Any]:
    body = {"name": "Casey Client", **fields}
    resp = await http.post("/clients", json=body, headers=provider.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["client"])


async def accept(http: httpx.AsyncClient, token: str, password: str = PASSWORD) -> Person:
    resp = await http.post("/invitations/accept", json={"token": token, "password": password})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return Person(body["user"], body["token"], body["user"].get("email"), password)


async def enable_welcome(http: httpx.AsyncClient, admin: Person, text: str) -> None:
    resp = await http.patch("/practice/settings", json={"welcome_enabled": True,
                                                        "welcome_text": text},
                            headers=admin.headers)
    assert resp.status_code == 200, resp.text
