"""Unread-message emails: one email when a member has had unread messages for a while, naming
the practice and the count, never the content; the next only after they have read.

State per person (`NotificationSetting`): the setting, and `notified_at`, the creation time of
the newest message the last email covered. While their oldest unread message is no newer than
that, they have not read what they were told about, and no email goes. The job claims a person
with a compare-and-set on `version` in the transaction that queues the email in the outbox, so
one email goes out whatever the number of processes; the outbox delivers it (with retries).
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import msgspec
from piccolo.engine.sqlite import SQLiteEngine

from server import clock
from server.accounts.tables import Profile
from server.db import engine, is_unique_violation, row_uuid, sql_list, write_transaction
from server.errors import NotFound
from server.identity import STAFF_ROLES, Identity
from server.mail import service as mail
from server.notifications.tables import NotificationSetting
from server.security import sign
from server.settings import Settings
from server.threads.tables import Event

OFF = "off"
UNREAD = "unread"
DEFAULT_EMAIL = UNREAD
BATCH = 200


class Notifications(msgspec.Struct):
    email: Literal["off", "unread"]


# --- settings ------------------------------------------------------------------------------


async def get_settings(identity: Identity) -> Notifications:
    row = await NotificationSetting.select(NotificationSetting.email).where(
        NotificationSetting.profile == identity.user_id).first()
    return Notifications(email=row["email"] if row else DEFAULT_EMAIL)  # type: ignore[arg-type]


async def set_email(profile_id: uuid.UUID, email: str) -> None:
    async with write_transaction():
        done = await NotificationSetting.update({NotificationSetting.email: email}).where(
            NotificationSetting.profile == profile_id).returning(NotificationSetting.id)
        if not done:
            await NotificationSetting.insert(NotificationSetting(profile=profile_id,
                                                                 email=email))


async def update_settings(identity: Identity, data: Notifications) -> Notifications:
    try:
        await set_email(identity.user_id, data.email)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        await set_email(identity.user_id, data.email)  # made meanwhile: now an update
    return await get_settings(identity)


# --- unsubscribe without logging in --------------------------------------------------------


def _signature(settings: Settings, profile_id: str) -> str:
    return sign(settings.secret_key, "unsubscribe:" + profile_id)


def unsubscribe_url(settings: Settings, profile_id: uuid.UUID) -> str:
    query = urlencode({"user": str(profile_id), "sig": _signature(settings, str(profile_id))})
    return f"{settings.base_url}/api/v1/notifications/unsubscribe?{query}"


def check_unsubscribe(settings: Settings, user: str, sig: str) -> uuid.UUID:
    try:
        profile_id = uuid.UUID(user)
    except ValueError:
        raise NotFound("This unsubscribe link is not valid.") from None
    if not hmac.compare_digest(sig, _signature(settings, str(profile_id))):
        raise NotFound("This unsubscribe link is not valid.")
    return profile_id


async def unsubscribe(settings: Settings, user: str, sig: str) -> None:
    profile_id = check_unsubscribe(settings, user, sig)
    if not await Profile.exists().where(Profile.id == profile_id):
        raise NotFound("This unsubscribe link is not valid.")
    try:
        await set_email(profile_id, OFF)
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        await set_email(profile_id, OFF)


# --- the job -------------------------------------------------------------------------------


@dataclass
class Unread:
    profile: uuid.UUID
    count: int
    oldest: datetime
    newest: datetime
    thread: uuid.UUID  # the thread of the oldest unread message: the email links to it


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


_STAFF = sql_list(STAFF_ROLES)
# Memberships with news, of active people who can sign in ...
_MEMBERS_WITH_NEWS = (
    "FROM thread_member m "
    "JOIN thread t ON t.id = m.thread AND t.last_seq > m.last_read_seq "
    "JOIN profile p ON p.id = m.profile AND p.status = 'active' AND p.account IS NOT NULL "
)
# ... and what counts as unread for the member: messages by others, after what they read and
# joined at, that they may see.
_UNREAD = (
    "e.seq > m.last_read_seq AND e.seq >= m.joined_seq AND e.kind = 'message' "
    "AND e.actor IS NOT NULL AND e.actor <> m.profile "
    f"AND (e.audience = 'all' OR p.role IN ({_STAFF}))"
)
# Each membership's oldest unread message: one probe of (thread, seq) from the member's read
# position (the lowest seq is the oldest: created_at rises with seq but for the moments a
# thread's lock was waited for), so a run costs a look-up per membership with news, not a read
# of every unread message (726 ms a run at 14,000 memberships in bench/RESULTS.md, issue 10,
# fifth session; people who never read made it grow forever).
_PROBES = (
    "SELECT m.profile AS profile, m.thread AS thread, (SELECT e.created_at FROM thread_event e "
    f"WHERE e.thread = m.thread AND {_UNREAD} ORDER BY e.seq LIMIT 1) AS oldest "
    f"{_MEMBERS_WITH_NEWS}WHERE m.left_seq IS NULL"
)
_FOUND = "SELECT profile, thread, oldest FROM {} WHERE oldest IS NOT NULL"
# A plain SELECT on SQLite: the engine sends only those to its readers.
_OLDEST_UNREAD_SQLITE = _FOUND.format(f"({_PROBES}) AS firsts")
# On PostgreSQL the probes are materialized, so that each runs once: inlined, PostgreSQL copied
# the probe into the `oldest IS NOT NULL` filter and ran it twice per membership.
_OLDEST_UNREAD_PG = f"WITH firsts AS MATERIALIZED ({_PROBES}) " + _FOUND.format("firsts")
_COUNT_UNREAD = (
    "SELECT m.profile AS profile, COUNT(*) AS n, MIN(e.created_at) AS oldest, "
    "MAX(e.created_at) AS newest "
    f"{_MEMBERS_WITH_NEWS}JOIN thread_event e ON e.thread = m.thread AND {_UNREAD} "
    "WHERE m.left_seq IS NULL AND m.profile IN ({}) GROUP BY m.profile"
)


# The key of a transaction-scoped advisory lock taken by the scan below on PostgreSQL. Every
# process runs the job on the same poll from the same start, so the scans came in pairs (two
# cores busy at once, bench/RESULTS.md, issue 10, sixth session): a process that finds another's
# scan running skips its own, which would find the same people (each email is claimed anyway).
SCAN_LOCK_KEY = 0x6374756E72656164  # "ctunread"


async def _oldest_unread_rows() -> list[dict[str, Any]] | None:
    """Each membership's oldest unread message, found so that PostgreSQL walks `(thread, seq)`
    in order and stops at the first match. On a database without statistics (one just loaded
    or imported) it read every unread event of the thread through a bitmap, then sorted them:
    290,000 heap pages and 0.7 s a run at 4,000 memberships during the bench's knee, on a core
    the message path needed (bench/RESULTS.md, issue 10, sixth session). SQLite walks the
    index in order anyway. None when another process is scanning."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return list(await Event.raw(_OLDEST_UNREAD_SQLITE))
    async with db.transaction():
        lock = await Event.raw("SELECT pg_try_advisory_xact_lock({}) AS taken", SCAN_LOCK_KEY)
        if not lock[0]["taken"]:
            return None
        await Event.raw("SET LOCAL enable_bitmapscan = off")
        return list(await Event.raw(_OLDEST_UNREAD_PG))


