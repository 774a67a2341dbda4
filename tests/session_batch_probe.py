"""Run by tests/test_session_ends.py in a process of its own (Piccolo's engine is global):
`python -m tests.session_batch_probe PROFILE_ID ACCOUNT_ID|- COUNT` with the server's
DATABASE_URL. It opens COUNT session tokens of that profile, ends some of them the ways a
session ends without a bus message (revoked by someone else, idle too long, expired), makes some
due a touch, then lets one SessionWatch check them all, counting the statements it ran
(every statement Piccolo hands to the engine). Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import timedelta
from typing import Any

from server.accounts import service as accounts
from server.accounts.tables import AuthToken
from server.db import engine
from server.settings import get_settings
from server.ws.sessions import SessionWatch


async def main(profile_id: uuid.UUID, account_id: uuid.UUID | None, count: int
               ) -> dict[str, object]:
    settings = get_settings()
    identities = []
    for _ in range(count):
        token = await accounts._issue_token(settings, profile_id, account_id, accounts.SESSION)
        identity = await accounts.authenticate(settings, token)
        assert identity is not None
        identities.append(identity)
    current = accounts.now()
    revoked, idle, expired = (identities[0].token_id, identities[1].token_id,
                              identities[2].token_id)
    due_touch = {i.token_id for i in identities[3:count // 2]}
    await AuthToken.update({AuthToken.revoked_at: current}).where(AuthToken.id == revoked)
    idle_for = timedelta(seconds=settings.session_idle_timeout_seconds + 60)
    await AuthToken.update({AuthToken.last_used_at: current - idle_for}).where(
        AuthToken.id == idle)
    await AuthToken.update({AuthToken.expires_at: current - timedelta(seconds=1)}).where(
        AuthToken.id == expired)
    await AuthToken.update({AuthToken.last_used_at: current - timedelta(minutes=5)}).where(
        AuthToken.id.is_in(list(due_touch)))

    # Count the statements Piccolo hands to the engine (each still runs, on the real database).
    # (This process's engine class only; PostgresEngine has slots, so not on the instance.)
    engine_class = type(engine())
    run_querystring = engine_class.run_querystring
    statements_run = [0]

    async def counted(self: Any, querystring: Any, in_pool: bool = False) -> Any:
        statements_run[0] += 1
        return await run_querystring(self, querystring, in_pool=in_pool)

    engine_class.run_querystring = counted  # type: ignore[method-assign]
    watch = SessionWatch(settings)
    told: list[str] = []
    unwatch = [watch.watch(i, lambda t=i.token_id: told.append(str(t))) for i in identities]
    before = statements_run[0]
    ended = await watch.check_now()
    statements = statements_run[0] - before
    rows = await AuthToken.select(AuthToken.id, AuthToken.last_used_at).where(
        AuthToken.id.is_in([i.token_id for i in identities]))
    touched = {r["id"] for r in rows if r["last_used_at"] >= current}
    # A second check right after: nothing is due a touch any more, so reads only.
    before = statements_run[0]
    await watch.check_now()
    statements_again = statements_run[0] - before
    for stop in unwatch:
        stop()
    await watch.stop()
    return {
        "sockets": count,
        "statements": statements,
        "statements_again": statements_again,
        "ended": sorted(str(t) for t in ended),
        "expected_ended": sorted(str(t) for t in (revoked, idle, expired)),
        "told": sorted(told),
        "due_touch_touched": due_touch <= touched,
        "watched_after_unwatch": len(watch),
    }


if __name__ == "__main__":
    account = None if sys.argv[2] == "-" else uuid.UUID(sys.argv[2])
    result = asyncio.run(main(uuid.UUID(sys.argv[1]), account, int(sys.argv[3])))
    print(json.dumps(result))
