"""Metric types, UCUM units and their conversion (pint), and plausible ranges: pure functions.

Nothing here touches the database or the clock, so it is tested fast on its own
(tests/test_metric_units.py). A value is stored in its type's canonical unit; what the caller
gave (value and unit) is kept beside it.

UCUM is the unit syntax of the API and of FHIR (`kg`, `[lb_av]`, `mm[Hg]`, `/min`); pint does
the arithmetic. The table below maps each UCUM code we accept to a pint expression; a code not in
it, or one of another dimension than the type's unit, does not convert.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import msgspec

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

# UCUM code -> pint expression. Annotations ({steps}) are counts: dimensionless in pint, so
# they convert only to themselves and to "1" (see `convertible`).
UCUM_TO_PINT: dict[str, str] = {
    "kg": "kilogram",
    "g": "gram",
    "[lb_av]": "pound",
    "[oz_av]": "ounce",
    "[stone_av]": "stone",
    "m": "meter",
    "cm": "centimeter",
    "mm": "millimeter",
    "km": "kilometer",
    "[in_i]": "inch",
    "[ft_i]": "foot",
    "[mi_i]": "mile",
    "kg/m2": "kilogram / meter ** 2",
    "mm[Hg]": "millimeter_Hg",
    "kPa": "kilopascal",
    "/min": "1 / minute",
    "{beats}/min": "1 / minute",
    "/s": "1 / second",
    "h": "hour",
    "min": "minute",
    "s": "second",
    "d": "day",
    "Cel": "degree_Celsius",
    "[degF]": "degree_Fahrenheit",
    "L": "liter",
    "mL": "milliliter",
    "[foz_us]": "US_liquid_ounce",
    "kcal": "kilocalorie",
    "kJ": "kilojoule",
    "mg/dL": "milligram / deciliter",
    "mmol/L": "millimole / liter",
    "%": "percent",
    "1": "dimensionless",
    "{steps}": "dimensionless",
    "{score}": "dimensionless",
    "{count}": "dimensionless",
    "{servings}": "dimensionless",
}

ANNOTATED = {"1", "{steps}", "{score}", "{count}", "{servings}"}


class UnitError(ValueError):
    """A unit that is unknown or does not convert to the type's unit."""


class RangeError(ValueError):
    """A value that cannot be stored: `code` out_of_range (implausible) or validation_error."""

    def __init__(self, message: str, field: str = "value", code: str = "validation_error"
                 ) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class Coding(msgspec.Struct, omit_defaults=True):
    system: str
    code: str
    display: str | None = None


class Component(msgspec.Struct):
    key: str  # "systolic", "diastolic"
    name: str
    code: Coding
    min: float
    max: float


class MetricType(msgspec.Struct, omit_defaults=True):
    """A kind of measurement: its canonical unit, the units it accepts, its plausible range."""

    key: str
    name: str
    unit: str  # canonical UCUM unit: values are stored in it
    units: list[str]  # every UCUM unit accepted on input
    min: float
    max: float
    code: Coding | None = None  # LOINC where there is one
    category: str = "vital-signs"  # FHIR observation category
    components: list[Component] | None = None  # blood pressure: systolic and diastolic
    decimals: int = 1
    hideable: bool = False  # hidden from a client in eating-disorder mode (weight, BMI)
    custom: bool = False


def _loinc(code: str, display: str) -> Coding:
    return Coding(system=LOINC, code=code, display=display)


CATALOGUE: dict[str, MetricType] = {t.key: t for t in [
    MetricType(key="body_weight", name="Body weight", unit="kg",
               units=["kg", "g", "[lb_av]", "[stone_av]"], min=0.5, max=650,
               code=_loinc("29463-7", "Body weight"), hideable=True),
    MetricType(key="body_height", name="Body height", unit="cm",
               units=["cm", "m", "mm", "[in_i]", "[ft_i]"], min=20, max=300,
               code=_loinc("8302-2", "Body height")),
    MetricType(key="bmi", name="Body mass index", unit="kg/m2", units=["kg/m2"], min=5,
               max=150, code=_loinc("39156-5", "Body mass index (BMI) [Ratio]"),
               hideable=True),
    MetricType(key="blood_pressure", name="Blood pressure", unit="mm[Hg]",
               units=["mm[Hg]", "kPa"], min=20, max=300, decimals=0,
               code=_loinc("85354-9", "Blood pressure panel with all children optional"),
               components=[
                   Component(key="systolic", name="Systolic", min=40, max=300,
                             code=_loinc("8480-6", "Systolic blood pressure")),
                   Component(key="diastolic", name="Diastolic", min=20, max=200,
                             code=_loinc("8462-4", "Diastolic blood pressure")),
               ]),
    MetricType(key="heart_rate", name="Heart rate", unit="/min",
               units=["/min", "{beats}/min", "/s"], min=20, max=300, decimals=0,
               code=_loinc("8867-4", "Heart rate")),
    MetricType(key="steps", name="Steps", unit="{steps}", units=["{steps}", "1"], min=0,
               max=200_000, decimals=0, category="activity",
               code=_loinc("55423-8", "Number of steps in unspecified time Pedometer")),
    MetricType(key="sleep_duration", name="Sleep duration", unit="h", units=["h", "min", "s"],
               min=0, max=24, category="activity",
               code=_loinc("93832-4", "Sleep duration")),
    MetricType(key="mood", name="Mood", unit="{score}", units=["{score}", "1"], min=1, max=5,
               decimals=0, category="survey"),
]}


@functools.cache
def _registry() -> Any:
    import pint

    return pint.UnitRegistry()


