"""Metrics: a client's measurements, logged by the client or their team, each a thread event.

Who: the client on themselves, their care team (and owners/admins) on them; anyone else 404
(server/onboarding/access.py). Values are converted to the type's canonical unit and checked
against a plausible range (server/metrics/units.py). Eating-disorder mode (per client) hides
weight and BMI from the client everywhere: their reads and exports leave them out, and their
`metric.logged` events are staff-only (so neither the socket, sync nor history carries them).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from server import clock
from server.db import is_unique_violation, write_transaction
from server.errors import Forbidden, InvalidInput, NotFound
from server.feed import service as feed
from server.goals import service as goals
from server.identity import PROVIDER_ROLES, Identity
from server.metrics import fhir, units, visibility
from server.metrics.tables import MetricEntry, MetricSettings
from server.metrics.tables import MetricType as CustomType
from server.metrics.units import CATALOGUE, Coding, MetricType, RangeError, Reading, UnitError
from server.onboarding.access import ClientAccess, client_access
from server.threads import service as threads

LOGGED = "metric.logged"
FUTURE_TOLERANCE = timedelta(minutes=10)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
MAX_LIST = 5000
MAX_IMPORT = 500
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
ACCEPTED_STATUS = {"registered", "preliminary", "final", "amended", "corrected"}


# What a caller typed: a number, or for a type with parts (blood pressure) a number per part.
EnteredValue = float | dict[str, float]


class MetricEntryView(msgspec.Struct, omit_defaults=True):
    """An entry (docs/api.md §12): `value`/`unit` in the type's canonical unit, what was typed
    in `entered_value`/`entered_unit`; `components` and `note` only when it has them."""

    id: uuid.UUID
    client_id: uuid.UUID
    type: str
    value: float
    unit: str
    entered_value: EnteredValue
    entered_unit: str
    measured_at: datetime
    source: str  # app, fhir or computed (a BMI)
    logged_by: uuid.UUID | None  # null for a computed entry
    created_at: datetime
    components: dict[str, float] | None = None
    note: str | None = None


class MetricSettingsView(msgspec.Struct):
    """A client's eating-disorder mode (`GET`/`PUT …/metric-settings`)."""

    client_id: uuid.UUID
    eating_disorder_mode: bool


# --- types -----------------------------------------------------------------------------------


def _custom(row: dict[str, Any]) -> MetricType:
    code = row["code"]
    if isinstance(code, str):
        code = json.loads(code)
    return MetricType(
        key=row["key"], name=row["name"], unit=row["unit"], units=units.custom_units(row["unit"]),
        min=row["min_value"], max=row["max_value"],
        code=msgspec.convert(code, Coding) if code else None, category="survey",
        decimals=int(row["decimals"]), custom=True)


async def practice_types(organization_id: uuid.UUID) -> list[MetricType]:
    rows = await CustomType.select().where(CustomType.organization == organization_id
                                           ).order_by(CustomType.name)
    return [*CATALOGUE.values(), *(_custom(r) for r in rows)]


async def _type(organization_id: uuid.UUID, key: str, hidden: bool) -> MetricType:
    metric = CATALOGUE.get(key)
    if metric is None:
        row = await CustomType.select().where(CustomType.organization == organization_id,
                                              CustomType.key == key).first()
        metric = _custom(row) if row else None
    if metric is None or (hidden and metric.hideable):
        raise InvalidInput(f"No metric type {key!r}.", code="unknown_metric_type",
                           extra={"field": "type"})
    return metric


async def metric_type(organization_id: uuid.UUID, key: str) -> MetricType:
    """A type of the catalogue or of this practice (for goals on a metric); else
    InvalidInput `unknown_metric_type`."""
    return await _type(organization_id, key, hidden=False)


async def list_types(identity: Identity, client_id: str | None = None) -> list[MetricType]:
    """The practice's types (the team), or those a client may see (with `client_id`)."""
    if client_id is None:
        if not identity.is_staff:
            raise NotFound("No such list.")
        return await practice_types(identity.organization_id)
    found = await client_access(identity, client_id)
    hidden = await _hidden(found)
    return [t for t in await practice_types(identity.organization_id)
            if not (hidden and t.hideable)]


