"""Slot computation without a server: weekly hours in a time zone, exceptions, buffers, notice,
horizon, and weeks over daylight-saving changes in America/New_York and Europe/Berlin."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.appointments.slots import (
    Busy,
    DateException,
    Schedule,
    SlotRules,
    WeeklyHours,
    check_weekly,
    parse_hhmm,
    refusal,
    slots,
    windows,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_9_TO_12 = tuple(WeeklyHours(d, 9 * 60, 12 * 60) for d in range(5))
NO_BUSY = Busy([])


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local_starts(found: list[tuple[datetime, datetime]], tz: ZoneInfo) -> list[str]:
    return [a.astimezone(tz).strftime("%a %H:%M") for a, _ in found]


def test_a_week_over_spring_forward_in_new_york_keeps_local_hours() -> None:
    # 2026-03-08 (Sunday) 02:00 EST -> 03:00 EDT.
    schedule = Schedule(NY, WEEKDAYS_9_TO_12)
    rules = SlotRules(minutes=60)
    found = slots(schedule, rules, NO_BUSY, now=utc(2026, 3, 1), start=utc(2026, 3, 5),
                  end=utc(2026, 3, 12))
    assert local_starts(found, NY) == [
        f"{d} {h}" for d in ("Thu", "Fri", "Mon", "Tue", "Wed") for h in ("09:00", "10:00", "11:00")
    ]
    thursday, monday = found[0][0], found[6][0]
    assert thursday == utc(2026, 3, 5, 14)  # EST: UTC-5
    assert monday == utc(2026, 3, 9, 13)  # EDT: UTC-4, the same 09:00 on the wall
    assert all(b - a == timedelta(hours=1) for a, b in found)


def test_a_week_over_fall_back_in_berlin_keeps_local_hours() -> None:
    # 2026-10-25 (Sunday) 03:00 CEST -> 02:00 CET.
    schedule = Schedule(BERLIN, WEEKDAYS_9_TO_12)
    found = slots(schedule, SlotRules(minutes=30, interval=30), NO_BUSY, now=utc(2026, 10, 1),
                  start=utc(2026, 10, 22), end=utc(2026, 10, 29))
    by_day: dict[str, list[datetime]] = {}
    for a, _ in found:
        by_day.setdefault(a.astimezone(BERLIN).strftime("%a"), []).append(a)
    assert list(by_day) == ["Thu", "Fri", "Mon", "Tue", "Wed"]
    assert all(len(v) == 6 for v in by_day.values())
    assert by_day["Fri"][0] == utc(2026, 10, 23, 7)  # CEST: UTC+2
    assert by_day["Mon"][0] == utc(2026, 10, 26, 8)  # CET: UTC+1


def test_hours_across_the_night_of_the_change_are_as_long_as_the_clock_says() -> None:
    night = (WeeklyHours(6, 0, 6 * 60),)  # Sundays 00:00-06:00
    spring = windows(Schedule(NY, night), utc(2026, 3, 8), utc(2026, 3, 9))
    assert [(b - a) for a, b in spring] == [timedelta(hours=5)]  # an hour never happened
    autumn = windows(Schedule(BERLIN, night), utc(2026, 10, 24), utc(2026, 10, 26))
    assert [(b - a) for a, b in autumn] == [timedelta(hours=7)]  # an hour happened twice
    hourly = slots(Schedule(BERLIN, night), SlotRules(minutes=60), NO_BUSY,
                   now=utc(2026, 10, 1), start=utc(2026, 10, 24), end=utc(2026, 10, 26))
    assert len(hourly) == 7
    assert hourly[2][0] == utc(2026, 10, 25, 0)  # 02:00 CEST
    assert hourly[3][0] == utc(2026, 10, 25, 1)  # 02:00 CET, the second time round


def test_new_york_fall_back_and_berlin_spring_forward_weeks() -> None:
    rules = SlotRules(minutes=60)
    ny = slots(Schedule(NY, WEEKDAYS_9_TO_12), rules, NO_BUSY, now=utc(2026, 10, 1),
               start=utc(2026, 10, 30), end=utc(2026, 11, 3))
    assert [a for a, _ in ny][:1] == [utc(2026, 10, 30, 13)]  # EDT
    assert [a for a, _ in ny][3] == utc(2026, 11, 2, 14)  # EST
    berlin = slots(Schedule(BERLIN, WEEKDAYS_9_TO_12), rules, NO_BUSY, now=utc(2026, 3, 1),
                   start=utc(2026, 3, 27), end=utc(2026, 3, 31))
    assert next(a for a, _ in berlin) == utc(2026, 3, 27, 8)  # CET
    assert [a for a, _ in berlin][3] == utc(2026, 3, 30, 7)  # CEST


def test_exceptions_take_days_off_cut_hours_and_add_extra_hours() -> None:
    schedule = Schedule(BERLIN, WEEKDAYS_9_TO_12, (
        DateException(date(2026, 6, 1), available=False),  # Monday off
        DateException(date(2026, 6, 2), available=False, start=10 * 60, end=11 * 60),
        DateException(date(2026, 6, 6), available=True, start=14 * 60, end=16 * 60),  # Sat
    ))
    found = slots(schedule, SlotRules(minutes=60), NO_BUSY, now=utc(2026, 5, 1),
                  start=utc(2026, 6, 1), end=utc(2026, 6, 8))
    starts = local_starts(found, BERLIN)
    assert not [s for s in starts if s.startswith("Mon")]
    assert [s for s in starts if s.startswith("Tue")] == ["Tue 09:00", "Tue 11:00"]
    assert [s for s in starts if s.startswith("Sat")] == ["Sat 14:00", "Sat 15:00"]


def test_buffers_notice_and_horizon() -> None:
    schedule = Schedule(NY, WEEKDAYS_9_TO_12)
    booked = Busy([(utc(2026, 6, 2, 14), utc(2026, 6, 2, 15))])  # Tue 10:00-11:00 EDT
    rules = SlotRules(minutes=30, interval=30, buffer_after=30)
    tuesday = slots(schedule, rules, booked, now=utc(2026, 6, 1), start=utc(2026, 6, 2),
                    end=utc(2026, 6, 3))
    # 09:30 would run into the booked hour with its buffer; 09:00 ends 09:30 + 30 min buffer.
    assert local_starts(tuesday, NY) == ["Tue 09:00", "Tue 11:00", "Tue 11:30"]
    now = utc(2026, 6, 2, 13, 10)  # Tue 09:10 EDT
    soon = slots(schedule, SlotRules(minutes=60, min_notice=timedelta(hours=2)), NO_BUSY,
                 now=now, start=now, end=utc(2026, 6, 3))
    assert local_starts(soon, NY) == []  # 11:00 is only 1h50 away
    near = slots(schedule, SlotRules(minutes=60, horizon=timedelta(days=1)), NO_BUSY,
                 now=now, start=now, end=utc(2026, 6, 10))
    assert local_starts(near, NY) == ["Tue 10:00", "Tue 11:00", "Wed 09:00"]


def test_refusal_names_the_reason() -> None:
    schedule = Schedule(NY, WEEKDAYS_9_TO_12)
    rules = SlotRules(minutes=60, min_notice=timedelta(hours=24), horizon=timedelta(days=30))
    busy = Busy([(utc(2026, 6, 10, 13), utc(2026, 6, 10, 14))])
    now = utc(2026, 6, 1, 12)

    def why(start: datetime) -> str | None:
        return refusal(schedule, rules, busy, now=now, start=start)

    assert why(utc(2026, 6, 9, 13)) is None  # Tue 09:00 EDT
    assert why(utc(2026, 5, 30, 13)) == "in_the_past"
    assert why(utc(2026, 6, 2, 10)) == "inside_minimum_notice"
    assert why(utc(2026, 8, 3, 13)) == "beyond_horizon"
    assert why(utc(2026, 6, 9, 20)) == "outside_hours"  # 16:00
    assert why(utc(2026, 6, 13, 13)) == "outside_hours"  # Saturday
    assert why(utc(2026, 6, 9, 13, 15)) == "not_on_slot"
    assert why(utc(2026, 6, 10, 13)) == "slot_taken"


def test_weekly_hours_are_checked() -> None:
    assert parse_hhmm("24:00") == 1440
    for bad in ["9:00", "25:00", "12:60", "noon", "24:01"]:
        with pytest.raises(ValueError):
            parse_hhmm(bad)
    with pytest.raises(ValueError):
        check_weekly([(7, "09:00", "10:00")])
    with pytest.raises(ValueError):
        check_weekly([(1, "10:00", "09:00")])
