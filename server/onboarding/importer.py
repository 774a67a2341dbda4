"""CSV import of clients: every row checked first; the real run writes all rows or none."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from typing import Any

import msgspec

from server.accounts import service as accounts
from server.accounts.tables import Account, Profile
from server.db import write_transaction
from server.errors import AppError, Forbidden, InvalidInput
from server.identity import PROVIDER_ROLES, Identity
from server.inputs import NUL_DETAIL
from server.onboarding import service
from server.onboarding.tables import ClientGroup, Tag
from server.settings import Settings

COLUMNS = ("name", "email", "phone", "date_of_birth", "group", "tags", "primary_provider_email")
MAX_ROWS = 5000
TAG_SEPARATORS = (";", "|")


class RowError(msgspec.Struct):
    row: int  # 1-based data row (the header is row 0)
    field: str
    detail: str

    def view(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "detail": self.detail}


class ImportResult(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A dry run answers `valid`; a real run `created` and `client_ids` (in file order)."""

    dry_run: bool
    rows: int
    valid: int | msgspec.UnsetType = msgspec.UNSET
    created: int | msgspec.UnsetType = msgspec.UNSET
    errors: list[RowError]
    client_ids: list[str] | msgspec.UnsetType = msgspec.UNSET


def _split_tags(raw: str) -> list[str]:
    """Tags of one cell, each once (case aside)."""
    for sep in TAG_SEPARATORS:
        raw = raw.replace(sep, ",")
    tags: dict[str, str] = {}
    for tag in raw.split(","):
        tag = " ".join(tag.split())
        if tag:
            tags.setdefault(tag.lower(), tag)
    return list(tags.values())


