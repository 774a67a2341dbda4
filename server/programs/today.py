"""The client's "Today": tasks due (and overdue), program modules to do, goals' progress.
A read across the care domains, each through its own service."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from server import clock
from server.goals import service as goals
from server.goals.service import GoalView
from server.identity import Identity
from server.onboarding import access
from server.programs import service as programs
from server.tasks import service as tasks
from server.tasks.service import TaskView


class ModuleToDo(msgspec.Struct):
    enrollment_id: str
    program_title: str
    module: programs.DeliveryView


class TodayView(msgspec.Struct):
    tasks: list[TaskView]
    modules: list[ModuleToDo]
    goals: list[GoalView]


async def today(identity: Identity, client_id: str) -> TodayView:
    await access.client_access(identity, client_id)
    horizon = clock.now() + timedelta(days=1)  # due within a day, whatever the time zone
    due = [t for t in await tasks.list_tasks(identity, client_id, status=tasks.OPEN)
           if t.due_at is None or t.due_at < horizon]
    modules = [ModuleToDo(enrollment_id=e.id, program_title=e.program_title, module=m)
               for e in await programs.client_enrollments(identity, client_id)
               if e.status == programs.ACTIVE
               for m in e.modules if m.status in ("open", "late")]
    return TodayView(tasks=due, modules=modules,
                     goals=await goals.list_goals(identity, client_id))
