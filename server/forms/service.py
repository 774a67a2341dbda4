"""Forms and form requests: building, requesting, filling, tracking; each moment a thread event.

Who sees what: the practice's team sees forms and the tracking list; a completed response's
answers are read only by the client's care team and admins (each view audited); the client
sees and fills their own requests. Anyone else gets not found.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from server import clock
from server.accounts.tables import Account, Profile
from server.db import is_unique_violation, write_transaction
from server.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from server.events import EventRecord
from server.feed import service as feed
from server.files import service as files
from server.forms import calc, fhir, views
from server.forms.schema import (
    FieldError,
    attachments,
    check_definition,
    check_variables,
    flat,
    score,
)
from server.forms.tables import (
    AuditEntry,
    Form,
    FormRequest,
    FormVersion,
    IntakeFlow,
    IntakeFlowRun,
)
from server.identity import Identity
from server.mail import service as mail
from server.onboarding.tables import CareTeamMember, Client, ClientGroup
from server.settings import Settings
from server.threads import service as threads

OPEN: Final = "open"
COMPLETED: Final = "completed"
CANCELLED: Final = "cancelled"
# For the clients list's "incomplete intake" filter (onboarding): the clients with an open
# intake request, as a subquery, so the table stays this domain's to read and write.
OPEN_INTAKE_CLIENTS_SQL = ("SELECT client FROM form_request WHERE status = 'open' "
                           "AND intake_flow IS NOT NULL")
MAX_REQUEST_BATCH = 1000


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _parse(raw: str | uuid.UUID, what: str) -> uuid.UUID:
    return threads.parse_id(raw, what)


# --- forms -------------------------------------------------------------------------------------


def form_view(form: dict[str, Any], version: dict[str, Any] | None = None) -> views.FormView:
    view = views.FormView(
        id=str(form["id"]),
        title=form["title"],
        description=form["description"],
        code=_json(form["code"]),
        score_code=_json(form["score_code"]),
        version=form["current_version"],
        archived=form["archived"],
        created_at=form["created_at"],
    )
    if version is not None:
        view.version = version["version"]
        view.items = views.form_items(_json(version["definition"]))
        view.variables = views.variables(_json(version.get("variables")) or [])
    return view


def _require_builder(identity: Identity) -> None:
    if not identity.is_staff:
        raise Forbidden("Only the practice's team can build forms.")


async def _form(identity: Identity, form_id: str | uuid.UUID) -> dict[str, Any]:
    fid = _parse(form_id, "form")
    row = await Form.select().where(Form.id == fid,
                                    Form.organization == identity.organization_id).first()
    if row is None or not identity.is_staff:
        raise NotFound("No such form.")
    return row


async def _version(form_id: uuid.UUID, version: int) -> dict[str, Any]:
    row = await FormVersion.select().where(FormVersion.form == form_id,
                                           FormVersion.version == version).first()
    if row is None:
        raise NotFound("No such version of this form.")
    row["definition"] = _json(row["definition"])
    row["variables"] = _json(row.get("variables")) or []
    return row


def _check_variables(variables: Any) -> str | None:
    """Stored as JSON, or None when there are none."""
    if not variables:
        return None
    return json.dumps(check_variables(variables, "variables"))


async def create_form(
    identity: Identity, *, title: str, items: Any, description: str = "",
    code: dict[str, Any] | None = None, score_code: dict[str, Any] | None = None,
    variables: Any = None,
) -> views.FormView:
    _require_builder(identity)
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("A form needs a title.", extra={"field": "title"})
    definition = check_definition(items)
    stored_variables = _check_variables(variables)
    form = Form(organization=identity.organization_id, title=title, description=description,
                code=json.dumps(code) if code else None,
                score_code=json.dumps(score_code) if score_code else None,
                current_version=1, created_at=clock.now())
    async with write_transaction():
        await form.save()
        await FormVersion.insert(FormVersion(form=form.id, version=1,
                                             definition=json.dumps(definition),
                                             variables=stored_variables,
                                             created_by=identity.user_id,
                                             created_at=clock.now()))
    return await get_form(identity, str(form.id))


async def update_form(
    identity: Identity, form_id: str, *, title: str | None = None,
    description: str | None = None, items: Any = None, archived: bool | None = None,
    variables: Any = None,
) -> views.FormView:
    """New questions make a new version; requests already made keep theirs. `variables`
    belong to the version: sent with `items` (absent: none)."""
    _require_builder(identity)
    form = await _form(identity, form_id)
    updates: dict[Any, Any] = {}
    if title is not None:
        if not title.strip():
            raise InvalidInput("A form needs a title.", extra={"field": "title"})
        updates[Form.title] = " ".join(title.split())
    if description is not None:
        updates[Form.description] = description
    if archived is not None:
        updates[Form.archived] = archived
    async with write_transaction():
        if items is None and variables is not None:
            raise InvalidInput("Variables belong to a version: send them with its items.",
                               extra={"field": "variables"})
        if items is not None:
            definition = check_definition(items)
            stored_variables = _check_variables(variables)
            bumped = await Form.update({Form.current_version: Form.current_version + 1}).where(
                Form.id == form["id"]).returning(Form.current_version)
            await FormVersion.insert(FormVersion(
                form=form["id"], version=bumped[0]["current_version"],
                definition=json.dumps(definition), variables=stored_variables,
                created_by=identity.user_id, created_at=clock.now()))
        if updates:
            await Form.update(updates).where(Form.id == form["id"])
    return await get_form(identity, form_id)


async def get_form(identity: Identity, form_id: str, version: int | None = None
                   ) -> views.FormView:
    form = await _form(identity, form_id)
    return form_view(form, await _version(form["id"], version or form["current_version"]))


async def list_forms(identity: Identity) -> list[views.FormView]:
    _require_builder(identity)
    rows = await Form.select().where(Form.organization == identity.organization_id).order_by(
        Form.title)
    return [form_view(r) for r in rows]


async def import_fhir(identity: Identity, resource: Any) -> views.FormView:
    _require_builder(identity)
    imported = fhir.import_questionnaire(resource)
    return await create_form(identity, title=imported["title"], items=imported["items"],
                             description=imported["description"], code=imported["code"],
                             score_code=imported["score_code"],
                             variables=imported["variables"])


async def export_fhir(settings: Settings, identity: Identity, form_id: str,
                      version: int | None = None) -> fhir.FhirQuestionnaire:
    form = await _form(identity, form_id)
    form = {**form, "code": _json(form["code"]), "score_code": _json(form["score_code"])}
    return fhir.questionnaire(
        form, await _version(form["id"], version or form["current_version"]), settings.base_url)


# --- requests ----------------------------------------------------------------------------------


def request_view(row: dict[str, Any], *, reader: str | None = None,
                 form: dict[str, Any] | None = None, version: dict[str, Any] | None = None,
                 now: datetime | None = None) -> views.FormRequestView:
    """`reader`: None (tracking, no answers), "client" (their answers), "team" (and the score).
    """
    current = now or clock.now()
    view = views.FormRequestView(
        id=str(row["id"]),
        form_id=str(row["form"]),
        client_id=str(row["client"]),
        status=row["status"],
        due_at=row["due_at"],
        overdue=row["status"] == OPEN and row["due_at"] is not None
        and row["due_at"] < current,
        from_intake_flow=row["intake_flow"] is not None,
        reminders_sent=row["reminder_step"],
        created_at=row["created_at"],
        completed_at=row["completed_at"],
        cancelled_at=row["cancelled_at"],
    )
    if form is not None:
        view.form_title = form["title"]
        view.form_description = form["description"]
    if version is not None:
        view.version = version["version"]
        view.items = views.form_items(version["definition"])
    if reader == "client":
        view.draft = views.answers(_json(row["draft"]))  # work in progress is the client's own
    if reader is not None:
        view.answers = views.answers(_json(row["answers"]))
    if reader == "team":
        view.score = _score_value(row["score"])
    return view


def _score_value(value: Any) -> float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


async def _is_care_team(identity: Identity, client_id: uuid.UUID) -> bool:
    if identity.is_admin:
        return True
    if await Client.exists().where(Client.id == client_id,
                                   Client.primary_provider == identity.user_id):
        return True
    return bool(await CareTeamMember.exists().where(
        CareTeamMember.client == client_id, CareTeamMember.provider == identity.user_id))


async def _request(identity: Identity, request_id: str) -> tuple[dict[str, Any], str]:
    """The request and how the caller relates to it: `client` (their own) or `team` (the
    client's care team or an admin). Anyone else: not found."""
    rid = _parse(request_id, "form request")
    row = await FormRequest.select().where(
        FormRequest.id == rid, FormRequest.organization == identity.organization_id).first()
    if row is None:
        raise NotFound("No such form request.")
    if row["client"] == identity.user_id:
        return row, "client"
    if identity.is_staff and await _is_care_team(identity, row["client"]):
        return row, "team"
    raise NotFound("No such form request.")


def _reminder_times(settings: Settings, start: datetime) -> list[datetime]:
    return [start + timedelta(days=days) for days in settings.form_reminder_days]


async def request_forms(
    settings: Settings, identity: Identity, *, form_ids: list[uuid.UUID],
    client_ids: list[uuid.UUID], group_id: uuid.UUID | None = None,
    due_at: datetime | None = None, notify: bool = False,
) -> list[views.FormRequestView]:
    """Ask clients (or every client of a group) to fill forms: a `form.requested` card each."""
    if not identity.is_staff:
        raise Forbidden("Only the practice's team can request forms.")
    if due_at is not None and due_at.tzinfo is None:
        raise InvalidInput("due_at needs an offset (Z or +hh:mm).", extra={"field": "due_at"})
    if due_at is not None:
        due_at = due_at.astimezone(UTC)  # times are UTC in answers and events
    forms = []
    for form_id in dict.fromkeys(form_ids):
        form = await _form(identity, form_id)
        if form["archived"]:
            raise Conflict(f"The form {form['title']!r} is archived.", code="form_archived")
        forms.append(form)
    if not forms:
        raise InvalidInput("Name at least one form.", extra={"field": "form_ids"})
    targets = list(dict.fromkeys(client_ids))
    if group_id is not None:
        if not identity.is_admin:
            raise Forbidden("Only owners and admins can request forms from a whole group.")
        group = await ClientGroup.select(ClientGroup.id).where(
            ClientGroup.id == group_id, ClientGroup.organization == identity.organization_id
        ).first()
        if group is None:
            raise NotFound("No such group.")
        targets += [c["id"] for c in await Client.select(Client.id).where(
            Client.client_group == group_id, Client.id.is_in(
                Profile.select(Profile.id).where(Profile.status != "removed")))
            if c["id"] not in targets]
    if not targets:
        raise InvalidInput("Name at least one client (or a group with clients).",
                           extra={"field": "client_ids"})
    if len(targets) * len(forms) > MAX_REQUEST_BATCH:
        raise InvalidInput(f"At most {MAX_REQUEST_BATCH} requests at once.")
    clients = await _clients_for(identity, targets)
    for client_id in targets:
        if not await _is_care_team(identity, client_id):
            raise Forbidden("Only admins and the client's care team can request forms.")
    created: list[dict[str, Any]] = []
    async with write_transaction():
        for client_id in targets:
            for form in forms:
                _, row = await _create_request_in_transaction(
                    settings, form, clients[client_id], identity.user_id, due_at=due_at)
                created.append(row)
                if notify:
                    await _notify(settings, clients[client_id], form, identity.name,
                                  request_id=row["id"])
    return [request_view(r) for r in created]


async def _clients_for(identity: Identity, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    rows = await Client.select(Client.id, Client.care_thread).where(
        Client.id.is_in(ids), Client.organization == identity.organization_id)
    if len(rows) != len(set(ids)):
        raise NotFound("No such client in this practice.")
    profiles = {p["id"]: p for p in await Profile.select(
        Profile.id, Profile.status, Profile.account).where(Profile.id.is_in(ids))}
    found = {}
    for row in rows:
        profile = profiles[row["id"]]
        if profile["status"] == "removed":
            raise NotFound("No such client in this practice.")
        found[row["id"]] = {**row, "account": profile["account"]}
    return found


async def _create_request_in_transaction(
    settings: Settings, form: dict[str, Any], client: dict[str, Any],
    requested_by: uuid.UUID | None, *, due_at: datetime | None = None,
    intake_flow: uuid.UUID | None = None,
) -> tuple[EventRecord, dict[str, Any]]:
    version = await _version(form["id"], form["current_version"])
    created_at = clock.now()
    schedule = _reminder_times(settings, created_at)
    row = {
        "id": uuid.uuid4(), "organization": form["organization"], "form": form["id"],
        "form_version": version["id"], "client": client["id"], "requested_by": requested_by,
        "intake_flow": intake_flow, "status": OPEN, "due_at": due_at, "draft": None,
        "answers": None, "score": None, "reminder_step": 0,
        "next_reminder_at": schedule[0] if schedule else None, "created_at": created_at,
        "completed_at": None, "cancelled_at": None,
    }
    await FormRequest.insert(FormRequest(**row))
    view = await threads.append_in_transaction(
        client["care_thread"], "form.requested", requested_by,
        data={"request_id": str(row["id"]), "form_id": str(form["id"]),
              "form_title": form["title"],
              "due_at": due_at.isoformat() if due_at else None},
    )
    return view, row


async def request_on_booking_in_transaction(
    settings: Settings, organization_id: uuid.UUID, form_ids: list[uuid.UUID],
    client_id: uuid.UUID, requested_by: uuid.UUID | None,
) -> list[uuid.UUID]:
    """Inside the caller's transaction (an appointment booked): a `form.requested` card for
    each form of the practice that is not archived; forms gone since are skipped."""
    if not form_ids:
        return []
    forms = await Form.select().where(Form.id.is_in(list(dict.fromkeys(form_ids))),
                                      Form.organization == organization_id,
                                      Form.archived.eq(False))
    order = {fid: i for i, fid in enumerate(form_ids)}
    forms.sort(key=lambda f: order.get(f["id"], 0))
    client = await Client.select(Client.id, Client.care_thread).where(
        Client.id == client_id, Client.organization == organization_id).first()
    if client is None or not forms:
        return []
    created = []
    for form in forms:
        _, row = await _create_request_in_transaction(settings, form, client, requested_by)
        created.append(row["id"])
    return created


async def _notify(settings: Settings, client: dict[str, Any], form: dict[str, Any],
                  who: str, *, reminder: bool = False, request_id: uuid.UUID | None = None
                  ) -> None:
    if client["account"] is None:
        return
    account = await Account.select(Account.email).where(Account.id == client["account"]).first()
    if account is None:
        return
    subject = (f"Reminder: please fill in {form['title']}" if reminder
               else f"{who} asked you to fill in {form['title']}")
    link = f"{settings.base_url}/#/form-requests/{request_id}" if request_id else (
        f"{settings.base_url}/")
    body = (f"{subject}.\n\nOpen it to fill it in:\n{link}\n\n"
            "It is saved as you go, so you can stop and come back.\n")
    await mail.enqueue(account["email"], subject, body)


async def list_requests(
    identity: Identity, *, client_id: uuid.UUID | None = None, status: str | None = None,
    overdue: bool | None = None, form_id: uuid.UUID | None = None, limit: int = 200,
) -> list[views.FormRequestView]:
    """Tracking: the practice's requests for the team; a client's own for a client."""
    query = FormRequest.select(*FormRequest.all_columns(),
                               FormRequest.form.title.as_alias("form_title"),
                               FormRequest.client.name.as_alias("client_name")).where(
        FormRequest.organization == identity.organization_id)
    if form_id is not None:
        query = query.where(FormRequest.form == form_id)
    if not identity.is_staff:
        query = query.where(FormRequest.client == identity.user_id)
    elif client_id is not None:
        query = query.where(FormRequest.client == client_id)
    if status is not None:
        query = query.where(FormRequest.status == status)
    current = clock.now()
    if overdue:
        query = query.where(FormRequest.status == OPEN, FormRequest.due_at < current)
    rows = await query.order_by(FormRequest.created_at, ascending=False).limit(limit)
    found = []
    for row in rows:
        view = request_view(row, now=current)
        view.form_title, view.client_name = row["form_title"], row["client_name"]
        found.append(view)
    return found


async def get_request(identity: Identity, request_id: str) -> views.FormRequestView:
    """The request with its questions; answers for the client and the care team (audited)."""
    row, relation = await _request(identity, request_id)
    form = await Form.select().where(Form.id == row["form"]).first()
    assert form is not None
    version = await FormVersion.select().where(FormVersion.id == row["form_version"]).first()
    assert version is not None
    version["definition"] = _json(version["definition"])
    if relation == "team" and row["status"] == COMPLETED:
        await _audit(identity, "form_response.viewed", row)
    return request_view(row, reader=relation, form=form, version=version)


async def record_audit(identity: Identity, action: str, *, client_id: uuid.UUID,
                       document_id: uuid.UUID | None = None) -> None:
    """For other domains: an entry in the practice's audit log (e.g. a client document's
    download), read by owners and admins at GET /audit like form responses' views."""
    await AuditEntry.insert(AuditEntry(
        organization=identity.organization_id, actor=identity.user_id, action=action,
        client=client_id, document_id=document_id, created_at=clock.now()))


async def response_file_readable(identity: Identity, request_id: uuid.UUID,
                                 file_id: uuid.UUID) -> bool:
    """For files: whether the caller may read a file a form response holds: the client (their
    own) and the care team once the response is completed and its answers hold the file."""
    try:
        row, relation = await _request(identity, str(request_id))
    except NotFound:
        return False
    if relation == "client":
        return True
    if row["status"] != COMPLETED:
        return False
    items, _ = await _definition(row)
    return str(file_id) in attachments(items, _json(row["answers"]) or {}).values()


async def record_response_file_read(identity: Identity, request_id: uuid.UUID) -> None:
    """A care-team member downloading a file of someone's answers: audited like a view."""
    row = await FormRequest.select().where(FormRequest.id == request_id).first()
    if row is not None and row["client"] != identity.user_id:
        await _audit(identity, "form_response.file_downloaded", row)


async def _audit(identity: Identity, action: str, row: dict[str, Any]) -> None:
    await AuditEntry.insert(AuditEntry(
        organization=identity.organization_id, actor=identity.user_id, action=action,
        form_request=row["id"], client=row["client"], created_at=clock.now()))


async def _definition(row: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pinned version's items and variables."""
    version = await FormVersion.select(FormVersion.definition, FormVersion.variables).where(
        FormVersion.id == row["form_version"]).first()
    assert version is not None
    return list(_json(version["definition"])), list(_json(version["variables"]) or [])


def _invalid(errors: list[Any]) -> AppError:
    return AppError("Some answers need attention; nothing was saved.", code="invalid_answers",
                    status_code=400, extra={"errors": [e.view() for e in errors]})


async def _open_for_client(identity: Identity, request_id: str) -> dict[str, Any]:
    """The caller's own request, still open: what drafts and submissions need."""
    row, relation = await _request(identity, request_id)
    if relation != "client":
        raise Forbidden("Only the client fills in their form.")
    if row["status"] != OPEN:
        raise Conflict(f"This form request is {row['status']}.", code=f"request_{row['status']}")
    return row


async def _answers(identity: Identity, row: dict[str, Any], answers: Any, *, complete: bool
                   ) -> tuple[list[dict[str, Any]], dict[str, Any], list[FieldError]]:
    """The answers to keep, calculated values filled in, attachments resolved to the caller's
    own uploads (with their name, type and size), and every field error."""
    items, variables = await _definition(row)
    kept, errors = await calc.complete_answers_off_loop(items, variables, answers,
                                                        complete=complete)
    held = attachments(items, kept)
    if held:
        usable = await files.form_files(identity, list(held.values()), row["id"])
        for item_id, file_id in held.items():
            if file_id in usable:
                kept[item_id] = usable[file_id]
            else:
                del kept[item_id]
                errors.append(FieldError(item_id, "not_a_file", "No such file: upload it "
                                         "with POST /files first (a file is used once)."))
    return items, kept, errors


async def save_draft(identity: Identity, request_id: str, answers: Any
                     ) -> views.DraftSaved:
    """The client's answers so far; types are checked, completeness is not. The answer also
    carries the calculated items' values."""
    row = await _open_for_client(identity, request_id)
    items, kept, errors = await _answers(identity, row, answers, complete=False)
    if errors:
        raise _invalid(errors)
    async with write_transaction():
        await FormRequest.update({FormRequest.draft: json.dumps(kept)}).where(
            FormRequest.id == row["id"], FormRequest.status == OPEN)
        await files.hold_for_form_in_transaction(
            identity, list(attachments(items, kept).values()), row["id"])
    return views.DraftSaved(id=str(row["id"]), draft=views.answers(kept) or {},
                            calculated=calc.calculated_values(items, kept))


async def calculate(identity: Identity, request_id: str, answers: Any) -> views.Calculated:
    """What the calculated items would hold with these answers (nothing is saved): for a
    live view while the client types. Answers that are not valid yet are left out."""
    row = await _open_for_client(identity, request_id)
    items, variables = await _definition(row)
    kept, _ = await calc.complete_answers_off_loop(items, variables, answers, complete=False)
    return views.Calculated(id=str(row["id"]),
                            calculated=calc.calculated_values(items, kept))


async def submit(identity: Identity, request_id: str, answers: Any) -> views.StatusChanged:
    """Complete the form: every shown required question answered, every answer valid; the
    calculated items' values are the server's."""
    row = await _open_for_client(identity, request_id)
    items, kept, errors = await _answers(identity, row, answers, complete=True)
    if errors:
        raise _invalid(errors)
    total = score(items, kept)
    submitted_at = clock.now()
    for item in flat(items):
        if item["type"] == "consent" and item["id"] in kept:
            kept[item["id"]]["at"] = submitted_at.isoformat()
    form = await Form.select(Form.title).where(Form.id == row["form"]).first()
    assert form is not None
    thread_id = await _care_thread(row["client"])
    async with write_transaction():
        done = await FormRequest.update({
            FormRequest.status: COMPLETED, FormRequest.answers: json.dumps(kept),
            FormRequest.draft: None, FormRequest.score: total,
            FormRequest.completed_at: submitted_at, FormRequest.next_reminder_at: None,
        }).where(FormRequest.id == row["id"], FormRequest.status == OPEN).returning(
            FormRequest.id)
        if not done:
            raise Conflict("This form request is no longer open.", code="request_closed")
        await files.hold_for_form_in_transaction(
            identity, list(attachments(items, kept).values()), row["id"])
        completed = await threads.append_in_transaction(
            thread_id, "form.completed", identity.user_id,
            data={"request_id": str(row["id"]), "form_id": str(row["form"]),
                  "form_title": form["title"]})
        await feed.record(completed, client_id=row["client"],
                          organization_id=identity.organization_id, category="form")
        if total is not None:
            await threads.append_in_transaction(
                thread_id, "form.scored", None,
                data={"request_id": str(row["id"]), "form_title": form["title"],
                      "score": total}, audience=threads.STAFF)
    return views.StatusChanged(id=str(row["id"]), status=COMPLETED)


async def _care_thread(client_id: uuid.UUID) -> uuid.UUID:
    client = await Client.select(Client.care_thread).where(Client.id == client_id).first()
    assert client is not None
    return client["care_thread"]


async def cancel(identity: Identity, request_id: str) -> views.StatusChanged:
    row, relation = await _request(identity, request_id)
    if relation != "team":
        raise Forbidden("Only the client's care team can cancel a request.")
    form = await Form.select(Form.title).where(Form.id == row["form"]).first()
    assert form is not None
    async with write_transaction():
        done = await FormRequest.update({
            FormRequest.status: CANCELLED, FormRequest.cancelled_at: clock.now(),
            FormRequest.next_reminder_at: None,
        }).where(FormRequest.id == row["id"], FormRequest.status == OPEN).returning(
            FormRequest.id)
        if not done:
            raise Conflict("This form request is no longer open.", code="request_closed")
        await threads.append_in_transaction(
            await _care_thread(row["client"]), "form.cancelled", identity.user_id,
            data={"request_id": str(row["id"]), "form_title": form["title"]})
    return views.StatusChanged(id=str(row["id"]), status=CANCELLED)


async def remind(settings: Settings, identity: Identity, request_id: str
                 ) -> views.Reminded:
    """The manual "remind" action: an email and a `form.reminded` card."""
    row, relation = await _request(identity, request_id)
    if relation != "team":
        raise Forbidden("Only the client's care team can send reminders.")
    if row["status"] != OPEN:
        raise Conflict("This form request is no longer open.", code="request_closed")
    async with write_transaction():
        await send_reminder_in_transaction(settings, row, identity.user_id, manual=True)
    return views.Reminded(id=str(row["id"]), reminded=True)


async def send_reminder_in_transaction(
    settings: Settings, row: dict[str, Any], actor: uuid.UUID | None, *, manual: bool,
    step: int | None = None,
) -> EventRecord:
    form = await Form.select().where(Form.id == row["form"]).first()
    assert form is not None
    client = (await Client.select(Client.id, Client.care_thread).where(
        Client.id == row["client"]).first()) or {}
    profile = await Profile.select(Profile.account).where(Profile.id == row["client"]).first()
    client = {**client, "account": profile["account"] if profile else None}
    await _notify(settings, client, form, "", reminder=True, request_id=row["id"])
    return await threads.append_in_transaction(
        client["care_thread"], "form.reminded", actor,
        data={"request_id": str(row["id"]), "form_title": form["title"], "manual": manual,
              "step": step})


async def export_response(settings: Settings, identity: Identity, request_id: str,
                          fmt: str) -> views.FormRequestView | fhir.FhirQuestionnaireResponse:
    """A completed response as our JSON or FHIR; audited like a view."""
    row, relation = await _request(identity, request_id)
    if relation != "team" and row["client"] != identity.user_id:
        raise NotFound("No such form request.")
    if row["status"] != COMPLETED:
        raise Conflict("Only completed forms can be exported.", code="request_open")
    form = await Form.select().where(Form.id == row["form"]).first()
    assert form is not None
    version = await FormVersion.select().where(FormVersion.id == row["form_version"]).first()
    assert version is not None
    version["definition"] = _json(version["definition"])
    if relation == "team":
        await _audit(identity, "form_response.exported", row)
    row = {**row, "answers": _json(row["answers"]), "score": _score_value(row["score"])}
    if fmt == "fhir":
        form = {**form, "code": _json(form["code"]), "score_code": _json(form["score_code"])}
        return fhir.questionnaire_response(form, version, row, settings.base_url,
                                           with_score=relation == "team")
    return request_view(row, reader=relation, form=form, version=version)


async def audit_log(identity: Identity, *, client_id: uuid.UUID | None = None,
                    limit: int = 200) -> list[views.AuditEntryView]:
    if not identity.is_admin:
        raise Forbidden("Only owners and admins read the audit log.")
    query = AuditEntry.select(*AuditEntry.all_columns(),
                              AuditEntry.actor.name.as_alias("actor_name")).where(
        AuditEntry.organization == identity.organization_id)
    if client_id is not None:
        query = query.where(AuditEntry.client == client_id)
    rows = await query.order_by(AuditEntry.created_at, ascending=False).limit(limit)
    return [views.AuditEntryView(
        id=str(r["id"]), action=r["action"],
        actor_id=str(r["actor"]) if r["actor"] else None, actor_name=r["actor_name"],
        form_request_id=str(r["form_request"]) if r["form_request"] else None,
        document_id=str(r["document_id"]) if r["document_id"] else None,
        client_id=str(r["client"]) if r["client"] else None,
        created_at=r["created_at"]) for r in rows]


# --- intake flows ------------------------------------------------------------------------------


async def set_intake_flow(identity: Identity, group_id: uuid.UUID | None,
                          form_ids: list[uuid.UUID]) -> views.IntakeFlowView:
    """The forms a client joining this group (None: any new client without one) is asked for."""
    if not identity.is_admin:
        raise Forbidden("Only owners and admins set intake flows.")
    if group_id is not None and not await ClientGroup.exists().where(
            ClientGroup.id == group_id, ClientGroup.organization == identity.organization_id):
        raise NotFound("No such group.")
    ordered = list(dict.fromkeys(form_ids))
    for form_id in ordered:
        await _form(identity, form_id)
    try:
        await _save_flow(identity, group_id, ordered)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        await _save_flow(identity, group_id, ordered)  # another request made it first
    return views.IntakeFlowView(group_id=str(group_id) if group_id else None,
                                form_ids=[str(f) for f in ordered])


async def _save_flow(identity: Identity, group_id: uuid.UUID | None,
                     ordered: list[uuid.UUID]) -> None:
    async with write_transaction():
        query = IntakeFlow.select(IntakeFlow.id).where(
            IntakeFlow.organization == identity.organization_id)
        query = query.where(IntakeFlow.client_group.is_null() if group_id is None
                            else IntakeFlow.client_group == group_id)
        existing = await query.first()
        value = json.dumps([str(f) for f in ordered])
        if existing:
            await IntakeFlow.update({IntakeFlow.form_ids: value}).where(
                IntakeFlow.id == existing["id"])
        else:
            await IntakeFlow.insert(IntakeFlow(organization=identity.organization_id,
                                               client_group=group_id, form_ids=value))


async def list_intake_flows(identity: Identity) -> list[views.IntakeFlowView]:
    if not identity.is_admin:
        raise Forbidden("Only owners and admins set intake flows.")
    rows = await IntakeFlow.select().where(IntakeFlow.organization == identity.organization_id)
    return [views.IntakeFlowView(
        group_id=str(r["client_group"]) if r["client_group"] else None,
        form_ids=list(_json(r["form_ids"]))) for r in rows]


async def _flow(organization_id: uuid.UUID, group_id: uuid.UUID | None
                ) -> dict[str, Any] | None:
    query = IntakeFlow.select().where(IntakeFlow.organization == organization_id)
    query = query.where(IntakeFlow.client_group.is_null() if group_id is None
                        else IntakeFlow.client_group == group_id)
    flow = await query.first()
    if flow is None or not _json(flow["form_ids"]):
        return None
    return flow


async def run_intake_flow(settings: Settings, client_id: uuid.UUID, flow: dict[str, Any]
                          ) -> None:
    """Create the flow's requests for a client, once ever per (flow, client)."""
    client = await Client.select(Client.id, Client.care_thread, Client.primary_provider,
                                 Client.organization).where(Client.id == client_id).first()
    if client is None:
        return
    profile = await Profile.select(Profile.account).where(Profile.id == client_id).first()
    client["account"] = profile["account"] if profile else None
    forms = []
    for form_id in _json(flow["form_ids"]):
        form = await Form.select().where(Form.id == uuid.UUID(form_id),
                                         Form.archived.eq(False)).first()
        if form is not None:
            forms.append(form)
    try:
        async with write_transaction():
            await IntakeFlowRun.insert(IntakeFlowRun(flow=flow["id"], client=client_id,
                                                     created_at=clock.now()))
            for form in forms:
                await _create_request_in_transaction(
                    settings, form, client, None, intake_flow=flow["id"])
            for form in forms[:1]:
                await _notify(settings, client, form, "Your practice")
    except Exception as exc:
        if is_unique_violation(exc):
            return  # it ran before: once is the rule
        raise


def hooks_for(settings: Settings) -> tuple[Any, Any]:
    """The onboarding hooks that start intake flows."""

    async def on_client_added(client_id: uuid.UUID, group_id: uuid.UUID | None) -> None:
        client = await Client.select(Client.organization).where(Client.id == client_id).first()
        if client is None:
            return
        if group_id is not None and await _flow(client["organization"], group_id):
            return  # the group's own flow runs instead of the practice default
        default = await _flow(client["organization"], None)
        if default is not None:
            await run_intake_flow(settings, client_id, default)

    async def on_group_joined(client_id: uuid.UUID, group_id: uuid.UUID) -> None:
        client = await Client.select(Client.organization).where(Client.id == client_id).first()
        if client is None:
            return
        flow = await _flow(client["organization"], group_id)
        if flow is not None:
            await run_intake_flow(settings, client_id, flow)

    return on_client_added, on_group_joined




# --- for other domains (program modules) -------------------------------------------------------


async def form_title(organization_id: uuid.UUID, form_id: uuid.UUID) -> str | None:
    """The title of a form of this practice that can be requested, or None (not found)."""
    row = await Form.select(Form.title).where(
        Form.id == form_id, Form.organization == organization_id,
        Form.archived.eq(False)).first()
    return row["title"] if row else None


async def request_in_transaction(
    settings: Settings, form_id: uuid.UUID, client_id: uuid.UUID, care_thread: uuid.UUID,
    requested_by: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """Ask a client to fill a form inside the caller's write transaction (`form.requested`,
    reminders as usual); None if the form is gone or archived since."""
    form = await Form.select().where(Form.id == form_id, Form.archived.eq(False)).first()
    if form is None:
        return None
    _, row = await _create_request_in_transaction(
        settings, form, {"id": client_id, "care_thread": care_thread}, requested_by)
    return uuid.UUID(str(row["id"]))