async def create_type(identity: Identity, *, key: str, name: str, unit: str, min: float,
                      max: float, code: Coding | None = None, decimals: int = 1) -> MetricType:
    """A practice's own type (owners, admins and providers)."""
    if identity.role not in PROVIDER_ROLES:
        raise Forbidden("Only owners, admins and providers define metric types.")
    if not KEY_PATTERN.match(key) or key in CATALOGUE:
        raise InvalidInput("key is 2-40 lowercase letters, digits or _, and not a catalogue "
                           "type.", code="invalid_key", extra={"field": "key"})
    try:
        units.custom_units(unit)
    except UnitError as exc:
        raise InvalidInput(str(exc), code="unit_not_convertible", extra={"field": "unit"}
                           ) from None
    if not (min < max) or not all(abs(v) < 1e12 for v in (min, max)):
        raise InvalidInput("min must be below max.", extra={"field": "min"})
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("A metric type needs a name.", extra={"field": "name"})
    row = CustomType(organization=identity.organization_id, key=key, name=name, unit=unit,
                     min_value=min, max_value=max, decimals=decimals,
                     code=json.dumps(msgspec.to_builtins(code)) if code else None,
                     created_by=identity.user_id, created_at=clock.now())
    try:
        async with write_transaction():
            await row.save()
    except Exception as exc:
        if is_unique_violation(exc):
            raise InvalidInput("This practice already has a metric type with that key.",
                               code="metric_type_exists", extra={"field": "key"}) from None
        raise
    return await _type(identity.organization_id, key, hidden=False)


# --- settings --------------------------------------------------------------------------------


_ed_mode = visibility.ed_mode
_hidden = visibility.hidden_from_caller


async def get_settings(identity: Identity, client_id: str) -> MetricSettingsView:
    found = await client_access(identity, client_id, team_only=True)
    return MetricSettingsView(client_id=found.client_id,
                              eating_disorder_mode=await _ed_mode(found.client_id))


async def set_settings(identity: Identity, client_id: str, *, eating_disorder_mode: bool
                       ) -> MetricSettingsView:
    """Turn eating-disorder mode on or off (the care team). Past weight and BMI events become
    staff-only (or visible again) in the same transaction as the switch."""
    found = await client_access(identity, client_id, team_only=True)
    async with write_transaction():
        # The care thread's row lock orders this against concurrent logs of this client.
        await threads.lock_thread(found.care_thread_id)
        current = await MetricSettings.select(MetricSettings.id,
                                              MetricSettings.eating_disorder_mode).where(
            MetricSettings.client == found.client_id).first()
        if current is None:
            await MetricSettings.insert(MetricSettings(
                client=found.client_id, eating_disorder_mode=eating_disorder_mode,
                updated_by=identity.user_id, updated_at=clock.now()))
        else:
            await MetricSettings.update({
                MetricSettings.eating_disorder_mode: eating_disorder_mode,
                MetricSettings.updated_by: identity.user_id,
                MetricSettings.updated_at: clock.now()}).where(
                MetricSettings.id == current["id"])
        was = bool(current and current["eating_disorder_mode"])
        if was != eating_disorder_mode:
            hideable = [k for k, t in CATALOGUE.items() if t.hideable]
            rows = await MetricEntry.select(MetricEntry.event_id).where(
                MetricEntry.client == found.client_id, MetricEntry.type_key.is_in(hideable),
                MetricEntry.event_id.is_not_null())
            # The events of goals on weight or BMI follow the mode as well.
            goal_events = await goals.hidden_goal_event_ids(found.client_id,
                                                            found.care_thread_id)
            await threads.set_audience_in_transaction(
                found.care_thread_id, [r["event_id"] for r in rows] + goal_events,
                threads.STAFF if eating_disorder_mode else threads.ALL)
            await threads.append_in_transaction(
                found.care_thread_id, "metric.settings_changed", identity.user_id,
                data={"client_id": str(found.client_id),
                      "eating_disorder_mode": eating_disorder_mode},
                audience=threads.STAFF)
    return MetricSettingsView(client_id=found.client_id, eating_disorder_mode=eating_disorder_mode)


# --- entries ---------------------------------------------------------------------------------


class NewEntry(msgspec.Struct):
    """A checked entry, ready to store."""

    metric: MetricType
    reading: Reading
    entered_value: EnteredValue
    entered_unit: str
    measured_at: datetime
    note: str | None = None
    source: str = "app"
    external_id: str | None = None


def _check_time(measured_at: datetime | None, now: datetime, field: str = "measured_at"
                ) -> datetime:
    if measured_at is None:
        return now
    if measured_at.tzinfo is None:
        raise InvalidInput("Times carry a time zone (RFC 3339), e.g. 2026-05-01T08:00:00Z.",
                           extra={"field": field})
    if measured_at > now + FUTURE_TOLERANCE:
        raise InvalidInput("A measurement cannot be in the future.", code="time_in_future",
                           extra={"field": field})
    if measured_at < EARLIEST:
        raise InvalidInput("That time is too long ago.", code="time_out_of_range",
                           extra={"field": field})
    return measured_at


def _checked(metric: MetricType, value: Any, unit: str, field_prefix: str = "") -> Reading:
    try:
        return units.normalize(metric, value, unit)
    except UnitError as exc:
        raise InvalidInput(str(exc), code="unit_not_convertible",
                           extra={"field": field_prefix + "unit"}) from None
    except RangeError as exc:
        raise InvalidInput(str(exc), code=exc.code,
                           extra={"field": field_prefix + exc.field}) from None


async def log(identity: Identity, client_id: str, *, type: str, value: Any, unit: str,
              measured_at: datetime | None = None, note: str | None = None) -> MetricEntryView:
    """Log one measurement (the client, or their team): 201 and `metric.logged`."""
    found = await client_access(identity, client_id)
    metric = await _type(identity.organization_id, type, await _hidden(found))
    reading = _checked(metric, value, unit)
    when = _check_time(measured_at, clock.now())
    new = NewEntry(metric=metric, reading=reading, entered_value=value, entered_unit=unit,
                   measured_at=when, note=(note or None))
    [entry] = await _store(identity, found, [new])
    return entry


async def _store(identity: Identity, found: ClientAccess, news: list[NewEntry]
                 ) -> list[MetricEntryView]:
    """Store entries with their events and feed rows, in one transaction; each counts towards
    the client's goals on its metric, and a weight or a height computes the BMI when the other
    is known. Returns the entries asked for (not the computed ones)."""
    entries: list[MetricEntryView] = []
    async with write_transaction():
        await threads.lock_thread(found.care_thread_id)
        # Read under the thread's lock, so a switch of the mode cannot slip in between.
        ed_mode = await _ed_mode(found.client_id)
        if not found.as_team and ed_mode and any(n.metric.hideable for n in news):
            raise InvalidInput("No such metric type.", code="unknown_metric_type",
                               extra={"field": "type"})
        for new in news:
            entry = await _insert(found, new, identity.user_id, ed_mode)
            entries.append(entry)
            if entry.type in BMI_INPUTS:
                await _compute_bmi(found, entry, ed_mode)
    return entries


BMI_INPUTS = ("body_weight", "body_height")
COMPUTED = "computed"


async def _insert(found: ClientAccess, new: NewEntry, actor: uuid.UUID | None, ed_mode: bool,
                  *, derived_from: list[uuid.UUID] | None = None) -> MetricEntryView:
    """One entry: its row, its `metric.logged` event (staff-only for weight and BMI in
    eating-disorder mode), its feed row (not for a computed one: nobody logged it) and its
    progress towards goals."""
    now = clock.now()
    entry = MetricEntryView(
        id=uuid.uuid4(), client_id=found.client_id, type=new.metric.key,
        value=new.reading.value, unit=new.metric.unit, entered_value=new.entered_value,
        entered_unit=new.entered_unit, measured_at=new.measured_at, source=new.source,
        logged_by=actor, created_at=now, components=new.reading.components, note=new.note)
    data = msgspec.to_builtins(entry)
    data = {"entry_id": data.pop("id"), **data, "name": new.metric.name}
    if derived_from:
        data["derived_from"] = [str(i) for i in derived_from]
    event = await threads.append_in_transaction(
        found.care_thread_id, LOGGED, actor, data=data,
        audience=threads.STAFF if (ed_mode and new.metric.hideable) else threads.ALL)
    await MetricEntry.insert(MetricEntry(
        id=entry.id, organization=found.organization_id, client=found.client_id,
        type_key=entry.type, value=entry.value,
        components=json.dumps(entry.components) if entry.components else None,
        unit=entry.unit, entered_value=json.dumps(new.entered_value),
        entered_unit=new.entered_unit, measured_at=entry.measured_at, note=entry.note,
        source=new.source, external_id=new.external_id, logged_by=actor,
        event_id=event.id, created_at=now))
    if new.source != COMPUTED:
        await feed.record(event, client_id=found.client_id,
                          organization_id=found.organization_id, category="metric")
    await goals.record_progress(found.client_id, entry.type, entry.value, entry.measured_at)
    return entry


async def _compute_bmi(found: ClientAccess, logged: MetricEntryView, ed_mode: bool) -> None:
    """A weight (or a height) just logged, and the client's latest height (or weight): the BMI
    at that moment, a `computed` entry. Nothing when the other is unknown or the result is
    not plausible (a typo in a height should not invent an alarming BMI)."""
    other = "body_height" if logged.type == "body_weight" else "body_weight"
    row = await MetricEntry.select(MetricEntry.id, MetricEntry.value,
                                   MetricEntry.measured_at).where(
        MetricEntry.client == found.client_id, MetricEntry.type_key == other,
    ).order_by(MetricEntry.measured_at, ascending=False).order_by(
        MetricEntry.created_at, ascending=False).first()
    if row is None:
        return
    weight, height = ((logged.value, row["value"]) if logged.type == "body_weight"
                      else (row["value"], logged.value))
    metric = CATALOGUE["bmi"]
    try:
        value = units.bmi(weight, "kg", height, "cm")
        reading = units.normalize(metric, value, metric.unit)
    except (UnitError, RangeError):
        return
    new = NewEntry(metric=metric, reading=reading, entered_value=reading.value,
                   entered_unit=metric.unit, measured_at=max(logged.measured_at,
                                                             row["measured_at"]),
                   source=COMPUTED)
    await _insert(found, new, None, ed_mode, derived_from=[logged.id, row["id"]])


def _entry(row: dict[str, Any]) -> MetricEntryView:
    components = row["components"]
    if isinstance(components, str):
        components = json.loads(components)
    entered = row["entered_value"]
    if isinstance(entered, str):
        entered = json.loads(entered)
    return MetricEntryView(
        id=row["id"], client_id=row["client"], type=row["type_key"], value=row["value"],
        unit=row["unit"], entered_value=entered, entered_unit=row["entered_unit"],
        measured_at=row["measured_at"], source=row["source"], logged_by=row["logged_by"],
        created_at=row["created_at"], components=components, note=row["note"])


async def entries(identity: Identity, client_id: str, *, type: str | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  unit: str | None = None, limit: int = 1000) -> tuple[list[MetricEntryView], bool]:
    """A client's entries, oldest first (for charts); the client in ED mode never gets weight
    or BMI. With `unit`, values are expressed in it (one type only)."""
    found = await client_access(identity, client_id)
    hidden = await _hidden(found)
    query = MetricEntry.select().where(MetricEntry.client == found.client_id)
    metric: MetricType | None = None
    if type is not None:
        metric = await _type(identity.organization_id, type, hidden)
        query = query.where(MetricEntry.type_key == metric.key)
    elif hidden:
        query = query.where(MetricEntry.type_key.not_in(
            [k for k, t in CATALOGUE.items() if t.hideable]))
    if unit is not None and metric is None:
        raise InvalidInput("unit needs a type.", extra={"field": "unit"})
    if since is not None:
        query = query.where(MetricEntry.measured_at >= since)
    if until is not None:
        query = query.where(MetricEntry.measured_at <= until)
    limit = max(1, min(limit, MAX_LIST))
    rows = await query.order_by(MetricEntry.measured_at, ascending=False).order_by(
        MetricEntry.id, ascending=False).limit(limit + 1)
    more = len(rows) > limit
    result = [_entry(r) for r in reversed(rows[:limit])]
    if unit is not None and metric is not None:
        for item in result:
            try:
                shown = units.express(metric, Reading(item.value, item.components), unit)
            except UnitError as exc:
                raise InvalidInput(str(exc), code="unit_not_convertible",
                                   extra={"field": "unit"}) from None
            item.value, item.components, item.unit = shown.value, shown.components, unit
    return result, more


# --- FHIR ------------------------------------------------------------------------------------


def local_system(base_url: str) -> str:
    return f"{base_url}/fhir/CodeSystem/metric-type"


def _coding(metric: MetricType, base_url: str) -> fhir.ObservationConcept:
    codings = [] if metric.code is None else [metric.code]
    codings.append(Coding(system=local_system(base_url), code=metric.key, display=metric.name))
    return fhir.ObservationConcept(coding=codings, text=metric.name)


def _quantity(value: float, unit: str) -> fhir.ObservationQuantity:
    return fhir.ObservationQuantity(value=value, unit=unit, system=units.UCUM, code=unit)


def observation(entry: MetricEntryView, metric: MetricType, base_url: str
                ) -> fhir.Observation:
    obs = fhir.Observation(
        id=str(entry.id),
        status="final",
        category=[fhir.ObservationConcept(coding=[Coding(
            system="http://terminology.hl7.org/CodeSystem/observation-category",
            code=metric.category)])],
        code=_coding(metric, base_url),
        subject=fhir.ObservationReference(reference=f"Patient/{entry.client_id}"),
        effective_date_time=entry.measured_at.isoformat(),
        issued=entry.created_at.isoformat(),
    )
    if metric.components and entry.components:
        obs.component = [
            fhir.ObservationComponent(
                code=fhir.ObservationConcept(coding=[c.code], text=c.name),
                value_quantity=_quantity(entry.components[c.key], metric.unit))
            for c in metric.components if c.key in entry.components]
    else:
        obs.value_quantity = _quantity(entry.value, metric.unit)
    if entry.note:
        obs.note = [fhir.ObservationNote(text=entry.note)]
    return obs


async def export_fhir(identity: Identity, client_id: str, base_url: str, *,
                      type: str | None = None) -> fhir.ObservationBundle:
    """A FHIR R4 Bundle (collection) of Observations; what the caller may not see left out."""
    found_entries, _ = await entries(identity, client_id, type=type, limit=MAX_LIST)
    types = {t.key: t for t in await practice_types(identity.organization_id)}
    resources = [observation(e, types[e.type], base_url) for e in found_entries
                 if e.type in types]
    return fhir.ObservationBundle(
        type="collection",
        timestamp=clock.now().isoformat(),
        total=len(resources),
        entry=[fhir.ObservationEntry(full_url=f"{base_url}/fhir/Observation/{r.id}", resource=r)
               for r in resources],
    )


def _observations(resource: Any) -> list[dict[str, Any]]:
    if not isinstance(resource, dict):
        raise InvalidInput("Expected a FHIR Observation or a Bundle of them.",
                           code="fhir_invalid")
    kind = resource.get("resourceType")
    if kind == "Observation":
        return [resource]
    if kind == "Bundle":
        found = []
        entries = resource.get("entry") or []
        if not isinstance(entries, list):
            raise InvalidInput("Bundle.entry must be a list.", code="fhir_invalid")
        for item in entries:
            inner = item.get("resource") if isinstance(item, dict) else None
            if not isinstance(inner, dict) or inner.get("resourceType") != "Observation":
                raise InvalidInput("Every Bundle entry must be an Observation.",
                                   code="fhir_invalid")
            found.append(inner)
        return found
    raise InvalidInput("Expected a FHIR Observation or a Bundle of them.", code="fhir_invalid")


def _match(obs: dict[str, Any], types: list[MetricType], base_url: str) -> MetricType:
    codings = (obs.get("code") or {}).get("coding") or []
    for coding in codings:
        if not isinstance(coding, dict):
            continue
        system, code = coding.get("system"), coding.get("code")
        for metric in types:
            if metric.code and metric.code.system == system and metric.code.code == code:
                return metric
            if system == local_system(base_url) and code == metric.key:
                return metric
    shown = ", ".join(f"{c.get('system')}|{c.get('code')}" for c in codings
                      if isinstance(c, dict)) or "none"
    raise InvalidInput(f"No metric type has the code {shown}.", code="unknown_code")