async def oldest_unread_by_person() -> dict[uuid.UUID, Unread]:
    """Every active person's oldest unread message (by others, that they may see) and its
    thread; `count` and `newest` are filled by `count_unread` for the people who are due."""
    people: dict[uuid.UUID, Unread] = {}
    for r in await _oldest_unread_rows() or ():
        profile, thread, oldest = row_uuid(r["profile"]), row_uuid(r["thread"]), _time(r["oldest"])
        seen = people.get(profile)
        if seen is None or oldest < seen.oldest:
            people[profile] = Unread(profile, 0, oldest, oldest, thread)
    return people


async def count_unread(people: list[Unread]) -> None:
    """How many unread messages each of these people has, and the oldest and newest one's
    time, read again (the person may have read, or been sent more, since the first look)."""
    if not people:
        return
    by_profile = {u.profile: u for u in people}
    placeholders = ", ".join("{}" for _ in by_profile)
    rows = await Event.raw(_COUNT_UNREAD.replace("{}", placeholders), *by_profile)
    for r in rows:
        u = by_profile[row_uuid(r["profile"])]
        u.count, u.oldest, u.newest = int(r["n"]), _time(r["oldest"]), _time(r["newest"])


def _due(u: Unread, state: dict[str, Any] | None, cutoff: datetime) -> bool:
    """Unread long enough, emails on, and read since the last email (if any)."""
    if u.oldest > cutoff or (state is not None and state["email"] == OFF):
        return False
    return state is None or state["notified_at"] is None or u.oldest > state["notified_at"]


