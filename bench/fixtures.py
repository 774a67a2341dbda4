"""Bench data written straight into the database: users, tokens, threads, and big logs.

Setup is not what is measured, so it skips the HTTP API where that would take minutes (10,000
users, a million events). The rows are the ones the services write (see server/threads/service.py
`create_thread` and server/accounts/service.py `_issue_token`); tokens are real bearer tokens
whose SHA-256 is stored, so every measured request authenticates the normal way.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class User:
    id: str
    token: str
    role: str
    account_id: str
    email: str
    threads: list[int] = field(default_factory=list)


@dataclass
class ThreadPlan:
    id: str
    members: list[int]  # indexes into the users list; members[0] created it


class Store:
    """One database connection for setup, SQLite or PostgreSQL, with `?` placeholders."""

    async def execute(self, sql: str, *args: Any) -> None:
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    async def fetchval(self, sql: str, *args: Any) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def fill_history(self, thread_id: str, actor_id: str, first: int, last: int) -> None:
        raise NotImplementedError


def _lite(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return str(value)  # '2026-11-26 04:31:42.651088+00:00', as Piccolo stores it
    return value


class SqliteStore(Store):
    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, timeout=60, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout = 60000")

    async def execute(self, sql: str, *args: Any) -> None:
        self.conn.execute(sql, [_lite(a) for a in args])

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(sql, [[_lite(v) for v in row] for row in rows])
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = self.conn.execute(sql, [_lite(a) for a in args]).fetchone()
        return row[0] if row else None

    async def close(self) -> None:
        self.conn.close()

    async def fill_history(self, thread_id: str, actor_id: str, first: int, last: int) -> None:
        stamp = str(now())
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute(
            "INSERT INTO thread_event (id, thread, seq, kind, actor, body, data, client_id, "
            "created_at) WITH RECURSIVE g(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM g "
            "WHERE n < ?) SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' "
            "|| substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' "
            "|| hex(randomblob(6))), ?, n, 'message', ?, 'history message number ' || n, NULL, "
            "NULL, ? FROM g",
            [first, last, thread_id, actor_id, stamp],
        )
        self.conn.execute("UPDATE thread SET last_seq = ? WHERE id = ?", [last, thread_id])
        self.conn.execute("COMMIT")


def _dollars(sql: str) -> str:
    parts = sql.split("?")
    out = parts[0]
    for i, part in enumerate(parts[1:], 1):
        out += f"${i}" + part
    return out


class PgStore(Store):
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    @classmethod
    async def connect(cls, dsn: str) -> PgStore:
        import asyncpg

        return cls(await asyncpg.connect(dsn))

    @staticmethod
    def _pg(value: Any) -> Any:
        return uuid.UUID(value) if isinstance(value, str) and _is_uuid(value) else value

    async def execute(self, sql: str, *args: Any) -> None:
        await self.conn.execute(_dollars(sql), *[self._pg(a) for a in args])

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        async with self.conn.transaction():
            await self.conn.executemany(
                _dollars(sql), [[self._pg(v) for v in row] for row in rows])

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.conn.fetchval(_dollars(sql), *[self._pg(a) for a in args])

    async def close(self) -> None:
        await self.conn.close()

    async def fill_history(self, thread_id: str, actor_id: str, first: int, last: int) -> None:
        async with self.conn.transaction():
            await self.conn.execute(
                "INSERT INTO thread_event (id, thread, seq, kind, actor, body, data, client_id, "
                "created_at) SELECT gen_random_uuid(), $1, g, 'message', $2, "
                "'history message number ' || g, NULL, NULL, now() "
                "FROM generate_series($3::bigint, $4::bigint) g",
                uuid.UUID(thread_id), uuid.UUID(actor_id), first, last,
            )
            await self.conn.execute("UPDATE thread SET last_seq = $1 WHERE id = $2", last,
                                    uuid.UUID(thread_id))
        await self.conn.execute("ANALYZE thread_event")


def _is_uuid(value: str) -> bool:
    if len(value) != 36 or value.count("-") != 4:
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def open_store(database_url: str) -> Store:
    if database_url.startswith("sqlite"):
        rest = database_url.split(":", 1)[1]
        path = rest[3:] if rest.startswith("///") else rest[2:]
        return SqliteStore(path)
    return await PgStore.connect(database_url)


# --- users ----------------------------------------------------------------------------------


def plan_users(count: int, prefix: str, roles: Sequence[str] = ("provider", "client")
               ) -> list[User]:
    users = []
    for i in range(count):
        users.append(User(
            id=str(uuid.uuid4()), token=secrets.token_urlsafe(32), role=roles[i % len(roles)],
            account_id=str(uuid.uuid4()), email=f"{prefix}-{i}@bench.carethread.test",
        ))
    return users


async def insert_users(store: Store, org_id: str, users: Sequence[User],
                       password_hash: str | None = None, batch: int = 5000) -> None:
    """Accounts, active profiles, and one 30-day session token each."""
    stamp = now()
    expires = stamp + timedelta(days=30)
    for start in range(0, len(users), batch):
        chunk = users[start:start + batch]
        await store.executemany(
            "INSERT INTO account (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
            [(u.account_id, u.email, password_hash, stamp) for u in chunk],
        )
        await store.executemany(
            "INSERT INTO profile (id, organization, account, name, role, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, 'active', ?)",
            [(u.id, org_id, u.account_id, f"Bench {u.role} {start + i}", u.role, stamp)
             for i, u in enumerate(chunk)],
        )
        await store.executemany(
            "INSERT INTO auth_token (id, token_hash, kind, account, profile, created_at, "
            "expires_at, last_used_at, revoked_at) VALUES (?, ?, 'session', ?, ?, ?, ?, ?, NULL)",
            [(str(uuid.uuid4()), hashlib.sha256(u.token.encode()).hexdigest(), u.account_id,
              u.id, stamp, expires, stamp) for u in chunk],
        )


# --- threads --------------------------------------------------------------------------------


def plan_threads(users: Sequence[User], count: int, rng: random.Random, min_members: int = 2,
                 max_members: int = 6) -> list[ThreadPlan]:
    """Threads of 2-6 members, each started by a provider, the rest drawn from everyone."""
    providers = [i for i, u in enumerate(users) if u.role == "provider"] or list(range(len(users)))
    plans = []
    for _ in range(count):
        creator = rng.choice(providers)
        size = min(rng.randint(min_members, max_members), len(users))
        others: set[int] = set()
        while len(others) < size - 1:
            pick = rng.randrange(len(users))
            if pick != creator:
                others.add(pick)
        members = [creator, *sorted(others)]
        plan = ThreadPlan(id=str(uuid.uuid4()), members=members)
        for m in members:
            users[m].threads.append(len(plans))
        plans.append(plan)
    return plans


async def insert_threads(store: Store, org_id: str, users: Sequence[User],
                         plans: Sequence[ThreadPlan], batch: int = 5000) -> None:
    """Each thread as `create_thread` leaves it: last_seq 1, `thread.created`, open members."""
    stamp = now()
    for start in range(0, len(plans), batch):
        chunk = plans[start:start + batch]
        await store.executemany(
            "INSERT INTO thread (id, organization, title, kind, last_seq, created_by, created_at) "
            "VALUES (?, ?, NULL, 'chat', 1, ?, ?)",
            [(p.id, org_id, users[p.members[0]].id, stamp) for p in chunk],
        )
        await store.executemany(
            "INSERT INTO thread_event (id, thread, seq, kind, actor, body, data, client_id, "
            "created_at) VALUES (?, ?, 1, 'thread.created', ?, NULL, ?, NULL, ?)",
            [(str(uuid.uuid4()), p.id, users[p.members[0]].id,
              json.dumps({"title": None, "member_ids": [users[m].id for m in p.members]}), stamp)
             for p in chunk],
        )
        await store.executemany(
            "INSERT INTO thread_member (id, thread, profile, role, joined_seq, left_seq, "
            "joined_at, left_at, last_read_seq) VALUES (?, ?, ?, ?, 1, NULL, ?, NULL, 0)",
            [(str(uuid.uuid4()), p.id, users[m].id, "owner" if k == 0 else "member", stamp)
             for p in chunk for k, m in enumerate(p.members)],
        )


async def append_messages(store: Store, users: Sequence[User], plans: Sequence[ThreadPlan],
                          body: str, seq: int) -> None:
    """One message per thread from its creator, at `seq` (each thread's last_seq + 1)."""
    stamp = now()
    await store.executemany(
        "INSERT INTO thread_event (id, thread, seq, kind, actor, body, data, client_id, "
        "created_at) VALUES (?, ?, ?, 'message', ?, ?, NULL, NULL, ?)",
        [(str(uuid.uuid4()), p.id, seq, users[p.members[0]].id, body, stamp) for p in plans],
    )
    await store.executemany("UPDATE thread SET last_seq = ? WHERE id = ?",
                            [(seq, p.id) for p in plans])