def _parse(body: bytes) -> list[dict[str, str]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text.", code="import_unreadable") from None
    if "\x00" in text:  # the one rule for text (server/inputs.py)
        raise InvalidInput(NUL_DETAIL)
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "name" not in [f.strip().lower() for f in reader.fieldnames]:
        raise InvalidInput("The first line must name the columns, including `name`; columns: "
                           + ", ".join(COLUMNS) + ".", code="import_unreadable")
    rows = []
    try:
        for raw in reader:
            rows.append({(k or "").strip().lower(): (v or "").strip()
                         if isinstance(v, str) else "" for k, v in raw.items()})
            if len(rows) > MAX_ROWS:
                raise InvalidInput(f"At most {MAX_ROWS} rows per import.",
                                   code="import_too_large")
    except csv.Error as exc:
        raise InvalidInput(f"The file is not valid CSV: {exc}.",
                           code="import_unreadable") from None
    return rows


async def import_clients(
    settings: Settings, identity: Identity, body: bytes, *, dry_run: bool, send_invites: bool
) -> ImportResult:
    if not identity.is_staff:
        raise Forbidden("Only the practice's team can import clients.")
    rows = _parse(body)
    prepared, errors, new_tags = await _check(identity, rows, send_invites)
    if dry_run:
        return ImportResult(dry_run=True, rows=len(rows), valid=len(prepared), errors=errors)
    if errors:
        raise AppError(
            f"{len(errors)} problems in the file; nothing was imported. Fix them and retry.",
            code="import_invalid", status_code=400,
            extra={"rows": len(rows), "errors": [e.view() for e in errors]},
        )
    created = []
    async with write_transaction():
        tag_ids = await _create_tags(identity, new_tags)
        for p, tag_names in prepared:
            p.tags = [{"id": tag_ids[name.lower()]} for name in tag_names]
            created.append(await service.create_client_in_transaction(settings, identity, p))
    await service.after_commit(created)
    return ImportResult(dry_run=False, rows=len(rows), created=len(created), errors=[],
                        client_ids=[str(c.client_id) for c in created])


async def _create_tags(identity: Identity, names: dict[str, str]) -> dict[str, uuid.UUID]:
    existing = {t["name"].lower(): t["id"] for t in await Tag.select(Tag.id, Tag.name).where(
        Tag.organization == identity.organization_id)}
    for key, name in names.items():
        if key not in existing:
            tag = Tag(organization=identity.organization_id, name=name)
            await tag.save()
            existing[key] = tag.id
    return existing


async def _check(
    identity: Identity, rows: list[dict[str, str]], send_invites: bool
) -> tuple[list[tuple[service.PreparedClient, list[str]]], list[RowError], dict[str, str]]:
    """Validate every row against the file and the practice, in a few queries."""
    org = identity.organization_id
    all_groups = await ClientGroup.select().where(ClientGroup.organization == org)
    exact_groups = {g["name"]: g for g in all_groups}
    groups = {g["name"].lower(): g for g in all_groups}
    providers = {p["email"].lower(): p for p in await Profile.select(
        Profile.id, Profile.name, Profile.account.email.as_alias("email")).where(
        Profile.organization == org, Profile.status != "removed",
        Profile.role.is_in(list(PROVIDER_ROLES)), Profile.account.is_not_null())}
    emails_in_file = [r.get("email", "").lower() for r in rows if r.get("email")]
    taken: set[str] = set()
    if emails_in_file:
        for start in range(0, len(emails_in_file), 500):
            batch = emails_in_file[start:start + 500]
            accounts_rows = await Account.select(Account.id, Account.email).where(
                Account.email.is_in(batch))
            if accounts_rows:
                ids = {a["id"]: a["email"] for a in accounts_rows}
                used = await Profile.select(Profile.account).where(
                    Profile.organization == org, Profile.account.is_in(list(ids)),
                    Profile.status != "removed")
                taken |= {ids[u["account"]] for u in used}
    me = await Profile.select(Profile.name).where(Profile.id == identity.user_id).first()

    errors: list[RowError] = []
    prepared: list[tuple[service.PreparedClient, list[str]]] = []
    seen_emails: dict[str, int] = {}
    new_tags: dict[str, str] = {}
    for number, row in enumerate(rows, start=1):
        row_errors: list[RowError] = []

        def fail(field: str, detail: str, n: int = number, into: list[RowError] = row_errors
                 ) -> None:
            into.append(RowError(n, field, detail))

        name = " ".join(row.get("name", "").split())
        if not name:
            fail("name", "A name is required.")
        elif len(name) > 200:
            fail("name", "At most 200 characters.")
        email = None
        if row.get("email"):
            try:
                email = accounts.normalize_email(row["email"])
            except InvalidInput:
                fail("email", "Not a valid email address.")
            if email:
                if email in seen_emails:
                    fail("email", f"The same email as row {seen_emails[email]}.")
                elif email in taken:
                    fail("email", "Already someone's email in this practice.")
                seen_emails.setdefault(email, number)
        phone = row.get("phone") or None
        if phone and len(phone) > 40:
            fail("phone", "At most 40 characters.")
        elif phone:
            try:
                phone = service.check_phone(phone)
            except InvalidInput as exc:
                fail("phone", exc.detail)
        birth: date | None = None
        if row.get("date_of_birth"):
            try:
                birth = service.check_birth_date(date.fromisoformat(row["date_of_birth"]))
            except ValueError:
                fail("date_of_birth", "Use the form YYYY-MM-DD.")
            except InvalidInput as exc:
                fail("date_of_birth", exc.detail)
        group = None
        if row.get("group"):
            group = exact_groups.get(row["group"]) or groups.get(row["group"].lower())
            if group is None:
                fail("group", f"No group named {row['group']!r}; create it first.")
        tag_names = _split_tags(row.get("tags", ""))
        for tag in tag_names:
            if len(tag) > 60:
                fail("tags", f"Tag {tag[:20]!r}... is longer than 60 characters.")
        if len(tag_names) > service.MAX_TAGS:
            fail("tags", f"At most {service.MAX_TAGS} tags.")
        primary_email = (row.get("primary_provider_email") or "").lower()
        if primary_email:
            provider = providers.get(primary_email)
            if provider is None:
                fail("primary_provider_email", "No provider of this practice has this email.")
            primary_id, primary_name = (provider["id"], provider["name"]) if provider else (
                identity.user_id, "")
        elif identity.role in PROVIDER_ROLES:
            primary_id, primary_name = identity.user_id, me["name"] if me else identity.name
        else:
            fail("primary_provider_email", "Name the client's primary provider.")
            primary_id, primary_name = identity.user_id, ""
        if row_errors:
            errors += row_errors
            continue
        for tag in tag_names:
            new_tags.setdefault(tag.lower(), tag)
        data = service.ClientInput(name=name, email=email, phone=phone, date_of_birth=birth,
                                   send_invite=send_invites)
        prepared.append((service.PreparedClient(
            data, name, email, primary_id, primary_name, [], group, []), tag_names))
    return prepared, errors, new_tags
