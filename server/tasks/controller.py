"""HTTP for tasks and the practice's task templates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from server.identity import Identity
from server.runtime import Runtime
from server.tasks import service
from server.tasks.service import TaskView, TemplateView

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]


class TaskIn(msgspec.Struct):
    title: Title | None = None
    due_at: datetime | None = None
    repeat: Literal["daily", "weekly"] | None = None
    template_id: uuid.UUID | None = None


class CompleteIn(msgspec.Struct):
    note: Note | None = None


class TemplateIn(msgspec.Struct):
    title: Title
    repeat: Literal["daily", "weekly"] | None = None
    due_in_days: Annotated[int, msgspec.Meta(ge=0, le=365)] | None = None


class TaskAnswer(msgspec.Struct):
    task: TaskView


class TasksAnswer(msgspec.Struct):
    tasks: list[TaskView]


class TemplateAnswer(msgspec.Struct):
    template: TemplateView


class TemplatesAnswer(msgspec.Struct):
    templates: list[TemplateView]


Status = Literal["open", "done", "cancelled"]


class TasksController(Controller):
    path = "/api/v1"
    tags = ["care between visits"]

    @post("/clients/{client_id:str}/tasks", status_code=HTTP_201_CREATED)
    async def assign(self, client_id: str, data: TaskIn, identity: Identity, runtime: Runtime
                     ) -> TaskAnswer:
        """The care team assigns a task (or one from a template): `task.assigned`."""
        return TaskAnswer(await service.assign_task(
            runtime.settings, identity, client_id, title=data.title, due_at=data.due_at,
            repeat=data.repeat, template_id=data.template_id))

    @get("/clients/{client_id:str}/tasks")
    async def list_for_client(self, client_id: str, identity: Identity,
                              status: Status | None = None) -> TasksAnswer:
        """A client's tasks (the client: their own); open ones first, soonest due first."""
        return TasksAnswer(await service.list_tasks(identity, client_id, status=status))

    @get("/tasks")
    async def list_for_team(
        self, identity: Identity, overdue: bool = False, status: Status | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 200,
    ) -> TasksAnswer:
        """The tasks of the caller's clients (team); `overdue=true`: open and past due."""
        return TasksAnswer(await service.team_tasks(identity, overdue=overdue, status=status,
                                                    limit=limit))

    @get("/tasks/{task_id:str}")
    async def show(self, task_id: str, identity: Identity) -> TaskAnswer:
        return TaskAnswer(await service.get_task(identity, task_id))

    @post("/tasks/{task_id:str}/complete", status_code=HTTP_200_OK)
    async def complete(self, task_id: str, identity: Identity, runtime: Runtime,
                       data: CompleteIn | None = None) -> TaskAnswer:
        """The client checks off their task: `task.completed`; a repeating one opens its next."""
        return TaskAnswer(await service.complete_task(
            runtime.settings, identity, task_id, data.note if data else None))

    @post("/tasks/{task_id:str}/cancel", status_code=HTTP_200_OK)
    async def cancel(self, task_id: str, identity: Identity) -> TaskAnswer:
        """The care team withdraws an open task: `task.cancelled`."""
        return TaskAnswer(await service.cancel_task(identity, task_id))

    @get("/task-templates")
    async def templates(self, identity: Identity) -> TemplatesAnswer:
        return TemplatesAnswer(await service.list_templates(identity))

    @post("/task-templates", status_code=HTTP_201_CREATED)
    async def create_template(self, data: TemplateIn, identity: Identity) -> TemplateAnswer:
        return TemplateAnswer(await service.create_template(
            identity, title=data.title, repeat=data.repeat, due_in_days=data.due_in_days))

    @delete("/task-templates/{template_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete_template(self, template_id: str, identity: Identity) -> None:
        await service.delete_template(identity, template_id)