async def notify_due(settings: Settings) -> bool:
    """Queue the emails that are due; True when a full batch suggests more."""
    cutoff = clock.now() - timedelta(seconds=settings.notify_delay_seconds)
    unread = {p: u for p, u in (await oldest_unread_by_person()).items()
              if u.oldest <= cutoff}
    if not unread:
        return False
    states = {r["profile"]: r for r in await NotificationSetting.select().where(
        NotificationSetting.profile.is_in(list(unread)))}
    due = [(u, states.get(profile)) for profile, u in unread.items()
           if _due(u, states.get(profile), cutoff)]
    await count_unread([u for u, _ in due[:BATCH]])
    for u, state in due[:BATCH]:
        if u.count and _due(u, state, cutoff):  # as counted: someone may have read meanwhile
            await _notify(settings, u, state)
    return len(due) > BATCH


async def _notify(settings: Settings, u: Unread, state: dict[str, Any] | None) -> bool:
    person = await Profile.select(
        Profile.organization, Profile.account.email.as_alias("email"),
        Profile.organization.name.as_alias("practice"),
    ).where(Profile.id == u.profile).first()
    if person is None or not person["email"]:
        return False
    try:
        async with write_transaction():
            if state is None:
                await NotificationSetting.insert(NotificationSetting(
                    profile=u.profile, email=DEFAULT_EMAIL, notified_at=u.newest, version=1))
            else:
                claimed = await NotificationSetting.update({
                    NotificationSetting.notified_at: u.newest,
                    NotificationSetting.version: state["version"] + 1,
                }).where(
                    NotificationSetting.id == state["id"],
                    NotificationSetting.version == state["version"],
                    NotificationSetting.email == UNREAD,
                ).returning(NotificationSetting.id)
                if not claimed:
                    return False  # another process sent it, or they turned emails off
            subject, body, headers = unread_email(settings, u, person["practice"])
            await mail.enqueue(person["email"], subject, body, headers)
    except Exception as exc:
        if is_unique_violation(exc):
            return False  # another process made the row (and sent the email) first
        raise
    return True


def unread_email(settings: Settings, u: Unread, practice: str
                 ) -> tuple[str, str, dict[str, str]]:
    """The email: the practice, the count and a link; never a message, a name or an answer."""
    noun = "message" if u.count == 1 else "messages"
    unsubscribe = unsubscribe_url(settings, u.profile)
    subject = f"{u.count} unread {noun} at {practice}"
    body = (
        f"Hello,\n\nYou have {u.count} unread {noun} at {practice}.\n\n"
        f"Read {'it' if u.count == 1 else 'them'} in the app:\n"
        f"{settings.base_url}/#/threads/{u.thread}\n\n"
        "For your privacy, messages are never sent by email.\n\n"
        "You get this email because you have unread messages. To stop these emails:\n"
        f"{unsubscribe}\n"
    )
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }
    return subject, body, headers


