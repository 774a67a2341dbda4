"""HTTP for goals and their check-ins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server.goals import service
from server.goals.service import EntryView, GoalView
from server.identity import Identity

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Amount = Annotated[float, msgspec.Meta(ge=0, le=1e9)]


class GoalIn(msgspec.Struct):
    title: Title
    metric: Annotated[str, msgspec.Meta(min_length=1, max_length=60)] | None = None
    target: Amount | None = None
    period: Literal["day", "week"] | None = None
    direction: Literal["at_least", "at_most"] = "at_least"
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None


class CheckInIn(msgspec.Struct):
    value: Amount | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    at: datetime | None = None


class GoalAnswer(msgspec.Struct):
    goal: GoalView


class GoalsAnswer(msgspec.Struct):
    goals: list[GoalView]


class EntryAnswer(msgspec.Struct):
    entry: EntryView
    goal: GoalView


class GoalsController(Controller):
    path = "/api/v1"
    tags = ["care between visits"]

    @post("/clients/{client_id:str}/goals", status_code=HTTP_201_CREATED)
    async def create(self, client_id: str, data: GoalIn, identity: Identity) -> GoalAnswer:
        """The care team sets a goal: `goal.created`; met and missed periods follow."""
        return GoalAnswer(await service.create_goal(
            identity, client_id, title=data.title, metric=data.metric, target=data.target,
            period=data.period, direction=data.direction, unit=data.unit))

    @get("/clients/{client_id:str}/goals")
    async def list(self, client_id: str, identity: Identity, archived: bool = False
                   ) -> GoalsAnswer:
        """A client's goals with this period's progress and recent outcomes."""
        return GoalsAnswer(await service.list_goals(identity, client_id,
                                                    include_archived=archived))

    @get("/goals/{goal_id:str}")
    async def show(self, goal_id: str, identity: Identity) -> GoalAnswer:
        return GoalAnswer(await service.get_goal(identity, goal_id))

    @post("/goals/{goal_id:str}/check-ins", status_code=HTTP_201_CREATED)
    async def check_in(self, goal_id: str, data: CheckInIn, identity: Identity
                       ) -> EntryAnswer:
        """Progress: a value (or "done once"); reaching the target writes `goal.met`."""
        entry = await service.check_in(identity, goal_id, value=data.value, note=data.note,
                                       at=data.at)
        return EntryAnswer(entry=entry, goal=await service.get_goal(identity, goal_id))

    @post("/goals/{goal_id:str}/archive", status_code=HTTP_200_OK)
    async def archive(self, goal_id: str, identity: Identity) -> GoalAnswer:
        return GoalAnswer(await service.archive_goal(identity, goal_id))
