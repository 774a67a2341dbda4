"""Free slots from weekly hours, exceptions and existing appointments: pure, no I/O.

Hours are wall-clock times in the provider's time zone; everything returned is UTC. A day's
hours are turned into UTC one local date at a time with zoneinfo, so a week over a
daylight-saving change keeps 09:00 at 09:00 local (a different UTC hour after the change), and
a window that spans the change is as long as the clock says it really is.

An appointment holds the provider's time from `buffer_before` before its start to
`buffer_after` after its end; a slot is free when that span overlaps no other held span. The
appointment itself (not its buffers) lies within working hours.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_MINUTES = 24 * 60
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")

Interval = tuple[datetime, datetime]


def parse_hhmm(value: str) -> int:
    """"HH:MM" as minutes after midnight; "24:00" is the end of the day."""
    match = _HHMM.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a time of day as HH:MM")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > DAY_MINUTES:
        raise ValueError(f"{value!r} is past the end of the day")
    return minutes


def format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    day: int  # 0 = Monday ... 6 = Sunday
    start: int  # minutes after local midnight
    end: int


@dataclass(frozen=True, slots=True)
class DateException:
    """`available=False` without times: the day off; with times: those hours off.
    `available=True` with times: extra hours that day."""

    day: date
    available: bool
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True, slots=True)
class SlotRules:
    minutes: int
    buffer_before: int = 0
    buffer_after: int = 0
    interval: int | None = None  # minutes between possible starts; None: the length
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)

    @property
    def step(self) -> timedelta:
        return timedelta(minutes=self.interval or self.minutes)

    @property
    def length(self) -> timedelta:
        return timedelta(minutes=self.minutes)


@dataclass(frozen=True, slots=True)
class Schedule:
    time_zone: ZoneInfo
    weekly: tuple[WeeklyHours, ...]
    exceptions: tuple[DateException, ...] = ()


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(spans: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    for start, end in spans:
        if cut[1] <= start or cut[0] >= end:
            out.append((start, end))
            continue
        if cut[0] > start:
            out.append((start, cut[0]))
        if cut[1] < end:
            out.append((cut[1], end))
    return out


def day_hours(schedule: Schedule, day: date) -> list[tuple[int, int]]:
    """The working spans of one local date, in minutes after local midnight."""
    spans = _merge((w.start, w.end) for w in schedule.weekly if w.day == day.weekday())
    for exc in schedule.exceptions:
        if exc.day != day:
            continue
        if exc.start is None or exc.end is None:
            if not exc.available:
                spans = []
            continue
        if exc.available:
            spans = _merge([*spans, (exc.start, exc.end)])
        else:
            spans = _subtract(spans, (exc.start, exc.end))
    return spans


def _local(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """Wall-clock `minutes` after local midnight of `day`, as UTC (24:00 is next midnight).
    A time in a spring-forward gap maps as zoneinfo's fold=0 does (the earlier offset)."""
    if minutes >= DAY_MINUTES:
        day, minutes = day + timedelta(days=1), minutes - DAY_MINUTES
    wall = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
    return wall.astimezone(UTC)


def windows(schedule: Schedule, start: datetime, end: datetime) -> list[Interval]:
    """Working hours overlapping [start, end), as UTC intervals in order."""
    tz = schedule.time_zone
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    out: list[Interval] = []
    day = first
    while day <= last:
        for lo, hi in day_hours(schedule, day):
            a, b = _local(day, lo, tz), _local(day, hi, tz)
            if b > start and a < end and b > a:
                out.append((a, b))
        day += timedelta(days=1)
    out.sort()
    return out


class Busy:
    """Held spans of one provider, merged and sorted, for overlap tests in O(log n).
    Kept as POSIX seconds: the slot loop is integer arithmetic, not datetime arithmetic."""

    def __init__(self, spans: Iterable[Interval]) -> None:
        merged: list[list[float]] = []
        for a, b in sorted((a.timestamp(), b.timestamp()) for a, b in spans):
            if merged and a < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self._starts = [m[0] for m in merged]
        self._ends = [m[1] for m in merged]

    def spans(self) -> tuple[list[float], list[float]]:
        return self._starts, self._ends

    def overlaps(self, a: datetime, b: datetime) -> bool:
        return self.overlaps_at(a.timestamp(), b.timestamp())

    def overlaps_at(self, a: float, b: float) -> bool:
        i = bisect.bisect_right(self._ends, a)  # first span ending after a
        return i < len(self._starts) and self._starts[i] < b


def _held(rules: SlotRules, start: datetime) -> Interval:
    return (start - timedelta(minutes=rules.buffer_before),
            start + rules.length + timedelta(minutes=rules.buffer_after))


def slot_starts(
    schedule: Schedule, rules: SlotRules, busy: Busy, *, now: datetime, start: datetime,
    end: datetime,
) -> list[float]:
    """The starts (POSIX seconds) of free slots in [start, end), bookable at `now`."""
    earliest = max(start, now + rules.min_notice)
    latest = min(end, now + rules.horizon + timedelta(microseconds=1))
    if latest <= earliest:
        return []
    step = rules.step.total_seconds()
    length = rules.length.total_seconds()
    before, after = rules.buffer_before * 60, rules.buffer_after * 60
    lo, hi = earliest.timestamp(), latest.timestamp()
    # Candidates only grow, so one pointer sweeps the held spans once (no search per slot).
    starts, ends = busy.spans()
    n, j = len(starts), 0
    out: list[float] = []
    for win_start, win_end in windows(schedule, earliest, latest + rules.length):
        t, stop = win_start.timestamp(), win_end.timestamp()
        if t < lo:  # jump to the first step at or after `earliest`
            t += step * -(-(lo - t) // step)
        while t + length <= stop and t < hi:
            a = t - before
            while j < n and ends[j] <= a:
                j += 1
            if j == n or starts[j] >= t + length + after:
                out.append(t)
            t += step
    return out


def slots(
    schedule: Schedule, rules: SlotRules, busy: Busy, *, now: datetime, start: datetime,
    end: datetime,
) -> list[Interval]:
    """Free slots whose start lies in [start, end), bookable at `now`."""
    length = rules.length
    out = []
    for t in slot_starts(schedule, rules, busy, now=now, start=start, end=end):
        a = datetime.fromtimestamp(t, UTC)
        out.append((a, a + length))
    return out


def refusal(
    schedule: Schedule, rules: SlotRules, busy: Busy, *, now: datetime, start: datetime,
) -> str | None:
    """Why `start` cannot be booked (an error code), or None when it can."""
    if start < now:
        return "in_the_past"
    if start < now + rules.min_notice:
        return "inside_minimum_notice"
    if start > now + rules.horizon:
        return "beyond_horizon"
    end = start + rules.length
    for win_start, win_end in windows(schedule, start - timedelta(days=1), end):
        if win_start <= start and end <= win_end:
            if (start - win_start) % rules.step:
                return "not_on_slot"
            a, b = _held(rules, start)
            return "slot_taken" if busy.overlaps(a, b) else None
    return "outside_hours"


def check_weekly(rows: Sequence[tuple[int, str, str]]) -> tuple[WeeklyHours, ...]:
    """Weekly hours from (day, "HH:MM", "HH:MM"); ValueError with a reason when wrong."""
    out = []
    for day, start, end in rows:
        if not 0 <= day <= 6:
            raise ValueError(f"day {day} is not 0 (Monday) to 6 (Sunday)")
        a, b = parse_hhmm(start), parse_hhmm(end)
        if b <= a:
            raise ValueError(f"{start}-{end} ends before it starts")
        out.append(WeeklyHours(day, a, b))
    return tuple(out)
