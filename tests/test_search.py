"""Finding what was said last month: full-text search over the messages the caller may see,
newest first, with the matching words marked; safe against any query syntax."""

from __future__ import annotations

import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import (
    Person,
    accept,
    add_client,
    invite_staff,
    new_practice,
    new_thread,
    say,
)
from tests.mailbox import Mailbox


async def _search(http: httpx.AsyncClient, person: object, q: str, **params: str
                  ) -> list[dict[str, object]]:
    resp = await http.get("/search", params={"q": q, **params},
                          headers=person.headers)  # type: ignore[attr-defined]
    assert resp.status_code == 200, resp.text
    return list(resp.json()["results"])


async def test_search_finds_current_words_newest_first_with_marks(
    http: httpx.AsyncClient, mailbox: Mailbox,
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    word = f"quinoa{uuid.uuid4().hex[:6]}"
    tid = await new_thread(http, owner, provider)
    other = await new_thread(http, owner, provider, title="Other")
    older = await say(http, provider, tid, f"Try {word} salad for lunch")
    newer = await say(http, owner, other, f"Is {word} gluten free?")
    await say(http, owner, tid, "nothing to see here")
    results = await _search(http, provider, word)
    assert [(r["thread_id"], r["event"]["id"]) for r in results] == [
        (other, newer["id"]), (tid, older["id"])]
    marked = [s["text"] for s in results[1]["snippet"] if s["match"]]
    assert marked == [word]
    assert "".join(s["text"] for s in results[1]["snippet"]) == f"Try {word} salad for lunch"
    # Every word must match; a thread filter narrows it.
    assert [r["event"]["id"] for r in await _search(http, provider, f"{word} lunch")] == [
        older["id"]]
    assert [r["event"]["id"] for r in await _search(http, provider, word, thread_id=tid)] == [
        older["id"]]
    # Stemming: "salads" finds "salad".
    assert [r["event"]["id"] for r in await _search(http, provider, f"{word} salads")] == [
        older["id"]]
    # Edited and deleted messages are found by their current text only.
    await http.patch(f"/threads/{tid}/messages/{older['id']}",
                     json={"body": f"Try {word} bowls instead"}, headers=provider.headers)
    assert await _search(http, provider, f"{word} salad") == []
    found = await _search(http, provider, f"{word} bowls")
    assert [r["event"]["id"] for r in found] == [older["id"]]
    assert found[0]["event"]["body"] == f"Try {word} bowls instead"
    await http.delete(f"/threads/{other}/messages/{newer['id']}", headers=owner.headers)
    assert [r["event"]["id"] for r in await _search(http, provider, word)] == [older["id"]]


async def test_search_sees_only_the_callers_windows_and_practice(
    http: httpx.AsyncClient, mailbox: Mailbox,
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    late = await invite_staff(http, mailbox, owner, name="Late Joiner")
    word = f"turmeric{uuid.uuid4().hex[:6]}"
    tid = await new_thread(http, owner, provider)
    before = await say(http, owner, tid, f"{word} before you joined")
    await http.post(f"/threads/{tid}/members", json={"user_id": late.id}, headers=owner.headers)
    during = await say(http, owner, tid, f"{word} while you are here")
    await http.delete(f"/threads/{tid}/members/{late.id}", headers=owner.headers)
    await say(http, owner, tid, f"{word} after you left")
    assert [r["event"]["id"] for r in await _search(http, late, word)] == [during["id"]]
    assert len(await _search(http, provider, word)) == 3
    assert before  # found by members of the whole window only
    # Another practice, even its owner, finds nothing.
    stranger = await new_practice(http, "Elsewhere")
    assert await _search(http, stranger, word) == []
    # A client finds their care thread's messages, never another client's.
    email = f"client-{uuid.uuid4().hex[:8]}@example.org"
    client = await add_client(http, provider, name="Robin", email=email)
    robin = await accept(http, (await mailbox.wait_for(email)).token)
    await say(http, provider, client["care_thread_id"], f"{word} for Robin")
    mine = await _search(http, robin, word)
    assert [r["thread_id"] for r in mine] == [client["care_thread_id"]]
    # Owners read every care thread of their practice; a thread id filter outside is nothing.
    assert any(r["thread_id"] == client["care_thread_id"]
               for r in await _search(http, owner, word))
    assert await _search(http, robin, word, thread_id=tid) == []


_searchers: dict[str, Person] = {}


async def _searcher(http: httpx.AsyncClient) -> Person:
    """One practice per server for the many small queries below, with a message to find."""
    key = str(http.base_url)
    if key not in _searchers:
        owner = await new_practice(http)
        await say(http, owner, await new_thread(http, owner), "Some words to find: NEAR OR *")
        _searchers[key] = owner
    return _searchers[key]


ODD_QUERIES = [
    '"', '""', "'", "a OR b", "NEAR(a b)", "body:x", "^start", "-minus", "*", "a*", "(",
    ")", "AND", "NOT", "'; DROP TABLE thread_event; --", "\\", "%", "_", "{}", "\x00",
    "\x02marked\x03", "😀 emoji", "ä ö ü", "a & b | !c", "x:*", "<->", "a <-> b",
]


@pytest.mark.parametrize("query", ODD_QUERIES, ids=[f"q{i}" for i in range(len(ODD_QUERIES))])
async def test_query_syntax_is_never_an_error_of_ours(http: httpx.AsyncClient,
                                                      query: str) -> None:
    person = await _searcher(http)
    resp = await http.get("/search", params={"q": query}, headers=person.headers)
    assert resp.status_code in (200, 400), resp.text
    assert "code" in resp.json() or "results" in resp.json()


async def test_bad_search_requests_answer_400(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    for params in ({}, {"q": ""}, {"q": "   "}, {"q": "x" * 201}, {"q": "a", "limit": "0"},
                   {"q": "a", "limit": "x"}):
        resp = await http.get("/search", params=params, headers=owner.headers)
        assert resp.status_code == 400, (params, resp.text)
        assert resp.json()["code"] in ("validation_error", "query_too_long")
    assert (await http.get("/search", params={"q": "a"})).status_code == 401
    resp = await http.get("/search", params={"q": "a", "thread_id": "nope"},
                          headers=owner.headers)
    assert resp.status_code == 404


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(min_size=1, max_size=60))
async def test_any_text_searches_without_a_server_error(http: httpx.AsyncClient,
                                                        query: str) -> None:
    person = await _searcher(http)
    resp = await http.get("/search", params={"q": query}, headers=person.headers)
    assert resp.status_code in (200, 400), (query, resp.text)
