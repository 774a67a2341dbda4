"""Goals: "walk 8,000 steps a day", "log 3 meals a day", "reach 70 kg".

A goal has a title and, optionally, a metric (a key of the metrics catalogue: `steps`,
`body_weight`, ..., a practice's own type, or a count of journal entries: `journal_food`, ...),
a target (in the metric's unit) and a period (`day` or `week`, in UTC). Progress comes from
entries: the client's check-ins, and the values the metrics and journals domains hand to
`record_progress`. A goal on weight or BMI follows eating-disorder mode
(server/metrics/visibility.py): hidden from the client, its events staff-only.

How a period's value is counted: for summed metrics (`steps`, `sleep_duration`) and for goals
without a metric, the sum of the entries' values (an entry without a value counts 1); for every
other metric, the latest value in the period. Without a period, the whole time since the goal
was set is one period. With `direction: "at_least"` (the default) the period is met once the
value reaches the target, at that moment; with `"at_most"` it is decided when the period ends.

Each decided period is a row (unique per goal and period start), so `goal.met` and
`goal.missed` are written once each in the care thread, whichever process decides it: a
check-in (met), or the period-end job (missed, or met for `at_most`), claimed by
compare-and-set on the goal's `next_check_at`.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from server import clock
from server.db import write_transaction
from server.errors import Forbidden, InvalidInput, NotFound
from server.goals.tables import Goal, GoalEntry, GoalPeriod
from server.identity import Identity
from server.metrics import units, visibility
from server.onboarding import access
from server.onboarding.tables import Client
from server.threads import service as threads

JOURNAL_KINDS = ("food", "mood", "activity", "note")
JOURNAL_METRICS = frozenset(f"journal_{kind}" for kind in JOURNAL_KINDS)
SUMMED = frozenset({"steps", "sleep_duration"}) | JOURNAL_METRICS
GOAL_EVENTS = ("goal.created", "goal.met", "goal.missed")
METRIC_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
PERIODS = ("day", "week")
DIRECTIONS = ("at_least", "at_most")
ACTIVE, ARCHIVED = "active", "archived"
EPOCH = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday: weeks start on Mondays


class PeriodView(msgspec.Struct):
    starts_at: datetime
    ends_at: datetime | None
    value: float
    met: bool


class OutcomeView(msgspec.Struct):
    starts_at: datetime
    outcome: str
    value: float | None


class GoalView(msgspec.Struct):
    id: str
    client_id: str
    title: str
    metric: str | None
    unit: str | None  # the metric's unit (target and progress are in it); None: a count
    target: float | None
    period: str | None
    direction: str
    status: str
    created_at: datetime
    progress: PeriodView | None
    history: list[OutcomeView]


class EntryView(msgspec.Struct):
    id: str
    goal_id: str
    value: float | None
    note: str | None
    source: str
    at: datetime


# --- periods -----------------------------------------------------------------------------------


def period_bounds(goal: dict[str, Any], at: datetime) -> tuple[datetime, datetime | None]:
    """The period of `goal` that holds `at`: [start, end); without a period, since it was set."""
    period = goal["period"]
    if period == "day":
        start = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    if period == "week":
        weeks = (at - EPOCH) // timedelta(days=7)
        start = EPOCH + timedelta(days=7 * weeks)
        return start, start + timedelta(days=7)
    return goal["created_at"], None


def _counts(goal: dict[str, Any], entries: list[dict[str, Any]]) -> float:
    if not entries:
        return 0.0
    if goal["metric"] is None or goal["metric"] in SUMMED:
        return float(sum(1.0 if e["value"] is None else e["value"] for e in entries))
    latest = max(entries, key=lambda e: (e["at"], e["created_at"]))
    return float(latest["value"] if latest["value"] is not None else 0.0)


def reached(goal: dict[str, Any], value: float, entries: int) -> bool:
    if goal["target"] is None:
        return False
    if goal["direction"] == "at_most":
        return entries > 0 and value <= goal["target"]
    return value >= goal["target"]


async def _period_value(goal: dict[str, Any], start: datetime, end: datetime | None
                        ) -> tuple[float, int]:
    query = GoalEntry.select().where(GoalEntry.goal == goal["id"], GoalEntry.at >= start)
    if end is not None:
        query = query.where(GoalEntry.at < end)
    entries = await query
    return _counts(goal, entries), len(entries)


# --- views -------------------------------------------------------------------------------------


def journal_metric(kind: str) -> str:
    """The goal metric that counts a client's journal entries of a kind ("log 3 meals a day":
    `journal_food`, target 3, period day)."""
    return f"journal_{kind}"


async def _metric_type(organization_id: uuid.UUID, key: str) -> units.MetricType:
    # The metrics domain owns its catalogue and the practice's own types; it calls this
    # domain when a value is logged, so it is imported here at call time.
    from server.metrics import service as metrics

    try:
        return await metrics.metric_type(organization_id, key)
    except InvalidInput:
        raise InvalidInput(
            "metric is a key of the metrics catalogue (e.g. steps), a practice's own metric "
            "type, or journal_food, journal_mood, journal_activity, journal_note.",
            code="unknown_metric", extra={"field": "metric"}) from None


async def _unit_of(goal: dict[str, Any]) -> str | None:
    metric = goal["metric"]
    if metric is None or metric in JOURNAL_METRICS:
        return None
    if metric in units.CATALOGUE:
        return units.CATALOGUE[metric].unit
    try:
        return (await _metric_type(goal["organization"], metric)).unit
    except InvalidInput:
        return None


async def _audience(goal: dict[str, Any]) -> str:
    """A goal on weight or BMI is the team's alone while the client is in eating-disorder
    mode: its events are staff-only (visibility.py)."""
    if visibility.hideable(goal["metric"]) and await visibility.ed_mode(goal["client"]):
        return threads.STAFF
    return threads.ALL


async def goal_view(goal: dict[str, Any], now: datetime | None = None) -> GoalView:
    current = now or clock.now()
    progress = None
    if goal["target"] is not None:
        start, end = period_bounds(goal, current)
        value, count = await _period_value(goal, start, end)
        progress = PeriodView(starts_at=start, ends_at=end, value=value,
                              met=reached(goal, value, count))
    outcomes = await GoalPeriod.select().where(GoalPeriod.goal == goal["id"]).order_by(
        GoalPeriod.starts_at, ascending=False).limit(14)
    return GoalView(
        id=str(goal["id"]), client_id=str(goal["client"]), title=goal["title"],
        metric=goal["metric"], unit=await _unit_of(goal), target=goal["target"],
        period=goal["period"],
        direction=goal["direction"], status=goal["status"], created_at=goal["created_at"],
        progress=progress,
        history=[OutcomeView(starts_at=o["starts_at"], outcome=o["outcome"], value=o["value"])
                 for o in outcomes])


def entry_view(row: dict[str, Any]) -> EntryView:
    return EntryView(id=str(row["id"]), goal_id=str(row["goal"]), value=row["value"],
                     note=row["note"], source=row["source"], at=row["at"])


# --- setting goals -----------------------------------------------------------------------------


def _check(title: str, metric: str | None, target: float | None, period: str | None,
           direction: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("A goal needs a title.", extra={"field": "title"})
    if metric is not None and not METRIC_KEY.match(metric):
        raise InvalidInput("metric is a key of the metrics catalogue (e.g. steps).",
                           code="unknown_metric", extra={"field": "metric"})
    if period is not None and period not in PERIODS:
        raise InvalidInput("period is day or week.", extra={"field": "period"})
    if period is not None and target is None:
        raise InvalidInput("A period needs a target.", extra={"field": "target"})
    if direction not in DIRECTIONS:
        raise InvalidInput("direction is at_least or at_most.", extra={"field": "direction"})
    if direction == "at_most" and target is None:
        raise InvalidInput("An at_most goal needs a target.", extra={"field": "target"})
    return title


async def _target(organization_id: uuid.UUID, metric: str | None, target: float | None,
                  unit: str | None) -> float | None:
    """The target in the metric's own unit (a weight goal may be set in pounds); the metric
    must exist (the catalogue, the practice's own types, or a journal count)."""
    if metric is None or metric in JOURNAL_METRICS:
        if unit is not None:
            raise InvalidInput("A unit goes with a goal on a measured metric.",
                               code="unit_not_convertible", extra={"field": "unit"})
        return target
    kind = await _metric_type(organization_id, metric)
    if unit is None or target is None or unit == kind.unit:
        return target
    if unit not in kind.units:
        raise InvalidInput(f"{unit} does not convert to {kind.unit} ({kind.name}); use one of "
                           f"{', '.join(kind.units)}.", code="unit_not_convertible",
                           extra={"field": "unit"})
    try:
        return round(units.convert(target, unit, kind.unit), kind.decimals + 3)
    except units.UnitError as exc:
        raise InvalidInput(str(exc), code="unit_not_convertible",
                           extra={"field": "unit"}) from None


async def create_goal(identity: Identity, client_id: str, *, title: str,
                      metric: str | None = None, target: float | None = None,
                      period: str | None = None, direction: str = "at_least",
                      unit: str | None = None) -> GoalView:
    """The care team sets a client a goal: `goal.created` in the care thread (staff-only for
    a weight or BMI goal while the client is in eating-disorder mode)."""
    who = await access.client_access(identity, client_id, team_only=True)
    title = _check(title, metric, target, period, direction)
    target = await _target(identity.organization_id, metric, target, unit)
    now = clock.now()
    row: dict[str, Any] = {
        "id": uuid.uuid4(), "organization": who.organization_id, "client": who.client_id,
        "title": title, "metric": metric, "target": target, "period": period,
        "direction": direction, "status": ACTIVE, "next_check_at": None,
        "created_by": identity.user_id, "created_at": now,
    }
    if period is not None:
        row["next_check_at"] = period_bounds(row, now)[1]
    async with write_transaction():
        await Goal.insert(Goal(**row))
        await threads.append_in_transaction(
            who.care_thread_id, "goal.created", identity.user_id,
            data={"goal_id": str(row["id"]), "title": title, "metric": metric,
                  "target": target, "period": period, "direction": direction},
            audience=await _audience(row))
    return await goal_view(row, now)


async def _goal_for(identity: Identity, goal_id: str) -> tuple[dict[str, Any],
                                                               access.ClientAccess]:
    gid = threads.parse_id(goal_id, "goal")
    row = await Goal.select().where(Goal.id == gid,
                                    Goal.organization == identity.organization_id).first()
    if row is None:
        raise NotFound("No such goal.")
    try:
        who = await access.client_access(identity, row["client"])
    except NotFound:
        raise NotFound("No such goal.") from None
    if visibility.hideable(row["metric"]) and await visibility.hidden_from_caller(who):
        raise NotFound("No such goal.")  # a weight goal, for a client in eating-disorder mode
    return row, who


async def list_goals(identity: Identity, client_id: str, *, include_archived: bool = False
                     ) -> list[GoalView]:
    who = await access.client_access(identity, client_id)
    query = Goal.select().where(Goal.client == who.client_id,
                                Goal.organization == who.organization_id)
    if not include_archived:
        query = query.where(Goal.status == ACTIVE)
    if await visibility.hidden_from_caller(who):
        query = query.where(Goal.metric.is_null() | Goal.metric.not_in(
            list(visibility.HIDEABLE)))
    now = clock.now()
    return [await goal_view(r, now) for r in await query.order_by(Goal.created_at)]


async def get_goal(identity: Identity, goal_id: str) -> GoalView:
    row, _ = await _goal_for(identity, goal_id)
    return await goal_view(row)


async def archive_goal(identity: Identity, goal_id: str) -> GoalView:
    row, who = await _goal_for(identity, goal_id)
    if not who.as_team:
        raise Forbidden("Only the client's care team can archive a goal.")
    await Goal.update({Goal.status: ARCHIVED, Goal.next_check_at: None}).where(
        Goal.id == row["id"])
    return await goal_view({**row, "status": ARCHIVED})


async def goals_for_client(client_id: uuid.UUID) -> list[dict[str, Any]]:
    return await Goal.select().where(Goal.client == client_id, Goal.status == ACTIVE)


async def ids_of_client(client_id: uuid.UUID, ids: list[uuid.UUID]) -> bool:
    """True when every id names a goal of this client (for care plans' links)."""
    if not ids:
        return True
    rows = await Goal.select(Goal.id).where(Goal.id.is_in(ids), Goal.client == client_id)
    return len(rows) == len(set(ids))


# --- progress ----------------------------------------------------------------------------------


async def check_in(identity: Identity, goal_id: str, *, value: float | None = None,
                   note: str | None = None, at: datetime | None = None) -> EntryView:
    """The client (or their team) records progress; reaching the target writes `goal.met`."""
    row, who = await _goal_for(identity, goal_id)
    if row["status"] != ACTIVE:
        raise InvalidInput("This goal is archived.", code="goal_archived")
    now = clock.now()
    at = (at.replace(tzinfo=UTC) if at and at.tzinfo is None else at) or now
    if at > now + timedelta(minutes=5):
        raise InvalidInput("A check-in cannot be in the future.", extra={"field": "at"})
    async with write_transaction():
        entry = await _add_entry(row, who.care_thread_id, value=value, note=note, at=at,
                                 source="check_in", by=identity.user_id)
    return entry_view(entry)


async def record_progress(client_id: uuid.UUID, metric: str, value: float | None,
                          at: datetime | None = None) -> list[uuid.UUID]:
    """For the metrics and journals domains: a value the client logged (`steps`,
    `body_weight`, ...), or a journal entry (`journal_food`, value None: one more), counts
    towards each of their active goals on that metric. Call it inside the write transaction
    that stores the entry (or alone: it opens its own). Returns the goals it counted for;
    those reaching their target write `goal.met` in the care thread, once per period."""
    goals = await Goal.select().where(Goal.client == client_id, Goal.metric == metric,
                                      Goal.status == ACTIVE)
    if not goals:
        return []
    client = await Client.select(Client.care_thread).where(Client.id == client_id).first()
    if client is None or client["care_thread"] is None:
        return []
    at = at or clock.now()
    async with write_transaction():
        for goal in goals:
            await _add_entry(goal, client["care_thread"], value=value, note=None, at=at,
                             source="metric", by=None)
    return [g["id"] for g in goals]


async def _add_entry(goal: dict[str, Any], care_thread: uuid.UUID, *, value: float | None,
                     note: str | None, at: datetime, source: str, by: uuid.UUID | None
                     ) -> dict[str, Any]:
    entry = {"id": uuid.uuid4(), "goal": goal["id"], "value": value,
             "note": note.strip() if note and note.strip() else None, "source": source,
             "at": at, "recorded_by": by, "created_at": clock.now()}
    await GoalEntry.insert(GoalEntry(**entry))
    # An at_least period is met the moment it gets there; so is a goal without a period
    # either way ("reach 70 kg"), which has no period end to wait for.
    if goal["target"] is not None and (goal["direction"] == "at_least"
                                       or goal["period"] is None):
        start, end = period_bounds(goal, at)
        amount, count = await _period_value(goal, start, end)
        if reached(goal, amount, count):
            await _decide(goal, care_thread, start, "met", amount)
    return entry


async def _decide(goal: dict[str, Any], care_thread: uuid.UUID, start: datetime, outcome: str,
                  value: float) -> bool:
    """Record a period's outcome and write its event, unless it was decided already."""
    inserted = await GoalPeriod.insert(GoalPeriod(
        goal=goal["id"], starts_at=start, outcome=outcome, value=value, decided_at=clock.now(),
    )).on_conflict(action="DO NOTHING").returning(GoalPeriod.id)
    if not inserted:
        return False  # decided already (goal_period_once), here or in another process
    await threads.append_in_transaction(
        care_thread, f"goal.{outcome}", None,
        data={"goal_id": str(goal["id"]), "title": goal["title"], "period": goal["period"],
              "period_start": start.isoformat(), "value": value, "target": goal["target"]},
        audience=await _audience(goal))
    return True


async def hidden_goal_event_ids(client_id: uuid.UUID, care_thread: uuid.UUID
                                ) -> list[uuid.UUID]:
    """For eating-disorder mode's switch (metrics): the `goal.*` events of this client's goals
    on weight or BMI, which become staff-only (or visible again) with the mode."""
    rows = await Goal.select(Goal.id).where(Goal.client == client_id,
                                           Goal.metric.is_in(list(visibility.HIDEABLE)))
    return await threads.event_ids_naming(care_thread, GOAL_EVENTS, "goal_id",
                                          [str(r["id"]) for r in rows])


# --- the period-end job ------------------------------------------------------------------------


async def due_period_ends(limit: int = 100) -> list[dict[str, Any]]:
    return await Goal.select().where(
        Goal.status == ACTIVE, Goal.next_check_at <= clock.now(),
        Goal.client.status != "removed").order_by(Goal.next_check_at).limit(limit)


async def close_period(goal: dict[str, Any]) -> bool:
    """Decide the period that ended at `next_check_at` (met or missed), claimed by
    compare-and-set on `next_check_at`: once across processes and restarts. After downtime
    each missed period is decided in turn."""
    ended = goal["next_check_at"]
    start, _ = period_bounds(goal, ended - timedelta(microseconds=1))
    following = period_bounds(goal, ended)[1]
    async with write_transaction():
        claimed = await Goal.update({Goal.next_check_at: following}).where(
            Goal.id == goal["id"], Goal.status == ACTIVE, Goal.next_check_at == ended,
        ).returning(Goal.id)
        if not claimed:
            return False
        client = await Client.select(Client.care_thread).where(
            Client.id == goal["client"]).first()
        if client is None or client["care_thread"] is None:
            return True
        value, count = await _period_value(goal, start, ended)
        outcome = "met" if reached(goal, value, count) else "missed"
        await _decide(goal, client["care_thread"], start, outcome, value)
    return True
