"""Where other domains plug into onboarding moments (intake flows register here)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

log = logging.getLogger("carethread.onboarding")

GroupJoined = Callable[[uuid.UUID, uuid.UUID], Awaitable[None]]
ClientAdded = Callable[[uuid.UUID, uuid.UUID | None], Awaitable[None]]

# Called after commit, once per (client, group) move: when a provider adds a client to a
# group, moves them into one, or the client signs up through the group's link.
group_joined: list[GroupJoined] = []


# Called after commit, once per new client (any path), with the group it starts in, if any.
client_added: list[ClientAdded] = []


async def new_client(client_id: uuid.UUID, group_id: uuid.UUID | None) -> None:
    for hook in client_added:
        try:
            await hook(client_id, group_id)
        except Exception:
            log.exception("client-added hook %r failed for client %s", hook, client_id)


async def client_joined_group(client_id: uuid.UUID, group_id: uuid.UUID) -> None:
    for hook in group_joined:
        try:
            await hook(client_id, group_id)
        except Exception:
            log.exception("group-joined hook %r failed for client %s", hook, client_id)
