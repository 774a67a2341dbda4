"""The one Piccolo app: every table, and migrations in the top-level migrations/ folder."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

import migrations
from server.accounts.tables import (
    Account,
    AuthToken,
    Invitation,
    Organization,
    PasswordReset,
    Profile,
)
from server.careplans.tables import CarePlan, CarePlanTemplate, CarePlanVersion
from server.forms.tables import (
    AuditEntry,
    Form,
    FormRequest,
    FormVersion,
    IntakeFlow,
    IntakeFlowRun,
)
from server.goals.tables import Goal, GoalEntry, GoalPeriod
from server.mail.tables import OutboxEmail
from server.onboarding.tables import (
    CareTeamMember,
    Client,
    ClientGroup,
    ClientTag,
    PracticeSettings,
    Tag,
)
from server.programs.tables import Enrollment, ModuleDelivery, Program, ProgramModule
from server.tasks.tables import Task, TaskTemplate
from server.threads.tables import Event, Member, Thread

APP_CONFIG = AppConfig(
    app_name="carethread",
    migrations_folder_path=str(Path(migrations.__file__).parent),
    table_classes=[
        Organization, Account, Profile, AuthToken, Invitation, OutboxEmail, Thread, Member, Event,
        PasswordReset, ClientGroup, Tag, Client, CareTeamMember, ClientTag, PracticeSettings,
        Form, FormVersion, IntakeFlow, IntakeFlowRun, FormRequest, AuditEntry,
        TaskTemplate, Task, Goal, GoalEntry, GoalPeriod,
        CarePlan, CarePlanVersion, CarePlanTemplate,
        Program, ProgramModule, Enrollment, ModuleDelivery,
    ],
)
