"""Tasks: the care team assigns, the client checks off; repeating tasks open their next
occurrence; a reminder before the due time (a job); the practice's task templates.

Each moment is an event in the client's care thread: `task.assigned`, `task.completed`,
`task.reminded`, `task.cancelled`. Who may do what follows server/onboarding/access.py: the
client's care team (owners/admins: any client) assigns and cancels, the client checks off their
own, and everyone else is answered 404.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

from server import clock
from server.accounts.tables import Account, Profile
from server.db import write_transaction
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.feed import service as feed
from server.identity import Identity
from server.mail import service as mail
from server.onboarding import access
from server.onboarding.tables import Client
from server.settings import Settings
from server.tasks.tables import Task, TaskTemplate
from server.threads import service as threads

Repeat = Literal["daily", "weekly"]
PERIODS: dict[str, timedelta] = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
OPEN, DONE, CANCELLED = "open", "done", "cancelled"
MAX_LIST = 500
MAX_TEMPLATE_DAYS = 365


class TaskView(msgspec.Struct):
    id: str
    client_id: str
    title: str
    due_at: datetime | None
    repeat: str | None
    status: str
    overdue: bool
    note: str | None
    series_id: str
    occurrence: int
    assigned_by: str | None
    template_id: str | None
    created_at: datetime
    completed_at: datetime | None
    reminded_at: datetime | None
    client_name: str | None = None


class TemplateView(msgspec.Struct):
    id: str
    title: str
    repeat: str | None
    due_in_days: int | None
    created_at: datetime


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def utc(value: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def task_view(row: dict[str, Any], now: datetime | None = None) -> TaskView:
    current = now or clock.now()
    return TaskView(
        id=str(row["id"]), client_id=str(row["client"]), title=row["title"],
        due_at=row["due_at"], repeat=row["repeat"], status=row["status"],
        overdue=row["status"] == OPEN and row["due_at"] is not None and row["due_at"] < current,
        note=row["note"], series_id=str(row["series"]), occurrence=row["occurrence"],
        assigned_by=_s(row["assigned_by"]), template_id=_s(row["template"]),
        created_at=row["created_at"], completed_at=row["completed_at"],
        reminded_at=row["reminded_at"], client_name=row.get("client_name"),
    )


def _title(raw: str) -> str:
    title = " ".join(raw.split())
    if not title:
        raise InvalidInput("A task needs a title.", extra={"field": "title"})
    return title


def _remind_at(settings: Settings, due_at: datetime | None, now: datetime) -> datetime | None:
    """The reminder goes out this long before the due time; none if that moment has passed
    (the assignment itself is the news then)."""
    if due_at is None:
        return None
    at = due_at - timedelta(minutes=settings.task_reminder_minutes)
    return at if at > now else None


def _parse(raw: str | uuid.UUID, what: str) -> uuid.UUID:
    return threads.parse_id(raw, what)


# --- assigning ---------------------------------------------------------------------------------


async def assign_task(
    settings: Settings, identity: Identity, client_id: str | uuid.UUID, *,
    title: str | None = None, due_at: datetime | None = None, repeat: str | None = None,
    template_id: uuid.UUID | None = None,
) -> TaskView:
    """The care team gives a client a task: `task.assigned` in the care thread."""
    who = await access.client_access(identity, client_id, team_only=True)
    now = clock.now()
    due_at = utc(due_at)
    template = None
    if template_id is not None:
        template = await TaskTemplate.select().where(
            TaskTemplate.id == template_id,
            TaskTemplate.organization == identity.organization_id).first()
        if template is None:
            raise NotFound("No such task template.")
        title = title or template["title"]
        repeat = repeat or template["repeat"]
        if due_at is None and template["due_in_days"] is not None:
            due_at = now + timedelta(days=template["due_in_days"])
    if title is None:
        raise InvalidInput("A task needs a title.", extra={"field": "title"})
    async with write_transaction():
        row = await create_task_in_transaction(
            settings, who, title=title, due_at=due_at, repeat=repeat,
            assigned_by=identity.user_id, template=template["id"] if template else None)
    return task_view(row, now)


async def create_task_in_transaction(
    settings: Settings, who: access.ClientAccess, *, title: str,
    due_at: datetime | None = None, repeat: str | None = None,
    assigned_by: uuid.UUID | None = None, template: uuid.UUID | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Insert an open task and write `task.assigned`; for other domains too (a program's task
    module). Runs inside the caller's write transaction."""
    if repeat is not None and repeat not in PERIODS:
        raise InvalidInput("repeat is daily or weekly.", extra={"field": "repeat"})
    now = clock.now()
    if repeat is not None and due_at is None:
        due_at = now + PERIODS[repeat]  # a repeating task needs a rhythm to keep
    task_id = uuid.uuid4()
    row: dict[str, Any] = {
        "id": task_id, "organization": who.organization_id, "client": who.client_id,
        "series": task_id, "occurrence": 1, "title": _title(title), "repeat": repeat,
        "due_at": due_at, "status": OPEN, "note": None, "assigned_by": assigned_by,
        "template": template, "remind_at": _remind_at(settings, due_at, now),
        "reminded_at": None, "created_at": now, "completed_at": None, "cancelled_at": None,
    }
    await Task.insert(Task(**row))
    await threads.append_in_transaction(
        who.care_thread_id, "task.assigned", assigned_by,
        data={"task_id": str(task_id), "title": row["title"],
              "due_at": due_at.isoformat() if due_at else None, "repeat": repeat,
              **(extra or {})})
    return row


