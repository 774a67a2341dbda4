"""Programs: a sequence of modules on day N after enrolment (text, a form to fill, a task).

Enrolling a client makes one pending delivery per module, due at the enrolment's start plus N
days. The delivery job claims each due delivery by compare-and-set (pending -> delivered) in the
same transaction that locks the enrolment (still active?) and writes `program.module` in the
care thread, so a module arrives once, across processes and restarts, and never while the
enrolment is paused or after it ended. Pausing moves the remaining days on by the pause's
length when it resumes; ending cancels what is pending. A module added later reaches every
enrolment that has not passed its day. The client marks a delivered module done; the team sees
each client's progress (done, open, late, upcoming).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec

from server import background, clock, richtext
from server.db import is_unique_violation, write_transaction
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.feed import service as feed
from server.files import service as files
from server.files.service import FileView
from server.forms import service as forms
from server.identity import Identity
from server.onboarding import access
from server.onboarding.tables import Client
from server.programs.tables import Enrollment, ModuleDelivery, Program, ProgramModule
from server.settings import Settings
from server.tasks import service as tasks
from server.threads import service as threads

MAX_DAY = 365
MAX_MODULES = 200
MAX_ENROLL = 1000
MAX_FILES = 20
FILE_HOLDER = "program_module"
LATE_AFTER = timedelta(days=1)  # a delivered module not done a day later is late
ACTIVE, PAUSED, ENDED = "active", "paused", "ended"
PENDING, DELIVERED, CANCELLED = "pending", "delivered", "cancelled"
JOB = "program-modules"
# The kind docs/api.md has named since programs landed (the feed and the web client follow it).
MODULE_DONE = "program.module_done"
DAY = timedelta(days=1)


class ModuleIn(msgspec.Struct):
    day: int
    title: str
    body: str = ""
    form_id: uuid.UUID | None = None
    file_ids: list[uuid.UUID] = msgspec.field(default_factory=list)
    task_title: str | None = None


class ModuleView(msgspec.Struct):
    id: str
    day: int
    title: str
    body: str
    html: str
    form_id: str | None
    task_title: str | None
    file_ids: list[str]
    files: list[FileView] = msgspec.field(default_factory=list)


class ProgramView(msgspec.Struct):
    id: str
    title: str
    description: str
    archived: bool
    modules: list[ModuleView]
    created_at: datetime
    enrolled: int = 0


class DeliveryView(msgspec.Struct):
    module_id: str
    day: int
    title: str
    status: str  # upcoming | open | late | done | cancelled
    due_at: datetime
    delivered_at: datetime | None
    done_at: datetime | None
    body: str | None = None
    html: str | None = None
    form_request_id: str | None = None
    task_id: str | None = None
    files: list[FileView] = msgspec.field(default_factory=list)  # once it has arrived


class Progress(msgspec.Struct):
    done: int
    open: int
    late: int
    upcoming: int
    total: int
    state: str  # not_started | on_track | late | done


class EnrollmentView(msgspec.Struct):
    id: str
    program_id: str
    program_title: str
    client_id: str
    client_name: str | None
    status: str
    starts_at: datetime
    paused_at: datetime | None
    ended_at: datetime | None
    created_at: datetime
    progress: Progress
    modules: list[DeliveryView]


class EnrollResult(msgspec.Struct):
    enrollments: list[EnrollmentView]
    skipped: list[str]  # clients already enrolled (active or paused)


# --- programs ----------------------------------------------------------------------------------


def _title(raw: str, field: str = "title") -> str:
    title = " ".join(raw.split())
    if not title or len(title) > 200:
        raise InvalidInput("A title of 1 to 200 characters is needed.", extra={"field": field})
    return title


def _team(identity: Identity) -> None:
    if not identity.is_staff:
        raise NotFound("Not found.")


async def _check_modules(identity: Identity, modules: list[ModuleIn]) -> list[dict[str, Any]]:
    """Every module checked before anything is written: days in range, forms of this practice
    (another practice's is not found). Files are claimed as the modules are inserted
    (`_insert_module`), in the same transaction."""
    if len(modules) > MAX_MODULES:
        raise InvalidInput(f"At most {MAX_MODULES} modules.", extra={"field": "modules"})
    rows = []
    for i, module in enumerate(modules):
        if not 0 <= module.day <= MAX_DAY:
            raise InvalidInput(f"A module's day is 0 to {MAX_DAY}.",
                               code="day_out_of_range", extra={"field": f"modules[{i}].day"})
        if module.form_id is not None and await forms.form_title(
                identity.organization_id, module.form_id) is None:
            raise NotFound("No such form.")
        if len(set(module.file_ids)) > MAX_FILES:
            raise InvalidInput(f"At most {MAX_FILES} files in a module.",
                               extra={"field": f"modules[{i}].file_ids"})
        rows.append({
            "id": uuid.uuid4(), "day": module.day, "title": _title(module.title),
            "body": module.body, "body_html": await richtext.render_async(module.body),
            "form": module.form_id,
            "task_title": _title(module.task_title, "task_title") if module.task_title
            else None,
            "file_ids": list(dict.fromkeys(module.file_ids)),
        })
    return rows


async def _insert_module(identity: Identity, row: dict[str, Any], program_id: uuid.UUID,
                         now: datetime) -> None:
    """Inside the caller's write transaction: the module, holding its files (the caller's
    uploads; anything else is not found and the transaction creates nothing)."""
    await files.hold_in_transaction(identity, row["file_ids"], kind=FILE_HOLDER,
                                    holder_id=row["id"])
    await ProgramModule.insert(ProgramModule(
        **{**row, "file_ids": json.dumps([str(i) for i in row["file_ids"]])},
        program=program_id, created_at=now))


def _ids(value: Any) -> list[uuid.UUID]:
    raw = json.loads(value) if isinstance(value, str) else value
    return [uuid.UUID(str(i)) for i in raw or []]


def module_view(row: dict[str, Any], views: dict[uuid.UUID, FileView] | None = None
                ) -> ModuleView:
    ids = _ids(row["file_ids"])
    return ModuleView(id=str(row["id"]), day=row["day"], title=row["title"], body=row["body"],
                      html=row["body_html"], form_id=str(row["form"]) if row["form"] else None,
                      task_title=row["task_title"], file_ids=[str(i) for i in ids],
                      files=[views[i] for i in ids if views and i in views])


async def _program_view(program: dict[str, Any]) -> ProgramView:
    modules = await ProgramModule.select().where(ProgramModule.program == program["id"]).order_by(
        ProgramModule.day).order_by(ProgramModule.created_at)
    enrolled = await Enrollment.count().where(Enrollment.program == program["id"],
                                              Enrollment.status != ENDED)
    views = await files.views_of([i for m in modules for i in _ids(m["file_ids"])])
    return ProgramView(id=str(program["id"]), title=program["title"],
                       description=program["description"], archived=program["archived"],
                       modules=[module_view(m, views) for m in modules],
                       created_at=program["created_at"], enrolled=enrolled)


async def _may_read_file(identity: Identity, module_id: uuid.UUID, file_id: uuid.UUID
                         ) -> bool:
    """Who reads a module's file: the practice's team (the library is theirs), and a client
    once the module has arrived for them."""
    module = await ProgramModule.select(ProgramModule.file_ids,
                                        ProgramModule.program.organization.as_alias("org")
                                        ).where(ProgramModule.id == module_id).first()
    if module is None or module["org"] != identity.organization_id:
        return False
    if file_id not in _ids(module["file_ids"]):
        return False
    if identity.is_staff:
        return True
    return bool(await ModuleDelivery.exists().where(
        ModuleDelivery.module == module_id, ModuleDelivery.status == DELIVERED,
        ModuleDelivery.enrollment.client == identity.user_id))


files.register_holder(FILE_HOLDER, _may_read_file)


async def create_program(identity: Identity, *, title: str, description: str,
                         modules: list[ModuleIn]) -> ProgramView:
    _team(identity)
    rows = await _check_modules(identity, modules)
    now = clock.now()
    program: dict[str, Any] = {"id": uuid.uuid4(), "organization": identity.organization_id,
               "title": _title(title), "description": description, "archived": False,
               "created_by": identity.user_id, "created_at": now}
    async with write_transaction():
        await Program.insert(Program(**program))
        for row in rows:
            await _insert_module(identity, row, program["id"], now)
    return await _program_view(program)


async def _program(identity: Identity, program_id: str | uuid.UUID) -> dict[str, Any]:
    _team(identity)
    pid = threads.parse_id(program_id, "program")
    row = await Program.select().where(
        Program.id == pid, Program.organization == identity.organization_id).first()
    if row is None:
        raise NotFound("No such program.")
    return row


async def list_programs(identity: Identity) -> list[ProgramView]:
    _team(identity)
    rows = await Program.select().where(
        Program.organization == identity.organization_id).order_by(Program.title)
    return [await _program_view(r) for r in rows]


async def get_program(identity: Identity, program_id: str) -> ProgramView:
    return await _program_view(await _program(identity, program_id))


async def add_module(identity: Identity, program_id: str, module: ModuleIn) -> ProgramView:
    """A module added later reaches every enrolment that has not passed its day."""
    program = await _program(identity, program_id)
    [row] = await _check_modules(identity, [module])
    now = clock.now()
    async with write_transaction() as tx:
        await _insert_module(identity, row, program["id"], now)
        enrollments = await Enrollment.select().where(
            Enrollment.program == program["id"], Enrollment.status.is_in([ACTIVE, PAUSED]))
        for enrollment in enrollments:
            # Paused: the clock of the enrolment stopped when it paused.
            at = enrollment["paused_at"] if enrollment["status"] == PAUSED else now
            today = (at - enrollment["starts_at"]) // DAY
            if row["day"] >= today:
                await ModuleDelivery.insert(ModuleDelivery(
                    enrollment=enrollment["id"], module=row["id"],
                    due_at=enrollment["starts_at"] + row["day"] * DAY, status=PENDING))
        tx.after_commit(lambda: background.wake(JOB))
    return await _program_view(program)


# --- enrolments --------------------------------------------------------------------------------


async def enroll(identity: Identity, program_id: str, *, client_ids: list[uuid.UUID],
                 group_id: uuid.UUID | None = None) -> EnrollResult:
    """Enrol one client, a list, or a group: `program.enrolled` in each care thread, and the
    modules follow on their days."""
    program = await _program(identity, program_id)
    if program["archived"]:
        raise Conflict("This program is archived.", code="program_archived")
    targets = list(dict.fromkeys(client_ids))
    if group_id is not None:
        if not identity.is_admin:
            raise Forbidden("Only owners and admins can enrol a whole group.")
        targets += [c for c in await access.group_client_ids(identity, group_id)
                    if c not in targets]
    if not targets:
        raise InvalidInput("Name at least one client (or a group with clients).",
                           extra={"field": "client_ids"})
    if len(targets) > MAX_ENROLL:
        raise InvalidInput(f"At most {MAX_ENROLL} clients at once.")
    who: list[access.ClientAccess] = []
    for client_id in targets:
        try:
            who.append(await access.client_access(identity, client_id, team_only=True))
        except NotFound:
            if group_id is None:
                raise
            # a removed client of the group is simply not enrolled
    modules = await ProgramModule.select().where(ProgramModule.program == program["id"])
    now = clock.now()
    created: list[uuid.UUID] = []
    skipped: list[str] = []
    try:
        async with write_transaction() as tx:
            for client in who:
                if await Enrollment.exists().where(
                        Enrollment.program == program["id"],
                        Enrollment.client == client.client_id,
                        Enrollment.status.is_in([ACTIVE, PAUSED])):
                    skipped.append(str(client.client_id))
                    continue
                enrollment_id = uuid.uuid4()
                await Enrollment.insert(Enrollment(
                    id=enrollment_id, organization=identity.organization_id,
                    program=program["id"], client=client.client_id, status=ACTIVE,
                    starts_at=now, enrolled_by=identity.user_id, created_at=now))
                for module in modules:
                    await ModuleDelivery.insert(ModuleDelivery(
                        enrollment=enrollment_id, module=module["id"],
                        due_at=now + module["day"] * DAY, status=PENDING))
                await threads.append_in_transaction(
                    client.care_thread_id, "program.enrolled", identity.user_id,
                    data={"program_id": str(program["id"]), "title": program["title"],
                          "enrollment_id": str(enrollment_id)})
                created.append(enrollment_id)
            # Read in the transaction: the answer shows what was enrolled, before the job
            # (woken after commit) delivers the day-0 modules.
            views = [await _enrollment_view(e) for e in await _enrollments(
                Enrollment.id.is_in(created))] if created else []
            tx.after_commit(lambda: background.wake(JOB))
    except Exception as exc:
        if is_unique_violation(exc):
            raise Conflict("A client was enrolled at the same moment; try again.",
                           code="already_enrolled") from None
        raise
    return EnrollResult(enrollments=views, skipped=skipped)


async def _enrollments(*where: Any) -> list[dict[str, Any]]:
    return await Enrollment.select(
        *Enrollment.all_columns(), Enrollment.program.title.as_alias("program_title"),
        Enrollment.client.name.as_alias("client_name")).where(*where).order_by(
        Enrollment.created_at, ascending=False)


def _delivery_status(row: dict[str, Any], now: datetime) -> str:
    if row["status"] == CANCELLED:
        return "cancelled"
    if row["status"] == PENDING:
        return "upcoming"
    if row["done_at"] is not None:
        return "done"
    return "late" if now > row["due_at"] + LATE_AFTER else "open"


async def _enrollment_view(enrollment: dict[str, Any], *, for_client: bool = False
                           ) -> EnrollmentView:
    now = clock.now()
    rows = await ModuleDelivery.select(
        *ModuleDelivery.all_columns(), ModuleDelivery.module.day.as_alias("day"),
        ModuleDelivery.module.title.as_alias("title"),
        ModuleDelivery.module.body.as_alias("body"),
        ModuleDelivery.module.body_html.as_alias("html"),
        ModuleDelivery.module.file_ids.as_alias("file_ids"),
    ).where(ModuleDelivery.enrollment == enrollment["id"]).order_by(ModuleDelivery.due_at)
    views = await files.views_of([i for r in rows if r["status"] == DELIVERED
                                  for i in _ids(r["file_ids"])])
    modules = []
    for r in rows:
        status = _delivery_status(r, now)
        if for_client and status in ("upcoming", "cancelled"):
            continue  # the client sees what has arrived
        delivered = r["status"] == DELIVERED
        modules.append(DeliveryView(
            module_id=str(r["module"]), day=r["day"], title=r["title"], status=status,
            due_at=r["due_at"], delivered_at=r["delivered_at"], done_at=r["done_at"],
            body=r["body"] if delivered else None, html=r["html"] if delivered else None,
            form_request_id=str(r["form_request"]) if r["form_request"] else None,
            task_id=str(r["task"]) if r["task"] else None,
            files=[views[i] for i in _ids(r["file_ids"]) if i in views] if delivered
            else []))
    counts = {k: sum(1 for r in rows if _delivery_status(r, now) == k)
              for k in ("done", "open", "late", "upcoming")}
    total = sum(counts.values())
    if total and counts["done"] == total:
        state = "done"
    elif counts["late"]:
        state = "late"
    elif counts["done"]:
        state = "on_track"
    else:
        state = "not_started"
    return EnrollmentView(
        id=str(enrollment["id"]), program_id=str(enrollment["program"]),
        program_title=enrollment["program_title"], client_id=str(enrollment["client"]),
        client_name=enrollment["client_name"], status=enrollment["status"],
        starts_at=enrollment["starts_at"], paused_at=enrollment["paused_at"],
        ended_at=enrollment["ended_at"], created_at=enrollment["created_at"],
        progress=Progress(total=total, state=state, **counts), modules=modules)


async def program_enrollments(identity: Identity, program_id: str) -> list[EnrollmentView]:
    """The team's view: every enrolment in the program of a client whose team the caller is
    on, with each client's progress."""
    program = await _program(identity, program_id)
    mine = await access.team_client_ids(identity)
    rows = await _enrollments(Enrollment.program == program["id"],
                              Enrollment.client.is_in(mine or [uuid.UUID(int=0)]))
    return [await _enrollment_view(r) for r in rows]


