"""Broadcasts: one message to every client of a group or a list, each in the client's care
thread, from the sender, with the welcome message's placeholders filled per client.

The recipients are fixed when the broadcast is made (rows, one per client); the job sends them
in small batches, each recipient claimed with a compare-and-set in the transaction that appends
its message, so every client gets it once whatever the number of processes or restarts.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from server import clock
from server.accounts.tables import Organization, Profile
from server.broadcasts.tables import Broadcast, BroadcastRecipient
from server.db import write_transaction
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.identity import Identity
from server.onboarding import access
from server.onboarding.service import render_welcome
from server.onboarding.tables import Client
from server.scheduled.service import check_send_at
from server.threads import service as threads

SCHEDULED = "scheduled"
SENDING = "sending"
DONE = "done"
CANCELLED = "cancelled"
PENDING = "pending"
SENT = "sent"
FAILED = "failed"
MAX_RECIPIENTS = 20_000
# Recipients per transaction: a chat message waits for at most one batch to commit (the
# writer is shared on SQLite), so batches stay small; see bench/broadcast.py.
BATCH = 8
INSERT_CHUNK = 500


class BroadcastView(msgspec.Struct):
    id: uuid.UUID
    body: str
    sender_id: uuid.UUID
    group_id: uuid.UUID | None
    send_at: datetime
    status: str
    recipients: int  # how many clients it goes to, fixed when it was made
    sent: int
    failed: int
    pending: int
    created_at: datetime
    finished_at: datetime | None


class RecipientView(msgspec.Struct):
    client_id: uuid.UUID
    name: str
    status: str
    failure: str | None
    event_id: uuid.UUID | None


async def _recipients(identity: Identity, group_id: uuid.UUID | None,
                      client_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The clients the caller may message: a group's (only those on the caller's care teams,
    unless owner or admin) and each listed one (any not theirs to act on: 404, nothing sent)."""
    chosen: list[uuid.UUID] = []
    if group_id is not None:
        members = await access.group_client_ids(identity, group_id)
        if not identity.is_admin:
            mine = set(await access.team_client_ids(identity))
            members = [c for c in members if c in mine]
        chosen.extend(members)
    for cid in dict.fromkeys(client_ids):
        await access.client_access(identity, cid, team_only=True)
        chosen.append(cid)
    unique = list(dict.fromkeys(chosen))
    if not unique:
        return []
    active = {r["id"] for r in await Profile.select(Profile.id).where(
        Profile.organization == identity.organization_id, Profile.role == "client",
        Profile.status != "removed")}
    return [c for c in unique if c in active]


async def create(identity: Identity, *, body: str, group_id: uuid.UUID | None,
                 client_ids: list[uuid.UUID], send_at: datetime | None,
                 max_length: int) -> BroadcastView:
    if not identity.is_staff:
        raise Forbidden("Only the practice's team can send broadcasts.")
    threads.check_body(body, max_length)
    if group_id is None and not client_ids:
        raise InvalidInput("Choose a group or some clients.", code="no_recipients")
    when = check_send_at(send_at) if send_at is not None else clock.now()
    recipients = await _recipients(identity, group_id, client_ids)
    if not recipients:
        raise InvalidInput("None of those clients can get this message.", code="no_recipients")
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidInput(f"A broadcast goes to at most {MAX_RECIPIENTS} clients.",
                           code="too_many_recipients")
    broadcast_id = uuid.uuid4()
    async with write_transaction() as work:
        await Broadcast.insert(Broadcast(
            id=broadcast_id, organization=identity.organization_id, sender=identity.user_id,
            body=body, group_id=group_id, send_at=when,
            status=SCHEDULED if send_at is not None else SENDING,
            recipient_count=len(recipients), created_at=clock.now(),
        ))
        for start in range(0, len(recipients), INSERT_CHUNK):
            await BroadcastRecipient.insert(*[
                BroadcastRecipient(broadcast=broadcast_id, client=c, status=PENDING)
                for c in recipients[start:start + INSERT_CHUNK]
            ])
        work.after_commit(_wake)
    return await get(identity, str(broadcast_id))


