"""Units and ranges of metrics, without a server: UCUM codes converted with pint."""

from __future__ import annotations

import math

import pytest

from server.metrics.units import (
    CATALOGUE,
    RangeError,
    UnitError,
    bmi,
    convert,
    convertible,
    custom_units,
    express,
    normalize,
)

WEIGHT = CATALOGUE["body_weight"]
BP = CATALOGUE["blood_pressure"]


def test_pounds_and_stones_become_kilograms() -> None:
    assert normalize(WEIGHT, 150, "[lb_av]").value == pytest.approx(68.0389, abs=1e-4)
    assert normalize(WEIGHT, 11, "[stone_av]").value == pytest.approx(69.8532, abs=1e-4)
    assert normalize(WEIGHT, 72.5, "kg").value == 72.5
    assert normalize(WEIGHT, 72500, "g").value == pytest.approx(72.5)


def test_heights_minutes_and_rates_convert() -> None:
    assert normalize(CATALOGUE["body_height"], 70, "[in_i]").value == pytest.approx(177.8)
    assert normalize(CATALOGUE["body_height"], 1.8, "m").value == pytest.approx(180)
    assert normalize(CATALOGUE["sleep_duration"], 450, "min").value == pytest.approx(7.5)
    assert normalize(CATALOGUE["heart_rate"], 1, "/s").value == pytest.approx(60)
    assert convert(100, "Cel", "[degF]") == pytest.approx(212)
    assert convert(1, "[foz_us]", "mL") == pytest.approx(29.5735, abs=1e-3)


def test_blood_pressure_has_two_components_in_mm_hg() -> None:
    reading = normalize(BP, {"systolic": 120, "diastolic": 80}, "mm[Hg]")
    assert reading.components == {"systolic": 120, "diastolic": 80}
    assert reading.value == 120
    kpa = normalize(BP, {"systolic": 16, "diastolic": 10.6}, "kPa")
    assert kpa.components is not None
    assert kpa.components["systolic"] == pytest.approx(120.01, abs=0.01)
    with pytest.raises(RangeError) as low:
        normalize(BP, {"systolic": 80, "diastolic": 120}, "mm[Hg]")
    assert low.value.field == "systolic"
    with pytest.raises(RangeError):
        normalize(BP, 120, "mm[Hg]")
    with pytest.raises(RangeError) as missing:
        normalize(BP, {"systolic": 120}, "mm[Hg]")
    assert missing.value.field == "diastolic"


@pytest.mark.parametrize(("key", "value", "unit"), [
    ("body_weight", 1, "cm"),  # another dimension
    ("body_weight", 70, "kilo"),  # not UCUM
    ("heart_rate", 60, "h"),
    ("steps", 5000, "%"),  # both dimensionless to pint, but not the same count
    ("mood", 3, "{steps}"),
])
def test_units_that_do_not_convert_are_refused(key: str, value: float, unit: str) -> None:
    with pytest.raises(UnitError):
        normalize(CATALOGUE[key], value, unit)


@pytest.mark.parametrize(("key", "value", "unit"), [
    ("body_weight", 0, "kg"),
    ("body_weight", 2000, "[lb_av]"),
    ("body_height", 4, "m"),
    ("heart_rate", 400, "/min"),
    ("sleep_duration", 25, "h"),
    ("steps", -1, "{steps}"),
    ("mood", 6, "{score}"),
])
def test_implausible_values_are_refused(key: str, value: float, unit: str) -> None:
    with pytest.raises(RangeError):
        normalize(CATALOGUE[key], value, unit)


@pytest.mark.parametrize("value", [math.nan, math.inf, "70", True, None])
def test_only_finite_numbers_are_values(value: object) -> None:
    with pytest.raises(RangeError):
        normalize(WEIGHT, value, "kg")


def test_counts_convert_only_to_themselves() -> None:
    assert convertible("{steps}", "1")
    assert not convertible("{steps}", "{score}")
    assert not convertible("%", "{steps}")
    assert convertible("mg/dL", "mg/dL")
    assert not convertible("mg/dL", "mmol/L")  # needs a molar mass: no silent guess
    assert "[lb_av]" in custom_units("kg") and "cm" not in custom_units("kg")
    with pytest.raises(UnitError):
        custom_units("furlongs")


def test_a_stored_reading_reads_back_in_pounds() -> None:
    reading = normalize(WEIGHT, 154.3, "[lb_av]")
    assert express(WEIGHT, reading, "[lb_av]").value == pytest.approx(154.3, abs=0.01)
    bp = normalize(BP, {"systolic": 120, "diastolic": 80}, "mm[Hg]")
    shown = express(BP, bp, "kPa")
    assert shown.components is not None
    assert shown.components["diastolic"] == pytest.approx(10.67, abs=0.01)


def test_bmi_from_any_units_of_weight_and_height() -> None:
    assert bmi(70, "kg", 175, "cm") == pytest.approx(22.86, abs=0.01)
    assert bmi(154.3, "[lb_av]", 69, "[in_i]") == pytest.approx(22.79, abs=0.01)
    assert bmi(70, "kg", 1.75, "m") == bmi(70000, "g", 1750, "mm")
    with pytest.raises(UnitError):
        bmi(70, "cm", 175, "cm")
    with pytest.raises(RangeError):
        bmi(70, "kg", 0, "cm")