async def client_enrollments(identity: Identity, client_id: str) -> list[EnrollmentView]:
    """A client's programs (the client: the modules that have arrived)."""
    who = await access.client_access(identity, client_id)
    rows = await _enrollments(Enrollment.client == who.client_id,
                              Enrollment.organization == who.organization_id)
    if not who.as_team:
        rows = [r for r in rows if r["status"] != ENDED]
    return [await _enrollment_view(r, for_client=not who.as_team) for r in rows]


async def _enrollment_for(identity: Identity, enrollment_id: str
                          ) -> tuple[dict[str, Any], access.ClientAccess]:
    eid = threads.parse_id(enrollment_id, "enrollment")
    rows = await _enrollments(Enrollment.id == eid,
                              Enrollment.organization == identity.organization_id)
    if not rows:
        raise NotFound("No such enrollment.")
    try:
        who = await access.client_access(identity, rows[0]["client"])
    except NotFound:
        raise NotFound("No such enrollment.") from None
    return rows[0], who


async def get_enrollment(identity: Identity, enrollment_id: str) -> EnrollmentView:
    row, who = await _enrollment_for(identity, enrollment_id)
    return await _enrollment_view(row, for_client=not who.as_team)


async def set_status(identity: Identity, enrollment_id: str, action: str) -> EnrollmentView:
    """pause (active -> paused), resume (paused -> active, the remaining days move on by the
    pause), end (active or paused -> ended, pending modules cancelled)."""
    row, who = await _enrollment_for(identity, enrollment_id)
    if not who.as_team:
        raise Forbidden("Only the client's care team can change an enrolment.")
    now = clock.now()
    allowed = {"pause": [ACTIVE], "resume": [PAUSED], "end": [ACTIVE, PAUSED]}[action]
    async with write_transaction() as tx:
        current = await Enrollment.select().where(Enrollment.id == row["id"]).first()
        assert current is not None
        updates: dict[Any, Any]
        if action == "pause":
            updates = {Enrollment.status: PAUSED, Enrollment.paused_at: now}
        elif action == "resume":
            updates = {Enrollment.status: ACTIVE, Enrollment.paused_at: None}
        else:
            updates = {Enrollment.status: ENDED, Enrollment.ended_at: now}
        changed = await Enrollment.update(updates).where(
            Enrollment.id == row["id"], Enrollment.status.is_in(allowed),
            Enrollment.status == current["status"]).returning(Enrollment.id)
        if not changed:
            raise Conflict(f"This enrolment is {current['status']}.",
                           code=f"enrollment_{current['status']}")
        if action == "resume" and current["paused_at"] is not None:
            shift = now - current["paused_at"]
            await Enrollment.update({Enrollment.starts_at: current["starts_at"] + shift}).where(
                Enrollment.id == row["id"])
            pending = await ModuleDelivery.select(ModuleDelivery.id,
                                                  ModuleDelivery.due_at).where(
                ModuleDelivery.enrollment == row["id"], ModuleDelivery.status == PENDING)
            for p in pending:
                await ModuleDelivery.update({ModuleDelivery.due_at: p["due_at"] + shift}).where(
                    ModuleDelivery.id == p["id"], ModuleDelivery.status == PENDING)
            tx.after_commit(lambda: background.wake(JOB))
        if action == "end":
            await ModuleDelivery.update({ModuleDelivery.status: CANCELLED}).where(
                ModuleDelivery.enrollment == row["id"], ModuleDelivery.status == PENDING)
        kind = {"pause": "program.paused", "resume": "program.resumed",
                "end": "program.ended"}[action]
        await threads.append_in_transaction(
            who.care_thread_id, kind, identity.user_id,
            data={"program_id": str(row["program"]), "title": row["program_title"],
                  "enrollment_id": str(row["id"])})
    return await get_enrollment(identity, enrollment_id)