# --- reading -----------------------------------------------------------------------------------


async def list_tasks(identity: Identity, client_id: str, *, status: str | None = None
                     ) -> list[TaskView]:
    """A client's tasks: open ones first (soonest due first), then the rest, newest first."""
    who = await access.client_access(identity, client_id)
    query = Task.select().where(Task.client == who.client_id,
                                Task.organization == who.organization_id)
    if status is not None:
        query = query.where(Task.status == status)
    rows = await query.order_by(Task.created_at, ascending=False).limit(MAX_LIST)
    now = clock.now()
    far = datetime.max.replace(tzinfo=UTC)
    rows.sort(key=lambda r: (r["status"] != OPEN,
                             (r["due_at"] or far) if r["status"] == OPEN else far))
    return [task_view(r, now) for r in rows]


async def team_tasks(identity: Identity, *, overdue: bool = False, status: str | None = None,
                     limit: int = 200) -> list[TaskView]:
    """The tasks of every client whose care team the caller is on (overdue ones: the team's
    watch list)."""
    if not identity.is_staff:
        raise Forbidden("Only the practice's team sees tasks across clients.")
    ids = await access.team_client_ids(identity)
    if not ids:
        return []
    now = clock.now()
    query = Task.select(*Task.all_columns(), Task.client.name.as_alias("client_name")).where(
        Task.organization == identity.organization_id, Task.client.is_in(ids),
        Task.client.status != "removed")
    if overdue:
        query = query.where(Task.status == OPEN, Task.due_at < now)
    elif status is not None:
        query = query.where(Task.status == status)
    rows = await query.order_by(Task.due_at).limit(limit)
    return [task_view(r, now) for r in rows]


async def _task_for(identity: Identity, task_id: str) -> tuple[dict[str, Any],
                                                               access.ClientAccess]:
    tid = _parse(task_id, "task")
    row = await Task.select().where(Task.id == tid,
                                    Task.organization == identity.organization_id).first()
    if row is None:
        raise NotFound("No such task.")
    try:
        who = await access.client_access(identity, row["client"])
    except NotFound:
        raise NotFound("No such task.") from None
    return row, who


async def get_task(identity: Identity, task_id: str) -> TaskView:
    row, _ = await _task_for(identity, task_id)
    return task_view(row)


# --- completing and cancelling -----------------------------------------------------------------


def next_due(row: dict[str, Any], completed_at: datetime) -> datetime:
    """A repeating task's next due time: one period after this one's, stepped past now so a
    late check-off never leaves a pile of overdue copies."""
    step = PERIODS[row["repeat"]]
    due = (row["due_at"] or completed_at) + step
    while due <= completed_at:
        due += step
    return due


async def complete_task(settings: Settings, identity: Identity, task_id: str,
                        note: str | None = None) -> TaskView:
    """The client checks off their task (with an optional note): `task.completed`; a repeating
    task opens its next occurrence."""
    row, who = await _task_for(identity, task_id)
    if who.as_team:
        raise Forbidden("Only the client checks off their task.")
    note = note.strip() if note and note.strip() else None
    now = clock.now()
    async with write_transaction():
        done = await Task.update({
            Task.status: DONE, Task.note: note, Task.completed_at: now, Task.remind_at: None,
        }).where(Task.id == row["id"], Task.status == OPEN).returning(Task.id)
        if not done:
            raise Conflict(f"This task is {row['status']}.", code="task_closed")
        following = None
        if row["repeat"]:
            due = next_due(row, now)
            following = {
                **row, "id": uuid.uuid4(), "occurrence": row["occurrence"] + 1, "due_at": due,
                "status": OPEN, "note": None, "remind_at": _remind_at(settings, due, now),
                "reminded_at": None, "created_at": now, "completed_at": None,
                "cancelled_at": None,
            }
            await Task.insert(Task(**following))
        event = await threads.append_in_transaction(
            who.care_thread_id, "task.completed", identity.user_id,
            data={"task_id": str(row["id"]), "title": row["title"], "note": note,
                  "next_task_id": str(following["id"]) if following else None,
                  "next_due_at": following["due_at"].isoformat() if following else None})
        await feed.record(event, client_id=who.client_id,
                          organization_id=who.organization_id, category="task")
    return task_view({**row, "status": DONE, "note": note, "completed_at": now,
                      "remind_at": None}, now)


