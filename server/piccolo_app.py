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
from server.appointments.tables import (
    Appointment,
    AppointmentSettings,
    AppointmentType,
    Availability,
    CalendarFeed,
)
from server.broadcasts.tables import Broadcast, BroadcastRecipient
from server.careplans.tables import CarePlan, CarePlanTemplate, CarePlanVersion
from server.feed.tables import FeedItem, FeedRead
from server.files.tables import ClientDocument, FileBlob, FileUsage, StoredFile
from server.forms.tables import (
    AuditEntry,
    Form,
    FormRequest,
    FormVersion,
    IntakeFlow,
    IntakeFlowRun,
)
from server.goals.tables import Goal, GoalEntry, GoalPeriod
from server.journals.tables import JournalComment, JournalEntry, JournalReaction, JournalStar
from server.mail.tables import OutboxEmail
from server.metrics.tables import MetricEntry, MetricSettings, MetricType
from server.notifications.tables import NotificationSetting
from server.onboarding.tables import (
    CareTeamMember,
    Client,
    ClientGroup,
    ClientTag,
    PracticeSettings,
    Tag,
)
from server.programs.tables import Enrollment, ModuleDelivery, Program, ProgramModule
from server.push.tables import PushSubscription
from server.scheduled.tables import ScheduledMessage
from server.tasks.tables import Task, TaskTemplate
from server.threads.tables import Event, Member, MessageRevision, Thread
from server.webhooks.tables import Webhook, WebhookDelivery

APP_CONFIG = AppConfig(
    app_name="carethread",
    migrations_folder_path=str(Path(migrations.__file__).parent),
    table_classes=[
        Organization, Account, Profile, AuthToken, Invitation, OutboxEmail, Thread, Member, Event,
        PasswordReset, ClientGroup, Tag, Client, CareTeamMember, ClientTag, PracticeSettings,
        Form, FormVersion, IntakeFlow, IntakeFlowRun, FormRequest, AuditEntry,
        ScheduledMessage, Broadcast, BroadcastRecipient, NotificationSetting, PushSubscription,
        Webhook, WebhookDelivery,
        AppointmentType, Availability, Appointment, CalendarFeed, AppointmentSettings,
        MetricType, MetricEntry, MetricSettings, JournalEntry, JournalComment, JournalReaction,
        JournalStar, FeedItem, FeedRead,
        TaskTemplate, Task, Goal, GoalEntry, GoalPeriod,
        CarePlan, CarePlanVersion, CarePlanTemplate,
        Program, ProgramModule, Enrollment, ModuleDelivery,
        MessageRevision, FileBlob, StoredFile, FileUsage, ClientDocument,
    ],
)
