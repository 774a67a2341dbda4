"""HTTP for metrics: types, entries (JSON or FHIR), FHIR import, eating-disorder mode."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED

from server.identity import Identity
from server.inputs import InstantQuery, parse_rfc3339
from server.metrics import service
from server.metrics.fhir import ObservationBundle
from server.metrics.units import Coding, MetricType
from server.runtime import Runtime

Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
TypeKey = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class EntryIn(msgspec.Struct):
    type: TypeKey
    value: float | dict[str, float]
    unit: Unit
    measured_at: datetime | None = None
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class TypeIn(msgspec.Struct):
    key: TypeKey
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    unit: Unit
    min: float
    max: float
    code: Coding | None = None
    decimals: Annotated[int, msgspec.Meta(ge=0, le=6)] = 1


class SettingsIn(msgspec.Struct):
    eating_disorder_mode: bool


class MetricTypesOut(msgspec.Struct):
    types: list[MetricType]


class MetricTypeOut(msgspec.Struct):
    type: MetricType


class MetricEntryOut(msgspec.Struct):
    entry: service.MetricEntryView


class MetricEntriesOut(msgspec.Struct):
    """The newest `limit` entries, oldest first; `more` when older ones were left out."""

    entries: list[service.MetricEntryView]
    more: bool


class MetricImportOut(msgspec.Struct):
    """The entries stored, and how many Observations were skipped as imported before."""

    entries: list[service.MetricEntryView]
    skipped: int


class MetricSettingsOut(msgspec.Struct):
    settings: service.MetricSettingsView


class MetricsController(Controller):
    path = "/api/v1"
    tags = ["metrics"]

    @get("/metric-types")
    async def practice_types(self, identity: Identity) -> MetricTypesOut:
        """The catalogue and the practice's own types (the team)."""
        return MetricTypesOut(await service.list_types(identity))

    @post("/metric-types", status_code=HTTP_201_CREATED)
    async def create_type(self, data: TypeIn, identity: Identity) -> MetricTypeOut:
        """A practice's own metric type, with its UCUM unit and plausible range."""
        return MetricTypeOut(await service.create_type(
            identity, key=data.key, name=data.name, unit=data.unit, min=data.min,
            max=data.max, code=data.code, decimals=data.decimals))

    @get("/clients/{client_id:str}/metric-types")
    async def client_types(self, client_id: str, identity: Identity) -> MetricTypesOut:
        """The types this client can log and see (without weight and BMI in ED mode)."""
        return MetricTypesOut(await service.list_types(identity, client_id))

    @post("/clients/{client_id:str}/metrics", status_code=HTTP_201_CREATED)
    async def log(self, client_id: str, data: EntryIn, identity: Identity) -> MetricEntryOut:
        """Log a measurement (the client or their team): `metric.logged` in the care thread."""
        return MetricEntryOut(await service.log(
            identity, client_id, type=data.type, value=data.value, unit=data.unit,
            measured_at=data.measured_at, note=data.note))

    @get("/clients/{client_id:str}/metrics")
    async def entries(
        self, client_id: str, identity: Identity, runtime: Runtime,
        type: Annotated[str | None, Parameter(max_length=40)] = None,
        since: InstantQuery = None, until: InstantQuery = None,
        unit: Annotated[str | None, Parameter(max_length=40)] = None,
        format: Literal["json", "fhir"] = "json",
        limit: Annotated[int, Parameter(ge=1, le=service.MAX_LIST)] = 1000,
    ) -> MetricEntriesOut | ObservationBundle:
        """Entries oldest first (the newest `limit`), or with `format=fhir` a FHIR R4 Bundle
        of Observations (one route, so the answer's schema is either)."""
        if format == "fhir":
            return await service.export_fhir(identity, client_id, runtime.settings.base_url,
                                             type=type)
        found, more = await service.entries(
            identity, client_id, type=type, since=parse_rfc3339(since, "since"),
            until=parse_rfc3339(until, "until"), unit=unit, limit=limit)
        return MetricEntriesOut(entries=found, more=more)

    @post("/clients/{client_id:str}/metrics/fhir", status_code=HTTP_201_CREATED,
          request_max_body_size=2 * 1024 * 1024)
    async def import_fhir(self, client_id: str, data: dict[str, Any], identity: Identity,
                          runtime: Runtime) -> MetricImportOut:
        """Import FHIR R4 Observations (one, or a Bundle): all stored or none."""
        stored, skipped = await service.import_fhir(identity, client_id, data,
                                                    runtime.settings.base_url)
        return MetricImportOut(entries=stored, skipped=skipped)

    @get("/clients/{client_id:str}/metric-settings")
    async def get_settings(self, client_id: str, identity: Identity) -> MetricSettingsOut:
        return MetricSettingsOut(await service.get_settings(identity, client_id))

    @put("/clients/{client_id:str}/metric-settings")
    async def set_settings(self, client_id: str, data: SettingsIn, identity: Identity
                           ) -> MetricSettingsOut:
        """Eating-disorder mode on or off (the care team)."""
        return MetricSettingsOut(await service.set_settings(
            identity, client_id, eating_disorder_mode=data.eating_disorder_mode))