async def _own(identity: Identity, broadcast_id: str) -> dict[str, Any]:
    bid = threads.parse_id(broadcast_id, "broadcast")
    query = Broadcast.select().where(
        Broadcast.id == bid, Broadcast.organization == identity.organization_id)
    if not identity.is_admin:
        query = query.where(Broadcast.sender == identity.user_id)
    row = await query.first() if identity.is_staff else None
    if row is None:
        raise NotFound("No such broadcast.")
    return row


async def _counts(ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    if not ids:
        return {}
    placeholders = ", ".join("{}" for _ in ids)
    rows = await BroadcastRecipient.raw(
        "SELECT broadcast, status, COUNT(*) AS n FROM broadcast_recipient "
        f"WHERE broadcast IN ({placeholders}) GROUP BY broadcast, status", *ids)
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for r in rows:
        bid = r["broadcast"] if isinstance(r["broadcast"], uuid.UUID) else uuid.UUID(
            str(r["broadcast"]))
        counts.setdefault(bid, {})[r["status"]] = int(r["n"])
    return counts


def _view(row: dict[str, Any], counts: dict[str, int]) -> BroadcastView:
    return BroadcastView(
        id=row["id"], body=row["body"], sender_id=row["sender"], group_id=row["group_id"],
        send_at=row["send_at"], status=row["status"], recipients=row["recipient_count"],
        sent=counts.get(SENT, 0), failed=counts.get(FAILED, 0),
        pending=counts.get(PENDING, 0), created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


async def get(identity: Identity, broadcast_id: str) -> BroadcastView:
    """The progress view: how many are sent, failed and still pending."""
    row = await _own(identity, broadcast_id)
    return _view(row, (await _counts([row["id"]])).get(row["id"], {}))


async def list_broadcasts(identity: Identity) -> list[BroadcastView]:
    if not identity.is_staff:
        return []
    query = Broadcast.select().where(Broadcast.organization == identity.organization_id)
    if not identity.is_admin:
        query = query.where(Broadcast.sender == identity.user_id)
    rows = await query.order_by(Broadcast.created_at, ascending=False).limit(100)
    counts = await _counts([r["id"] for r in rows])
    return [_view(r, counts.get(r["id"], {})) for r in rows]


async def recipients(identity: Identity, broadcast_id: str) -> list[RecipientView]:
    row = await _own(identity, broadcast_id)
    rows = await BroadcastRecipient.select(
        BroadcastRecipient.client, BroadcastRecipient.client.name.as_alias("name"),
        BroadcastRecipient.status, BroadcastRecipient.failure, BroadcastRecipient.event_id,
    ).where(BroadcastRecipient.broadcast == row["id"]).order_by(
        BroadcastRecipient.client.name)
    return [RecipientView(r["client"], r["name"], r["status"], r["failure"], r["event_id"])
            for r in rows]


async def cancel(identity: Identity, broadcast_id: str) -> BroadcastView:
    """Stop a broadcast: clients not reached yet get nothing."""
    row = await _own(identity, broadcast_id)
    async with write_transaction():
        done = await Broadcast.update({
            Broadcast.status: CANCELLED, Broadcast.finished_at: clock.now(),
        }).where(Broadcast.id == row["id"], Broadcast.status.is_in([SCHEDULED, SENDING])
                 ).returning(Broadcast.id)
        if not done:
            raise Conflict(f"This broadcast is already {row['status']}.", code="not_pending")
        await BroadcastRecipient.update({BroadcastRecipient.status: CANCELLED}).where(
            BroadcastRecipient.broadcast == row["id"], BroadcastRecipient.status == PENDING)
    return await get(identity, broadcast_id)


# --- the job -------------------------------------------------------------------------------

_waker: list[Any] = []


def _wake() -> None:
    for wake in _waker:
        wake()


def install(wake: Any) -> None:
    _waker[:] = [wake]


async def send_due() -> bool:
    """Work on every due broadcast; True when one has more recipients waiting."""
    due = await Broadcast.select().where(
        Broadcast.status.is_in([SCHEDULED, SENDING]), Broadcast.send_at <= clock.now(),
    ).order_by(Broadcast.send_at).limit(10)
    more = False
    for row in due:
        if row["status"] == SCHEDULED:
            await Broadcast.update({Broadcast.status: SENDING}).where(
                Broadcast.id == row["id"], Broadcast.status == SCHEDULED)
        if await send_batch(row):
            more = True
    return more


async def send_batch(broadcast: dict[str, Any]) -> bool:
    """Send to the next few pending recipients; True if some may remain."""
    # From a random point of the id space: several processes working on one broadcast take
    # different rows instead of queueing on the same ones.
    pending: list[dict[str, Any]] = []
    for start in (uuid.uuid4(), None):
        query = BroadcastRecipient.select(BroadcastRecipient.id).where(
            BroadcastRecipient.broadcast == broadcast["id"],
            BroadcastRecipient.status == PENDING)
        if start is not None:
            query = query.where(BroadcastRecipient.id >= start)
        pending = await query.order_by(BroadcastRecipient.id).limit(BATCH)
        if pending:
            break
    if not pending:
        await Broadcast.update({Broadcast.status: DONE, Broadcast.finished_at: clock.now()}
                               ).where(Broadcast.id == broadcast["id"],
                                       Broadcast.status == SENDING)
        return False
    sender = await Profile.select(Profile.name, Profile.status).where(
        Profile.id == broadcast["sender"]).first()
    sender_active = sender is not None and sender["status"] == "active"
    org = await Organization.select(Organization.name).where(
        Organization.id == broadcast["organization"]).first()
    sender_name = sender["name"] if sender else ""
    practice_name = org["name"] if org else ""
    async with write_transaction():
        if not await Broadcast.exists().where(Broadcast.id == broadcast["id"],
                                              Broadcast.status == SENDING):
            return False  # cancelled meanwhile
        # The claim: only rows still pending are ours, whoever else is sending this broadcast.
        claimed = await BroadcastRecipient.update({
            BroadcastRecipient.status: SENT, BroadcastRecipient.sent_at: clock.now(),
        }).where(
            BroadcastRecipient.id.is_in([p["id"] for p in pending]),
            BroadcastRecipient.status == PENDING,
        ).returning(BroadcastRecipient.id, BroadcastRecipient.client)
        if not claimed:
            return True
        ids = [c["client"] for c in claimed]
        clients = await Client.select(Client.id, Client.care_thread).where(Client.id.is_in(ids))
        people = {p["id"]: p for p in await Profile.select(
            Profile.id, Profile.name, Profile.status).where(Profile.id.is_in(ids))}
        by_id = {c["id"]: {**c, **people.get(c["id"], {"name": "", "status": "removed"})}
                 for c in clients}
        for item in claimed:
            client = by_id.get(item["client"])
            failure = None
            if client is None or client["care_thread"] is None or client["status"] == "removed":
                failure = "client_removed"
            else:
                body = render_welcome(broadcast["body"], client_name=client["name"],
                                      practice_name=practice_name, provider_name=sender_name)
                event = None if not sender_active else \
                    await threads.send_as_member_in_transaction(
                        client["care_thread"], broadcast["sender"], broadcast["organization"],
                        body=body, client_id=f"broadcast:{broadcast['id']}",
                        data={"broadcast_id": str(broadcast["id"])}, author_checked=True,
                    )
                if event is None:
                    failure = "not_a_member"
                else:
                    await BroadcastRecipient.update({BroadcastRecipient.event_id: event.id}
                                                    ).where(BroadcastRecipient.id == item["id"])
            if failure is not None:
                await BroadcastRecipient.update({
                    BroadcastRecipient.status: FAILED, BroadcastRecipient.failure: failure,
                }).where(BroadcastRecipient.id == item["id"])
    return True