async def cancel_task(identity: Identity, task_id: str) -> TaskView:
    """The care team withdraws an open task (a repeating one stops repeating)."""
    row, who = await _task_for(identity, task_id)
    if not who.as_team:
        raise Forbidden("Only the client's care team can cancel a task.")
    now = clock.now()
    async with write_transaction():
        done = await Task.update({
            Task.status: CANCELLED, Task.cancelled_at: now, Task.remind_at: None,
        }).where(Task.id == row["id"], Task.status == OPEN).returning(Task.id)
        if not done:
            raise Conflict(f"This task is {row['status']}.", code="task_closed")
        await threads.append_in_transaction(
            who.care_thread_id, "task.cancelled", identity.user_id,
            data={"task_id": str(row["id"]), "title": row["title"]})
    return task_view({**row, "status": CANCELLED, "cancelled_at": now}, now)


# --- the reminder job --------------------------------------------------------------------------


async def due_reminders(limit: int = 100) -> list[dict[str, Any]]:
    return await Task.select().where(
        Task.status == OPEN, Task.remind_at <= clock.now(), Task.client.status != "removed",
    ).order_by(Task.remind_at).limit(limit)


async def send_reminder(settings: Settings, row: dict[str, Any]) -> bool:
    """One task's reminder, claimed by compare-and-set on `remind_at` inside the transaction
    that writes the event and queues the email: exactly once across processes and restarts.
    The email names no task (health information stays in the app)."""
    async with write_transaction():
        claimed = await Task.update({Task.remind_at: None, Task.reminded_at: clock.now()}).where(
            Task.id == row["id"], Task.status == OPEN, Task.remind_at == row["remind_at"],
        ).returning(Task.id)
        if not claimed:
            return False
        client = await Client.select(Client.care_thread).where(
            Client.id == row["client"]).first()
        if client is None or client["care_thread"] is None:
            return False
        await threads.append_in_transaction(
            client["care_thread"], "task.reminded", None,
            data={"task_id": str(row["id"]), "title": row["title"],
                  "due_at": row["due_at"].isoformat() if row["due_at"] else None})
        profile = await Profile.select(Profile.account).where(Profile.id == row["client"]).first()
        if profile and profile["account"]:
            account = await Account.select(Account.email).where(
                Account.id == profile["account"]).first()
            if account:
                await mail.enqueue(
                    account["email"], "A task from your practice is due soon",
                    "A task your practice gave you is due soon.\n\n"
                    f"Open Carethread to see it:\n{settings.base_url}/#/today\n")
    return True


# --- templates ---------------------------------------------------------------------------------


def template_view(row: dict[str, Any]) -> TemplateView:
    return TemplateView(id=str(row["id"]), title=row["title"], repeat=row["repeat"],
                        due_in_days=row["due_in_days"], created_at=row["created_at"])


def _require_team(identity: Identity) -> None:
    if not identity.is_staff:
        raise NotFound("Not found.")


async def create_template(identity: Identity, *, title: str, repeat: str | None,
                          due_in_days: int | None) -> TemplateView:
    _require_team(identity)
    if repeat is not None and repeat not in PERIODS:
        raise InvalidInput("repeat is daily or weekly.", extra={"field": "repeat"})
    if due_in_days is not None and not 0 <= due_in_days <= MAX_TEMPLATE_DAYS:
        raise InvalidInput(f"due_in_days is 0 to {MAX_TEMPLATE_DAYS}.",
                           extra={"field": "due_in_days"})
    row: dict[str, Any] = {"id": uuid.uuid4(), "organization": identity.organization_id,
           "title": _title(title),
           "repeat": repeat, "due_in_days": due_in_days, "created_by": identity.user_id,
           "created_at": clock.now()}
    await TaskTemplate.insert(TaskTemplate(**row))
    return template_view(row)


async def list_templates(identity: Identity) -> list[TemplateView]:
    _require_team(identity)
    rows = await TaskTemplate.select().where(
        TaskTemplate.organization == identity.organization_id).order_by(TaskTemplate.title)
    return [template_view(r) for r in rows]


async def delete_template(identity: Identity, template_id: str) -> None:
    _require_team(identity)
    tid = _parse(template_id, "task template")
    where = (TaskTemplate.id == tid) & (TaskTemplate.organization == identity.organization_id)
    if not await TaskTemplate.exists().where(where):
        raise NotFound("No such task template.")
    await TaskTemplate.delete().where(where)


async def ids_of_client(client_id: uuid.UUID, ids: list[uuid.UUID]) -> bool:
    """True when every id names a task of this client (for care plans' links)."""
    if not ids:
        return True
    rows = await Task.select(Task.id).where(Task.id.is_in(ids), Task.client == client_id)
    return len(rows) == len(set(ids))
