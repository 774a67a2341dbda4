"""Run by tests/test_unit_of_work.py in a process of its own (its own SQLite database and
Piccolo engine): effects registered in a transaction run after commit, never after rollback."""

from __future__ import annotations

import asyncio
import json
import uuid


async def main() -> None:
    from server import bus, db, uow
    from server.accounts.tables import Organization, Profile
    from server.mail import service as mail
    from server.mail.tables import OutboxEmail
    from server.settings import get_settings
    from server.threads import service as threads
    from server.threads.tables import Event

    settings = get_settings()
    await db.migrate(settings)
    fanout = bus.Bus(settings)  # the real bus; its publisher is not started, so the queue
    bus.install(fanout)         # shows exactly what was handed to the fan-out path
    woken: list[str] = []
    hooks: list[str] = []
    uow.install(wake_mail=lambda: woken.append("mail"))
    org = uuid.uuid4()
    member = uuid.uuid4()
    await Organization.insert(Organization(id=org, name="Test practice"))
    await Profile.insert(Profile(id=member, organization=org, name="Pat", role="provider"))
    async with db.write_transaction():
        tid, _ = await threads.create_thread_in_transaction(org, None, [member], "t")
    created = fanout._outbox.qsize()

    class Refused(Exception):
        pass

    try:
        async with db.write_transaction() as work:
            await threads.append_in_transaction(tid, "message", None, body="never")
            await mail.enqueue("someone@example.org", "Hello", "never")
            work.after_commit(lambda: hooks.append("rolled back"))
            raise Refused
    except Refused:
        pass
    after_rollback = {
        "published": fanout._outbox.qsize() - created, "woken": len(woken), "hooks": list(hooks),
        "events": await Event.count().where(Event.thread == tid),
        "mail": await OutboxEmail.count(),
    }
    async with db.write_transaction() as work:
        event = await threads.append_in_transaction(tid, "message", None, body="kept")
        await mail.enqueue("someone@example.org", "Hello", "kept")
        work.after_commit(lambda: hooks.append("committed"))
    after_commit = {
        "published": fanout._outbox.qsize() - created, "woken": len(woken), "hooks": list(hooks),
        "events": await Event.count().where(Event.thread == tid),
        "mail": await OutboxEmail.count(), "seq": event.seq,
    }
    print(json.dumps({"rollback": after_rollback, "commit": after_commit}))


asyncio.run(main())
