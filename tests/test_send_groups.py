"""How a worker's plain messages go to PostgreSQL (server/threads/sendgroups.py): up to
IN_FLIGHT statements at once, then the ones that waited go together, ordered by thread; a
group that fails as a whole is sent again one by one; a statement that stalls does not hold up
the rest. Fast: no database, the two statements
are stood in for by coroutines that record what they were given."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from server.events import EventRecord
from server.threads import sendgroups
from server.threads.sendgroups import IN_FLIGHT, Message, SendGroups, Sent


def _message(thread: uuid.UUID, body: str) -> Message:
    event = EventRecord(id=uuid.uuid4(), thread_id=thread, seq=0, kind="message",
                        actor_id=uuid.uuid4(), created_at=datetime.now(UTC), body=body,
                        data=None, client_id=body, audience="all")
    return Message(event, uuid.uuid4())


class _Database:
    def __init__(self, group_fails: bool = False, held: str | None = None) -> None:
        self.release = asyncio.Event()
        self.held = held  # only this message waits for `release` (None: every single one)
        self.singles: list[str] = []
        self.groups: list[list[str]] = []
        self.group_fails = group_fails
        self.seq = 0

    async def one(self, message: Message) -> Sent:
        self.singles.append(str(message.event.body))
        if self.held is None or message.event.body == self.held:
            await self.release.wait()
        self.seq += 1
        return Sent(self.seq, [], [], None)

    async def group(self, messages: list[Message]) -> list[Sent]:
        self.groups.append([str(m.event.body) for m in messages])
        if self.group_fails:
            raise ConnectionError("the group's statement failed")
        return [Sent(None, [], [], sendgroups.DUPLICATE) if m.event.body == "repeat"
                else Sent(100 + i, [], [], None) for i, m in enumerate(messages)]


async def _waiting_behind_full_wire(db: _Database, groups: SendGroups,
                                    queued: list[Message]) -> list[asyncio.Task[Sent]]:
    thread = uuid.uuid4()
    first = [asyncio.create_task(groups.send(_message(thread, f"first {i}")))
             for i in range(IN_FLIGHT)]
    await asyncio.sleep(0)
    later = [asyncio.create_task(groups.send(m)) for m in queued]
    await asyncio.sleep(0)
    assert len(db.singles) == IN_FLIGHT and not db.groups  # the rest wait
    db.release.set()
    await asyncio.gather(*first)
    return later


async def test_messages_that_wait_behind_a_full_wire_go_as_one_group_ordered_by_thread(
) -> None:
    db = _Database()
    groups = SendGroups(db.one, db.group)
    low, high = sorted((uuid.uuid4(), uuid.uuid4()), key=lambda t: t.bytes)
    queued = [_message(high, "h1"), _message(low, "l1"), _message(high, "repeat"),
              _message(low, "l2")]
    later = await _waiting_behind_full_wire(db, groups, queued)
    sent = await asyncio.gather(*later)
    assert db.groups == [["l1", "l2", "h1", "repeat"]]  # by thread, each thread's order kept
    assert [s.refused for s in sent] == [None, None, sendgroups.DUPLICATE, None]
    assert sent[1].seq == 100 and sent[3].seq == 101 and sent[0].seq == 102


async def test_a_group_that_fails_as_a_whole_is_sent_again_one_by_one() -> None:
    db = _Database(group_fails=True)
    groups = SendGroups(db.one, db.group)
    thread = uuid.uuid4()
    later = await _waiting_behind_full_wire(db, groups, [_message(thread, "a"),
                                                         _message(thread, "b")])
    sent = await asyncio.gather(*later)
    assert db.groups == [["a", "b"]]
    assert db.singles[-2:] == ["a", "b"] and all(s.refused is None for s in sent)


async def test_a_message_given_up_while_waiting_is_not_sent() -> None:
    db = _Database()
    groups = SendGroups(db.one, db.group)
    thread = uuid.uuid4()
    waiting = [_message(thread, "kept 1"), _message(thread, "given up"),
               _message(thread, "kept 2")]
    first = [asyncio.create_task(groups.send(_message(thread, f"first {i}")))
             for i in range(IN_FLIGHT)]
    await asyncio.sleep(0)
    later = [asyncio.create_task(groups.send(m)) for m in waiting]
    await asyncio.sleep(0)
    later[1].cancel()
    db.release.set()
    await asyncio.gather(*first)
    await asyncio.gather(later[0], later[2])
    with pytest.raises(asyncio.CancelledError):
        await later[1]
    assert db.groups == [["kept 1", "kept 2"]]


async def test_a_statement_stalled_on_a_locked_thread_does_not_hold_up_the_messages_behind_it(
) -> None:
    db = _Database(held="locked thread")
    groups = SendGroups(db.one, db.group)
    stalled = asyncio.create_task(groups.send(_message(uuid.uuid4(), "locked thread")))
    await asyncio.sleep(0)
    behind = [asyncio.create_task(groups.send(_message(uuid.uuid4(), body)))
              for body in ("a", "b")]
    sent = await asyncio.wait_for(asyncio.gather(*behind), sendgroups.STALL_SECONDS * 20)
    assert all(s.refused is None for s in sent)
    assert len(db.groups) == 1 and sorted(db.groups[0]) == ["a", "b"]  # ordered by thread
    assert not stalled.done()  # still waiting for its lock, alone
    db.release.set()
    assert (await stalled).refused is None


async def test_messages_wait_for_the_statement_on_the_wire_while_it_is_quick() -> None:
    db = _Database()
    groups = SendGroups(db.one, db.group)
    first = asyncio.create_task(groups.send(_message(uuid.uuid4(), "first")))
    await asyncio.sleep(0)
    behind = asyncio.create_task(groups.send(_message(uuid.uuid4(), "behind")))
    await asyncio.sleep(sendgroups.STALL_SECONDS / 4)
    assert db.singles == ["first"] and not db.groups and not behind.done()
    db.release.set()
    await asyncio.gather(first, behind)
    assert db.singles == ["first", "behind"]  # a group of one goes as a single statement


async def test_once_a_statement_is_stalled_the_messages_after_it_no_longer_wait_for_it() -> None:
    db = _Database(held="locked thread")
    groups = SendGroups(db.one, db.group)
    stalled = asyncio.create_task(groups.send(_message(uuid.uuid4(), "locked thread")))
    await asyncio.sleep(sendgroups.STALL_SECONDS * 1.2)
    loop = asyncio.get_running_loop()
    for body in ("later 1", "later 2", "later 3"):
        began = loop.time()
        sent = await groups.send(_message(uuid.uuid4(), body))
        assert sent.refused is None
        assert loop.time() - began < sendgroups.STALL_SECONDS / 2, body  # no stall wait each
    assert not stalled.done()
    db.release.set()
    await stalled