async def mark_done(identity: Identity, enrollment_id: str, module_id: str) -> EnrollmentView:
    """The client marks a module that has arrived as done: `program.module_done`."""
    row, who = await _enrollment_for(identity, enrollment_id)
    if who.as_team:
        raise Forbidden("Only the client marks a module done.")
    mid = threads.parse_id(module_id, "module")
    delivery = await ModuleDelivery.select(
        *ModuleDelivery.all_columns(), ModuleDelivery.module.title.as_alias("title"),
        ModuleDelivery.module.day.as_alias("day")).where(
        ModuleDelivery.enrollment == row["id"], ModuleDelivery.module == mid).first()
    if delivery is None or delivery["status"] != DELIVERED:
        raise NotFound("No such module (it may not have arrived yet).")
    async with write_transaction():
        done = await ModuleDelivery.update({ModuleDelivery.done_at: clock.now()}).where(
            ModuleDelivery.id == delivery["id"], ModuleDelivery.done_at.is_null()).returning(
            ModuleDelivery.id)
        if not done:
            raise Conflict("This module is already done.", code="module_done")
        event = await threads.append_in_transaction(
            who.care_thread_id, MODULE_DONE, identity.user_id,
            data={"program_id": str(row["program"]), "enrollment_id": str(row["id"]),
                  "module_id": str(mid), "title": delivery["title"],
                  "program_title": row["program_title"], "day": delivery["day"]})
        await feed.record(event, client_id=who.client_id,
                          organization_id=who.organization_id, category="program")
    return await get_enrollment(identity, enrollment_id)


