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
from server.files.tables import ClientDocument, FileBlob, FileUsage, StoredFile
from server.forms.tables import (
    AuditEntry,
    Form,
    FormRequest,
    FormVersion,
    IntakeFlow,
    IntakeFlowRun,
)
from server.mail.tables import OutboxEmail
from server.onboarding.tables import (
    CareTeamMember,
    Client,
    ClientGroup,
    ClientTag,
    PracticeSettings,
    Tag,
)
from server.threads.tables import Event, Member, MessageRevision, Thread

APP_CONFIG = AppConfig(
    app_name="carethread",
    migrations_folder_path=str(Path(migrations.__file__).parent),
    table_classes=[
        Organization, Account, Profile, AuthToken, Invitation, OutboxEmail, Thread, Member, Event,
        PasswordReset, ClientGroup, Tag, Client, CareTeamMember, ClientTag, PracticeSettings,
        Form, FormVersion, IntakeFlow, IntakeFlowRun, FormRequest, AuditEntry,
        MessageRevision, FileBlob, StoredFile, FileUsage, ClientDocument,
    ],
)