def _pint_unit(ucum: str) -> Any:
    expression = UCUM_TO_PINT.get(ucum)
    if expression is None:
        raise UnitError(f"Unknown unit {ucum!r}; units are UCUM codes such as kg, [lb_av], "
                        "cm, mm[Hg], /min, h.")
    return _registry().parse_units(expression)


def convertible(from_unit: str, to_unit: str) -> bool:
    try:
        source, target = _pint_unit(from_unit), _pint_unit(to_unit)
    except UnitError:
        return False
    if from_unit in ANNOTATED or to_unit in ANNOTATED:
        # Counts only convert to the same count (or the plain "1").
        return from_unit == to_unit or (from_unit in ANNOTATED and to_unit in ANNOTATED
                                        and "1" in (from_unit, to_unit))
    return bool(source.dimensionality == target.dimensionality)


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """`value` in `from_unit`, expressed in `to_unit`; UnitError if they do not convert."""
    if from_unit == to_unit:
        return float(value)
    if not convertible(from_unit, to_unit):
        if from_unit not in UCUM_TO_PINT:
            _pint_unit(from_unit)  # raises the "unknown unit" message
        raise UnitError(f"{from_unit} does not convert to {to_unit}.")
    registry = _registry()
    quantity = registry.Quantity(float(value), _pint_unit(from_unit))
    return float(quantity.to(_pint_unit(to_unit)).magnitude)


def accepted_units(metric: MetricType) -> list[str]:
    return list(metric.units)


def custom_units(canonical: str) -> list[str]:
    """For a practice's own type: every UCUM unit that converts to its canonical unit."""
    _pint_unit(canonical)
    return [u for u in UCUM_TO_PINT if convertible(u, canonical)]


def _finite(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RangeError(f"{field} must be a number.", field)
    number = float(value)
    if not math.isfinite(number):
        raise RangeError(f"{field} must be a finite number.", field)
    return number


class Reading(msgspec.Struct, omit_defaults=True):
    """A checked value in the canonical unit (and its components, for blood pressure)."""

    value: float
    components: dict[str, float] | None = None


def normalize(metric: MetricType, value: Any, unit: str) -> Reading:
    """Convert to the canonical unit and check the plausible range.

    `value` is a number, or for a type with components an object of them
    (`{"systolic": 120, "diastolic": 80}`). UnitError or RangeError when it cannot be stored.
    """
    if unit not in metric.units:
        if unit not in UCUM_TO_PINT:
            _pint_unit(unit)
        raise UnitError(f"{unit} does not convert to {metric.unit} ({metric.name}); "
                        f"use one of {', '.join(metric.units)}.")
    if metric.components:
        if not isinstance(value, dict):
            keys = " and ".join(c.key for c in metric.components)
            raise RangeError(f"{metric.name} is an object of {keys}.")
        unknown = set(value) - {c.key for c in metric.components}
        if unknown:
            raise RangeError(f"Unknown part {sorted(unknown)[0]!r} of {metric.name}.")
        parts: dict[str, float] = {}
        for component in metric.components:
            if component.key not in value:
                raise RangeError(f"{component.name} is missing.", component.key)
            number = convert(_finite(value[component.key], component.key), unit, metric.unit)
            number = round(number, metric.decimals + 2)
            _check_range(number, component.min, component.max, metric.unit, component.key,
                         component.name)
            parts[component.key] = number
        if "systolic" in parts and "diastolic" in parts and (
                parts["systolic"] <= parts["diastolic"]):
            raise RangeError("Systolic pressure must be above diastolic.", "systolic",
                             "out_of_range")
        first = metric.components[0].key
        return Reading(value=parts[first], components=parts)
    number = convert(_finite(value, "value"), unit, metric.unit)
    number = round(number, max(metric.decimals, 0) + 3)
    _check_range(number, metric.min, metric.max, metric.unit, "value", metric.name)
    return Reading(value=number)


def _check_range(number: float, low: float, high: float, unit: str, field: str, name: str
                 ) -> None:
    if not low <= number <= high:
        raise RangeError(f"{name} {_fmt(number)} {unit} is outside the plausible range "
                         f"{_fmt(low)}-{_fmt(high)} {unit}.", field, "out_of_range")


def _fmt(number: float) -> str:
    return f"{number:.6g}"


def express(metric: MetricType, reading: Reading, unit: str) -> Reading:
    """A stored reading in another accepted unit (for display)."""
    if unit == metric.unit:
        return reading
    if unit not in metric.units:
        raise UnitError(f"{unit} does not convert to {metric.unit}.")
    digits = metric.decimals + 2
    return Reading(
        value=round(convert(reading.value, metric.unit, unit), digits),
        components=None if reading.components is None else {
            k: round(convert(v, metric.unit, unit), digits)
            for k, v in reading.components.items()},
    )


def bmi(weight: float, weight_unit: str, height: float, height_unit: str) -> float:
    """Body mass index from a weight and a height in any units pint converts: kg/m²."""
    registry = _registry()
    mass = registry.Quantity(float(weight), _pint_unit(weight_unit))
    length = registry.Quantity(float(height), _pint_unit(height_unit))
    if length.magnitude <= 0:
        raise RangeError("A height must be above zero.", "value", "out_of_range")
    try:
        index = (mass / length**2).to(_pint_unit("kg/m2"))
    except Exception as exc:  # pint's DimensionalityError: a weight that is no mass
        raise UnitError(f"{weight_unit} and {height_unit} give no BMI.") from exc
    return round(float(index.magnitude), 2)