def _ucum(quantity: Any, where: str) -> tuple[Any, str]:
    if not isinstance(quantity, dict) or "value" not in quantity:
        raise InvalidInput(f"{where} needs a valueQuantity with a value.", code="fhir_invalid")
    unit = quantity.get("code") if quantity.get("system") in (units.UCUM, None) else None
    unit = unit or quantity.get("unit")
    if not isinstance(unit, str):
        raise InvalidInput(f"{where} needs a UCUM unit code.", code="fhir_invalid")
    return quantity["value"], unit


def _parse_time(raw: Any) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInput("effectiveDateTime must be a dateTime.", code="fhir_invalid")
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{raw!r} is not a FHIR dateTime.", code="fhir_invalid") from None


def _external_id(obs: dict[str, Any]) -> str | None:
    for ident in obs.get("identifier") or []:
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            return f"{ident.get('system') or ''}|{ident['value']}"[:300]
    raw = obs.get("id")
    return f"id|{raw}"[:300] if isinstance(raw, str) else None


async def import_fhir(identity: Identity, client_id: str, resource: Any, base_url: str
                      ) -> tuple[list[MetricEntryView], int]:
    """Observations (alone or in a Bundle) as entries: all checked first, all stored or none.
    One already imported (same identifier, or id) is skipped. Returns (stored, skipped)."""
    found = await client_access(identity, client_id)
    hidden = await _hidden(found)
    observations = _observations(resource)
    if not observations:
        raise InvalidInput("No Observation to import.", code="fhir_invalid")
    if len(observations) > MAX_IMPORT:
        raise InvalidInput(f"At most {MAX_IMPORT} Observations at once.", code="fhir_invalid")
    types = [t for t in await practice_types(identity.organization_id)
             if not (hidden and t.hideable)]
    now = clock.now()
    news: list[NewEntry] = []
    for index, obs in enumerate(observations):
        where = f"Observation {index + 1}"
        try:
            status = obs.get("status")
            if status not in ACCEPTED_STATUS:
                raise InvalidInput(f"{where}: status {status!r} cannot be imported.",
                                   code="fhir_invalid")
            metric = _match(obs, types, base_url)
            if metric.components:
                value: Any = {}
                unit = None
                for comp in obs.get("component") or []:
                    part = _match({"code": comp.get("code")}, [_component_type(c) for c in
                                                               metric.components], base_url)
                    part_value, unit = _ucum(comp.get("valueQuantity"), where)
                    value[part.key] = part_value
                if unit is None:
                    raise InvalidInput(f"{where}: blood pressure needs its components.",
                                       code="fhir_invalid")
            else:
                value, unit = _ucum(obs.get("valueQuantity"), where)
            effective = obs.get("effectiveDateTime") or obs.get("effectiveInstant") or (
                (obs.get("effectivePeriod") or {}).get("start"))
            when = _check_time(_parse_time(effective), now, "effectiveDateTime")
            reading = _checked(metric, value, unit)
            note = None
            notes = obs.get("note")
            if isinstance(notes, list) and notes and isinstance(notes[0], dict):
                text = notes[0].get("text")
                note = text[:500] if isinstance(text, str) else None
            external_id = _external_id(obs)
        except InvalidInput as exc:
            exc.extra["index"] = index
            if not exc.detail.startswith("Observation"):
                exc.detail = f"{where}: {exc.detail}"
            raise
        except (AttributeError, TypeError, KeyError):
            raise InvalidInput(f"{where} is malformed.", code="fhir_invalid",
                               extra={"index": index}) from None
        news.append(NewEntry(metric=metric, reading=reading, entered_value=value,
                             entered_unit=unit, measured_at=when, note=note, source="fhir",
                             external_id=external_id))
    known = {n.external_id for n in news if n.external_id}
    if known:
        rows = await MetricEntry.select(MetricEntry.external_id).where(
            MetricEntry.client == found.client_id, MetricEntry.external_id.is_in(list(known)))
        seen = {r["external_id"] for r in rows}
        fresh: list[NewEntry] = []
        for n in news:
            if n.external_id and n.external_id in seen:
                continue
            if n.external_id:
                seen.add(n.external_id)
            fresh.append(n)
    else:
        fresh = news
    stored = await _store(identity, found, fresh) if fresh else []
    return stored, len(news) - len(fresh)


def _component_type(component: units.Component) -> MetricType:
    return MetricType(key=component.key, name=component.name, unit="", units=[],
                      min=component.min, max=component.max, code=component.code)
