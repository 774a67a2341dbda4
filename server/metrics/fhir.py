"""The FHIR R4 shapes of a metrics export (`GET /clients/{id}/metrics?format=fhir`).

Only the parts of Bundle and Observation the export writes, as Structs so the OpenAPI schema
names them. `resourceType` is each resource's msgspec tag (encoded first, as FHIR writes it);
the other names are FHIR's camelCase. Optional parts are UNSET, never null: FHIR leaves out
what it does not have.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from server.metrics.units import Coding


class ObservationConcept(msgspec.Struct, omit_defaults=True):
    """A FHIR CodeableConcept."""

    coding: list[Coding]
    text: str | msgspec.UnsetType = msgspec.UNSET


class ObservationQuantity(msgspec.Struct):
    """A FHIR Quantity in UCUM (`system` http://unitsofmeasure.org, `code` = `unit`)."""

    value: float
    unit: str
    system: str
    code: str


class ObservationReference(msgspec.Struct):
    reference: str  # Patient/{client id}


class ObservationNote(msgspec.Struct):
    text: str


class ObservationComponent(msgspec.Struct, rename="camel"):
    """One part of a reading with parts (blood pressure: systolic, diastolic)."""

    code: ObservationConcept
    value_quantity: ObservationQuantity


class Observation(msgspec.Struct, omit_defaults=True, rename="camel",
                  tag_field="resourceType", tag="Observation"):
    """One metric entry: `valueQuantity`, or `component`s for a type with parts."""

    id: str
    status: Literal["final"]
    category: list[ObservationConcept]
    code: ObservationConcept
    subject: ObservationReference
    effective_date_time: str  # the entry's measured_at, as Python's isoformat writes it
    issued: str
    component: list[ObservationComponent] | msgspec.UnsetType = msgspec.UNSET
    value_quantity: ObservationQuantity | msgspec.UnsetType = msgspec.UNSET
    note: list[ObservationNote] | msgspec.UnsetType = msgspec.UNSET


class ObservationEntry(msgspec.Struct, rename="camel"):
    full_url: str
    resource: Observation


class ObservationBundle(msgspec.Struct, tag_field="resourceType", tag="Bundle"):
    """A `collection` Bundle of Observations."""

    type: Literal["collection"]
    timestamp: str  # when it was made, as Python's isoformat writes it
    total: int
    entry: list[ObservationEntry]
