"""Building blocks for the care-between-visits stories: a practice with a provider on one
client's care team, the client signed in, another client, and a stranger practice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.helpers import Person, accept, add_client, invite_staff, new_practice, unique_email
from tests.mailbox import Mailbox


@dataclass
class Care:
    owner: Person
    provider: Person  # the client's primary provider
    outsider: Person  # a provider of the same practice, not on this client's team
    client: Person
    client_row: dict[str, Any]
    other_client: Person
    stranger: Person  # the owner of another practice

    @property
    def client_id(self) -> str:
        return str(self.client_row["id"])

    @property
    def thread(self) -> str:
        return str(self.client_row["care_thread_id"])


async def signed_in_client(http: httpx.AsyncClient, mailbox: Mailbox, provider: Person,
                           name: str = "Casey Client") -> tuple[Person, dict[str, Any]]:
    email = unique_email("client")
    row = await add_client(http, provider, name=name, email=email,
                           primary_provider_id=provider.id)
    person = await accept(http, (await mailbox.wait_for(email)).token)
    person.email = email
    return person, row


async def care_practice(http: httpx.AsyncClient, mailbox: Mailbox) -> Care:
    owner = await new_practice(http, "Between Visits Practice")
    provider = await invite_staff(http, mailbox, owner, name="Pat Provider")
    outsider = await invite_staff(http, mailbox, owner, name="Quinn Other")
    client, row = await signed_in_client(http, mailbox, provider, "Robin Hart")
    other_client, _ = await signed_in_client(http, mailbox, outsider, "Sam Else")
    stranger = await new_practice(http, "Elsewhere Practice")
    return Care(owner, provider, outsider, client, row, other_client, stranger)


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 10.0) -> Any:
    """Poll until `check` returns something truthy (or `within` seconds pass)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.1)


def kinds(events: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"].startswith(prefix)]


async def new_goal(http: httpx.AsyncClient, care: Care, **body: Any) -> dict[str, Any]:
    """The provider sets the client a goal; the goal as answered."""
    resp = await http.post(f"/clients/{care.client_id}/goals", json=body,
                           headers=care.provider.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["goal"])


def near_utc_midnight(at: str, within: int = 1200) -> bool:
    """Whether `at` (an ISO time) falls in the last `within` seconds of its UTC day: a daily
    goal set then sees a day end minutes later, so a story that moves the clock by whole days
    must move it off that edge."""
    moment = datetime.fromisoformat(at).astimezone(UTC)
    return moment.hour * 3600 + moment.minute * 60 + moment.second > 86400 - within
