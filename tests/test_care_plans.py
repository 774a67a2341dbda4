"""Care plans: drafts stay with the team; sharing writes care_plan.shared and the client reads
from then on; an edit is a new version with the earlier ones kept; templates are applied by
copy; Markdown with a script or an on* attribute comes out inert."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.care_tasks_helpers import Care, care_practice, kinds
from tests.helpers import all_events
from tests.mailbox import Mailbox

UNKNOWN = "00000000-0000-4000-8000-000000000000"
HOSTILE = (
    "# Week one\n\nWalk **daily**.\n\n<script>alert(1)</script>\n\n"
    '<img src=x onerror="alert(2)">\n\n<a href="#" onclick="alert(3)">tap</a>\n\n'
    "[click](javascript:alert(4)) and [ok](https://example.org/guide)\n"
)


def _elements(html: str) -> tuple[set[str], list[tuple[str, str | None]]]:
    """The element names and attributes a browser would build from this HTML."""
    from html.parser import HTMLParser

    tags: set[str] = set()
    attributes: list[tuple[str, str | None]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            tags.add(tag)
            attributes.extend(attrs)

    Collect().feed(html)
    return tags, attributes


@pytest.fixture
async def care(http: httpx.AsyncClient, mailbox: Mailbox) -> Care:
    return await care_practice(http, mailbox)


async def _plan(http: httpx.AsyncClient, care: Care, **body: Any) -> dict[str, Any]:
    resp = await http.post(f"/clients/{care.client_id}/care-plans",
                           json={"title": "Sleep plan",
                                 "sections": [{"title": "Evening", "body": "No screens."}],
                                 **body},
                           headers=care.provider.headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json()["care_plan"])


async def test_a_draft_is_the_teams_until_shared(http: httpx.AsyncClient, care: Care) -> None:
    plan = await _plan(http, care)
    assert plan["status"] == "draft" and plan["version"] == 1
    assert plan["sections"][0]["html"] == "<p>No screens.</p>"
    resp = await http.get(f"/care-plans/{plan['id']}", headers=care.client.headers)
    assert resp.status_code == 404
    listed = (await http.get(f"/clients/{care.client_id}/care-plans",
                             headers=care.client.headers)).json()["care_plans"]
    assert listed == []
    assert kinds(await all_events(http, care.client, care.thread), "care_plan.") == []

    resp = await http.post(f"/care-plans/{plan['id']}/share", headers=care.provider.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["care_plan"]["status"] == "shared"
    seen = (await http.get(f"/care-plans/{plan['id']}", headers=care.client.headers)).json()
    assert seen["care_plan"]["sections"][0]["body"] == "No screens."
    events = kinds(await all_events(http, care.client, care.thread), "care_plan.")
    assert [e["kind"] for e in events] == ["care_plan.shared"]
    assert events[0]["data"] == {"care_plan_id": plan["id"], "title": "Sleep plan",
                                 "version": 1}
    # Sharing again with nothing new writes nothing new.
    await http.post(f"/care-plans/{plan['id']}/share", headers=care.provider.headers)
    assert len(kinds(await all_events(http, care.client, care.thread), "care_plan.")) == 1


async def test_an_edit_is_a_new_version_and_the_client_reads_what_was_shared(
    http: httpx.AsyncClient, care: Care
) -> None:
    plan = await _plan(http, care)
    await http.post(f"/care-plans/{plan['id']}/share", headers=care.provider.headers)
    resp = await http.patch(f"/care-plans/{plan['id']}",
                            json={"sections": [{"title": "Evening", "body": "Lights out 22:30."}]},
                            headers=care.provider.headers)
    assert resp.status_code == 200, resp.text
    edited = resp.json()["care_plan"]
    assert edited["version"] == 2 and edited["has_unshared_changes"] is True
    client_view = (await http.get(f"/care-plans/{plan['id']}", headers=care.client.headers)
                   ).json()["care_plan"]
    assert client_view["version"] == 1 and client_view["sections"][0]["body"] == "No screens."
    resp = await http.get(f"/care-plans/{plan['id']}?version=2", headers=care.client.headers)
    assert resp.status_code == 404
    versions = (await http.get(f"/care-plans/{plan['id']}/versions",
                               headers=care.provider.headers)).json()["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    old = (await http.get(f"/care-plans/{plan['id']}?version=1", headers=care.provider.headers)
           ).json()["care_plan"]
    assert old["sections"][0]["body"] == "No screens."
    await http.post(f"/care-plans/{plan['id']}/share", headers=care.provider.headers)
    client_view = (await http.get(f"/care-plans/{plan['id']}", headers=care.client.headers)
                   ).json()["care_plan"]
    assert client_view["version"] == 2
    assert client_view["sections"][0]["body"] == "Lights out 22:30."
    shared = kinds(await all_events(http, care.client, care.thread), "care_plan.shared")
    assert [e["data"]["version"] for e in shared] == [1, 2]


async def test_markdown_with_scripts_and_handlers_is_inert(
    http: httpx.AsyncClient, care: Care
) -> None:
    plan = await _plan(http, care, sections=[{"title": "Plan <b>x</b>", "body": HOSTILE}])
    html = plan["sections"][0]["html"]
    assert "<h1>Week one</h1>" in html and "<strong>daily</strong>" in html
    tags, attributes = _elements(html)
    assert not tags & {"script", "img", "iframe", "object", "style"}, tags
    assert not [a for a in attributes if a[0].startswith("on")], attributes
    assert not [a for a in attributes if "javascript:" in (a[1] or "").lower()], attributes
    assert '<a href="https://example.org/guide" rel="noopener noreferrer nofollow">ok</a>' in html
    assert "&lt;script&gt;" in html  # shown as text, not run
    assert plan["sections"][0]["body"] == HOSTILE  # the text as written is kept


async def test_templates_are_applied_by_copy(http: httpx.AsyncClient, care: Care) -> None:
    resp = await http.post("/care-plan-templates",
                           json={"title": "Weight care", "sections": [
                               {"title": "Food", "body": "- Vegetables\n- Protein"}]},
                           headers=care.owner.headers)
    assert resp.status_code == 201, resp.text
    template = resp.json()["template"]
    plan = await _plan(http, care, template_id=template["id"], title=None, sections=None)
    assert plan["title"] == "Weight care"
    assert plan["sections"][0]["html"] == "<ul>\n<li>Vegetables</li>\n<li>Protein</li>\n</ul>"
    await http.delete(f"/care-plan-templates/{template['id']}", headers=care.owner.headers)
    again = (await http.get(f"/care-plans/{plan['id']}", headers=care.provider.headers)).json()
    assert again["care_plan"]["sections"][0]["title"] == "Food"  # a copy, not a reference
    resp = await http.post(f"/clients/{care.client_id}/care-plans",
                           json={"template_id": template["id"]}, headers=care.provider.headers)
    assert resp.status_code == 404


async def test_links_to_goals_and_tasks_of_this_client_only(
    http: httpx.AsyncClient, care: Care
) -> None:
    task = (await http.post(f"/clients/{care.client_id}/tasks", json={"title": "Walk"},
                            headers=care.provider.headers)).json()["task"]
    goal = (await http.post(f"/clients/{care.client_id}/goals", json={"title": "Sleep"},
                            headers=care.provider.headers)).json()["goal"]
    plan = await _plan(http, care, goal_ids=[goal["id"]], task_ids=[task["id"]])
    assert plan["goal_ids"] == [goal["id"]] and plan["task_ids"] == [task["id"]]
    other_rows = (await http.get("/clients", headers=care.owner.headers)).json()["clients"]
    other_id = next(c["id"] for c in other_rows if c["id"] != care.client_id)
    foreign = (await http.post(f"/clients/{other_id}/tasks", json={"title": "Theirs"},
                               headers=care.owner.headers)).json()["task"]
    for body in [{"task_ids": [foreign["id"]]}, {"goal_ids": [UNKNOWN]},
                 {"file_ids": [UNKNOWN]}]:
        resp = await http.post(f"/clients/{care.client_id}/care-plans",
                               json={"title": "T", "sections": [], **body},
                               headers=care.provider.headers)
        assert resp.status_code == 404, (body, resp.text)
    plans = (await http.get(f"/clients/{care.client_id}/care-plans",
                            headers=care.provider.headers)).json()["care_plans"]
    assert [p["id"] for p in plans] == [plan["id"]]


async def test_who_may_do_what_and_bad_input(http: httpx.AsyncClient, care: Care) -> None:
    plan = await _plan(http, care)
    await http.post(f"/care-plans/{plan['id']}/share", headers=care.provider.headers)
    for person in (care.stranger, care.other_client, care.outsider):
        for method, path, body in [
            ("POST", f"/clients/{care.client_id}/care-plans", {"title": "x", "sections": []}),
            ("GET", f"/clients/{care.client_id}/care-plans", None),
            ("GET", f"/care-plans/{plan['id']}", None),
            ("PATCH", f"/care-plans/{plan['id']}", {"title": "Hijack"}),
            ("POST", f"/care-plans/{plan['id']}/share", None),
            ("GET", f"/care-plans/{plan['id']}/versions", None),
        ]:
            resp = await http.request(method, path, json=body, headers=person.headers)
            assert resp.status_code == 404, (method, path, resp.text)
    resp = await http.patch(f"/care-plans/{plan['id']}", json={"title": "Mine"},
                            headers=care.client.headers)
    assert resp.status_code == 403
    for body in [{"title": "x"}, {"sections": []}, {"title": "", "sections": []},
                 {"title": "x", "sections": [{"body": "no title"}]},
                 {"title": "x", "sections": "text"},
                 {"title": "x", "sections": [{"title": "s", "body": "b" * 20_001}]}]:
        resp = await http.post(f"/clients/{care.client_id}/care-plans", json=body,
                               headers=care.provider.headers)
        assert resp.status_code == 400, (body, resp.text)
        assert resp.json()["code"] == "validation_error"
    plans = (await http.get(f"/clients/{care.client_id}/care-plans",
                            headers=care.provider.headers)).json()["care_plans"]
    assert [p["title"] for p in plans] == ["Sleep plan"]