# --- the delivery job --------------------------------------------------------------------------


async def due_deliveries(limit: int = 100) -> list[dict[str, Any]]:
    return await ModuleDelivery.select().where(
        ModuleDelivery.status == PENDING, ModuleDelivery.due_at <= clock.now(),
        ModuleDelivery.enrollment.status == ACTIVE,
    ).order_by(ModuleDelivery.due_at).limit(limit)


async def deliver(settings: Settings, row: dict[str, Any]) -> bool:
    """Deliver one module: lock the enrolment (still active?), claim the delivery
    (pending -> delivered) and write `program.module` (with its form request or task) in one
    transaction. Another process, a pause or an end that came first leaves nothing to do."""
    async with write_transaction():
        enrollment = await Enrollment.update({Enrollment.status: ACTIVE}).where(
            Enrollment.id == row["enrollment"], Enrollment.status == ACTIVE,
        ).returning(Enrollment.id, Enrollment.client, Enrollment.program,
                    Enrollment.organization)
        if not enrollment:
            return False
        now = clock.now()
        claimed = await ModuleDelivery.update({
            ModuleDelivery.status: DELIVERED, ModuleDelivery.delivered_at: now,
        }).where(ModuleDelivery.id == row["id"], ModuleDelivery.status == PENDING,
                 ModuleDelivery.due_at <= now).returning(ModuleDelivery.id)
        if not claimed:
            return False
        e = enrollment[0]
        module = await ProgramModule.select().where(ProgramModule.id == row["module"]).first()
        program = await Program.select(Program.title).where(Program.id == e["program"]).first()
        client = await Client.select(Client.care_thread).where(Client.id == e["client"]).first()
        if module is None or program is None or client is None or not client["care_thread"]:
            return True
        who = access.ClientAccess(e["client"], e["organization"], client["care_thread"],
                                  as_team=True)
        request_id = None
        if module["form"] is not None:
            request_id = await forms.request_in_transaction(
                settings, module["form"], e["client"], client["care_thread"])
        task_id = None
        if module["task_title"]:
            task = await tasks.create_task_in_transaction(
                settings, who, title=module["task_title"], due_at=now + DAY,
                extra={"program_id": str(e["program"]), "module_id": str(module["id"])})
            task_id = task["id"]
        file_ids = _ids(module["file_ids"])
        views = await files.views_of(file_ids)
        event = await threads.append_in_transaction(
            client["care_thread"], "program.module", None,
            data={"program_id": str(e["program"]), "program_title": program["title"],
                  "enrollment_id": str(row["enrollment"]), "module_id": str(module["id"]),
                  "day": module["day"], "title": module["title"], "body": module["body"],
                  "html": module["body_html"],
                  "form_request_id": str(request_id) if request_id else None,
                  "task_id": str(task_id) if task_id else None,
                  "files": [msgspec.to_builtins(views[i]) for i in file_ids if i in views]})
        await ModuleDelivery.update({
            ModuleDelivery.event_id: event.id, ModuleDelivery.form_request: request_id,
            ModuleDelivery.task: task_id,
        }).where(ModuleDelivery.id == row["id"])
    return True
