"""Client documents: the team files a document on a client's profile, private or shared; the
client files their own labs; staff file a paper form for a client without email. Each download
is in the audit log; nobody else sees a thing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.files_helpers import pdf_bytes, photo_with_location, uploaded
from tests.helpers import Person, accept, add_client, all_events, invite_staff, new_practice
from tests.mailbox import Mailbox

UNKNOWN = "00000000-0000-4000-8000-000000000000"


async def _practice_with_client(http: httpx.AsyncClient, mailbox: Mailbox
                                ) -> tuple[Person, Person, Person, dict[str, Any]]:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    email = f"client-{uuid.uuid4().hex[:8]}@example.org"
    client = await add_client(http, provider, name="Robin Client", email=email)
    robin = await accept(http, (await mailbox.wait_for(email)).token)
    return owner, provider, robin, client


async def _add(http: httpx.AsyncClient, person: Person, client_id: str, file_id: str,
               **fields: Any) -> httpx.Response:
    return await http.post(f"/clients/{client_id}/documents",
                           json={"file_id": file_id, **fields}, headers=person.headers)


async def test_the_team_shares_a_document_and_keeps_another_private(
    http: httpx.AsyncClient, mailbox: Mailbox,
) -> None:
    owner, provider, robin, client = await _practice_with_client(http, mailbox)
    cid, tid = client["id"], client["care_thread_id"]
    notes = await uploaded(http, provider, "assessment.pdf", pdf_bytes("private notes"))
    plan = await uploaded(http, provider, "meal-plan.pdf", pdf_bytes("meal plan"))
    resp = await _add(http, provider, cid, notes["id"], title="Initial assessment")
    assert resp.status_code == 201, resp.text
    private = resp.json()["document"]
    assert private["shared_with_client"] is False and private["title"] == "Initial assessment"
    resp = await _add(http, provider, cid, plan["id"], shared_with_client=True)
    assert resp.status_code == 201, resp.text
    shared = resp.json()["document"]
    assert shared["title"] == "meal-plan.pdf" and shared["uploaded_by"] == provider.id
    assert shared["file"] == {k: plan[k] for k in ("id", "name", "content_type", "size")}
    # The team lists both, newest first; the client only the shared one.
    team_list = (await http.get(f"/clients/{cid}/documents", headers=owner.headers)).json()
    assert [d["id"] for d in team_list["documents"]] == [shared["id"], private["id"]]
    mine = (await http.get(f"/clients/{cid}/documents", headers=robin.headers)).json()
    assert [d["id"] for d in mine["documents"]] == [shared["id"]]
    # The care thread says so: to the client only what is shared.
    robin_kinds = [(e["kind"], e.get("data", {}).get("document_id"))
                   for e in await all_events(http, robin, tid)]
    assert ("document.shared", shared["id"]) in robin_kinds
    assert all(doc != private["id"] for _, doc in robin_kinds)
    team_kinds = [(e["kind"], e.get("data", {}).get("document_id"))
                  for e in await all_events(http, provider, tid)]
    assert ("document.added", private["id"]) in team_kinds
    # Downloads: the client gets the shared file, never the private one.
    got = await http.get(f"/files/{plan['id']}", headers=robin.headers)
    assert got.status_code == 200 and got.content == pdf_bytes("meal plan")
    assert (await http.get(f"/files/{notes['id']}", headers=robin.headers)).status_code == 404
    assert (await http.get(f"/files/{notes['id']}", headers=owner.headers)).status_code == 200
    # Every download is in the audit log, like form responses.
    log = (await http.get("/audit", params={"client_id": cid}, headers=owner.headers)).json()
    downloads = [(e["action"], e["actor_id"], e["document_id"]) for e in log["entries"]]
    assert ("document.downloaded", robin.id, shared["id"]) in downloads
    assert ("document.downloaded", owner.id, private["id"]) in downloads


async def test_a_client_files_their_own_labs(http: httpx.AsyncClient, mailbox: Mailbox) -> None:
    owner, provider, robin, client = await _practice_with_client(http, mailbox)
    cid = client["id"]
    labs = await uploaded(http, robin, "labs.jpg", photo_with_location())
    # Asking for "private" does not hide a client's own document from themselves.
    resp = await _add(http, robin, cid, labs["id"], title="Blood test", shared_with_client=False)
    assert resp.status_code == 201, resp.text
    doc = resp.json()["document"]
    assert doc["shared_with_client"] is True and doc["uploaded_by"] == robin.id
    for reader in (robin, provider, owner):
        listed = (await http.get(f"/clients/{cid}/documents", headers=reader.headers)).json()
        assert [d["id"] for d in listed["documents"]] == [doc["id"]]
    assert (await http.get(f"/files/{labs['id']}", headers=provider.headers)).status_code == 200
    events = await all_events(http, provider, client["care_thread_id"])
    assert any(e["kind"] == "document.shared" and e["actor_id"] == robin.id for e in events)


async def test_staff_file_a_paper_form_for_a_client_without_email(
    http: httpx.AsyncClient, mailbox: Mailbox,
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    client = await add_client(http, provider, name="Paper Only")  # no email, no login
    scan = await uploaded(http, provider, "intake-scan.pdf", pdf_bytes("paper intake"))
    resp = await _add(http, provider, client["id"], scan["id"], title="Paper intake form")
    assert resp.status_code == 201, resp.text
    listed = (await http.get(f"/clients/{client['id']}/documents",
                             headers=provider.headers)).json()["documents"]
    assert [d["title"] for d in listed] == ["Paper intake form"]


async def test_nobody_outside_the_care_team_sees_or_adds_documents(
    http: httpx.AsyncClient, mailbox: Mailbox,
) -> None:
    owner, provider, robin, client = await _practice_with_client(http, mailbox)
    cid = client["id"]
    plan = await uploaded(http, provider, "plan.pdf", pdf_bytes("plan"))
    doc = (await _add(http, provider, cid, plan["id"], shared_with_client=True)).json()[
        "document"]
    other_staff = await invite_staff(http, mailbox, owner, role="provider", name="Not Team")
    # A client of another practice, and that practice's owner.
    _, _, stranger_client, _ = await _practice_with_client(http, mailbox)
    stranger_owner = await new_practice(http, "Elsewhere")
    for outsider in (other_staff, stranger_client, stranger_owner):
        assert (await http.get(f"/clients/{cid}/documents",
                               headers=outsider.headers)).status_code == 404
        assert (await http.get(f"/files/{plan['id']}", headers=outsider.headers)
                ).status_code == 404
        theirs = await uploaded(http, outsider, "x.pdf", pdf_bytes("x"))
        resp = await _add(http, outsider, cid, theirs["id"])
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    # Someone else's upload, an attached file, an unknown one: 404, nothing added.
    robins = await uploaded(http, robin, "mine.pdf", pdf_bytes("mine"))
    for file_id in (robins["id"], plan["id"], UNKNOWN):
        resp = await _add(http, provider, cid, file_id)
        assert resp.status_code == 404, resp.text
    # Malformed bodies.
    for body in ({}, {"file_id": "nope"}, {"file_id": robins["id"], "shared_with_client": "yes"},
                 {"file_id": robins["id"], "title": "t" * 201}):
        resp = await http.post(f"/clients/{cid}/documents", json=body, headers=robin.headers)
        assert resp.status_code == 400 and resp.json()["code"] == "validation_error", body
    assert (await http.get(f"/clients/{UNKNOWN}/documents", headers=owner.headers)
            ).status_code == 404
    assert (await http.get("/clients/nope/documents", headers=owner.headers)).status_code == 404
    listed = (await http.get(f"/clients/{cid}/documents", headers=owner.headers)).json()
    assert [d["id"] for d in listed["documents"]] == [doc["id"]]
