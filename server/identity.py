"""Who is calling, and the role sets every domain authorizes with.

Its own module so that accounts and threads (and every later domain) can import it without
importing each other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

STAFF_ROLES = frozenset({"owner", "admin", "provider", "staff"})
ADMIN_ROLES = frozenset({"owner", "admin"})
PROVIDER_ROLES = frozenset({"owner", "admin", "provider"})
INVITABLE_ROLES = frozenset({"admin", "provider", "staff"})


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling: the token, and the profile (user) it acts as."""

    token_id: uuid.UUID
    kind: str
    user_id: uuid.UUID
    organization_id: uuid.UUID
    account_id: uuid.UUID | None
    role: str
    name: str
    expires_at: datetime

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES
