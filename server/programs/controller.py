"""HTTP for programs, enrolments and the client's "Today"."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from server.identity import Identity
from server.programs import service, today
from server.programs.service import EnrollmentView, EnrollResult, ModuleIn, ProgramView
from server.programs.today import TodayView

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ModuleBody(msgspec.Struct):
    day: Annotated[int, msgspec.Meta(ge=0, le=service.MAX_DAY)]
    title: Title
    body: Annotated[str, msgspec.Meta(max_length=20_000)] = ""
    form_id: uuid.UUID | None = None
    file_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list)
    task_title: Title | None = None

    def to_in(self) -> ModuleIn:
        return ModuleIn(day=self.day, title=self.title, body=self.body, form_id=self.form_id,
                        file_ids=self.file_ids, task_title=self.task_title)


class ProgramIn(msgspec.Struct):
    title: Title
    modules: Annotated[list[ModuleBody], msgspec.Meta(max_length=service.MAX_MODULES)]
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""


class EnrollIn(msgspec.Struct):
    client_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=service.MAX_ENROLL)] = (
        msgspec.field(default_factory=list))
    group_id: uuid.UUID | None = None


class ProgramAnswer(msgspec.Struct):
    program: ProgramView


class ProgramsAnswer(msgspec.Struct):
    programs: list[ProgramView]


class EnrollmentAnswer(msgspec.Struct):
    enrollment: EnrollmentView


class EnrollmentsAnswer(msgspec.Struct):
    enrollments: list[EnrollmentView]


class ProgramsController(Controller):
    path = "/api/v1"
    tags = ["care between visits"]

    @post("/programs", status_code=HTTP_201_CREATED, request_max_body_size=1024 * 1024)
    async def create(self, data: ProgramIn, identity: Identity) -> ProgramAnswer:
        """Modules on day N after enrolment (0: the day itself): text, a form, a task."""
        return ProgramAnswer(await service.create_program(
            identity, title=data.title, description=data.description,
            modules=[m.to_in() for m in data.modules]))

    @get("/programs")
    async def list(self, identity: Identity) -> ProgramsAnswer:
        return ProgramsAnswer(await service.list_programs(identity))

    @get("/programs/{program_id:str}")
    async def show(self, program_id: str, identity: Identity) -> ProgramAnswer:
        return ProgramAnswer(await service.get_program(identity, program_id))

    @post("/programs/{program_id:str}/modules", status_code=HTTP_201_CREATED)
    async def add_module(self, program_id: str, data: ModuleBody, identity: Identity
                         ) -> ProgramAnswer:
        """A module added later reaches enrolled clients who have not passed its day."""
        return ProgramAnswer(await service.add_module(identity, program_id, data.to_in()))

    @post("/programs/{program_id:str}/enrollments", status_code=HTTP_201_CREATED)
    async def enroll(self, program_id: str, data: EnrollIn, identity: Identity
                     ) -> EnrollResult:
        """Enrol clients (a list, or a group): `program.enrolled`; modules follow."""
        return await service.enroll(identity, program_id, client_ids=data.client_ids,
                                    group_id=data.group_id)

    @get("/programs/{program_id:str}/enrollments")
    async def enrollments(self, program_id: str, identity: Identity) -> EnrollmentsAnswer:
        """Each enrolled client's progress: done, open, late, upcoming."""
        return EnrollmentsAnswer(await service.program_enrollments(identity, program_id))

    @get("/clients/{client_id:str}/enrollments")
    async def client_enrollments(self, client_id: str, identity: Identity
                                 ) -> EnrollmentsAnswer:
        return EnrollmentsAnswer(await service.client_enrollments(identity, client_id))

    @get("/enrollments/{enrollment_id:str}")
    async def show_enrollment(self, enrollment_id: str, identity: Identity
                              ) -> EnrollmentAnswer:
        return EnrollmentAnswer(await service.get_enrollment(identity, enrollment_id))

    @post("/enrollments/{enrollment_id:str}/pause", status_code=HTTP_200_OK)
    async def pause(self, enrollment_id: str, identity: Identity) -> EnrollmentAnswer:
        return EnrollmentAnswer(await service.set_status(identity, enrollment_id, "pause"))

    @post("/enrollments/{enrollment_id:str}/resume", status_code=HTTP_200_OK)
    async def resume(self, enrollment_id: str, identity: Identity) -> EnrollmentAnswer:
        return EnrollmentAnswer(await service.set_status(identity, enrollment_id, "resume"))

    @post("/enrollments/{enrollment_id:str}/end", status_code=HTTP_200_OK)
    async def end(self, enrollment_id: str, identity: Identity) -> EnrollmentAnswer:
        return EnrollmentAnswer(await service.set_status(identity, enrollment_id, "end"))

    @post("/enrollments/{enrollment_id:str}/modules/{module_id:str}/done",
          status_code=HTTP_200_OK)
    async def done(self, enrollment_id: str, module_id: str, identity: Identity
                   ) -> EnrollmentAnswer:
        """The client marks a module that has arrived as done: `program.module_done`."""
        return EnrollmentAnswer(await service.mark_done(identity, enrollment_id, module_id))

    @get("/clients/{client_id:str}/today")
    async def today(self, client_id: str, identity: Identity) -> TodayView:
        """What the client has on today: open tasks due within a day (and overdue, and those
        without a due time), modules to do, goals and their progress."""
        return await today.today(identity, client_id)
