"""A group's intake flow: requested on sign-up through the link and on moving in, once."""

from __future__ import annotations

import httpx

from tests.forms_helpers import import_phq9, new_form
from tests.helpers import PASSWORD, add_client, bearer, invite_staff, new_practice, unique_email
from tests.mailbox import Mailbox


async def _requests(http: httpx.AsyncClient, reader: object, client_id: str) -> list[str]:
    resp = await http.get("/form-requests", params={"client_id": client_id},
                          headers=reader.headers)  # type: ignore[attr-defined]
    return sorted(r["form_title"] for r in resp.json()["requests"])


async def test_a_groups_intake_flow_runs_on_sign_up_and_on_moving_in_once(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    await invite_staff(http, mailbox, owner)
    intake = await new_form(http, owner, "Nutrition intake")
    phq9 = await import_phq9(http, owner)
    group = (await http.post("/groups", json={"name": "Mood care"}, headers=owner.headers)
             ).json()["group"]
    other = (await http.post("/groups", json={"name": "Other"}, headers=owner.headers)
             ).json()["group"]
    resp = await http.put("/intake-flows", json={"group_id": group["id"],
                                                 "form_ids": [intake["id"], phq9["id"]]},
                          headers=owner.headers)
    assert resp.status_code == 200

    # 1. Sign-up through the group's link.
    code = group["invite_link"].rsplit("/", 1)[1]
    joined = await http.post(f"/join/{code}", json={"name": "Jo Join",
                                                    "email": unique_email("join"),
                                                    "password": PASSWORD})
    jo = joined.json()
    titles = ["Nutrition intake", "PHQ-9 quick depression assessment panel"]
    assert await _requests(http, owner, jo["user"]["id"]) == titles
    mine = (await http.get("/form-requests", headers=bearer(jo["token"]))).json()["requests"]
    assert all(r["from_intake_flow"] for r in mine) and len(mine) == 2
    threads = (await http.get("/threads", headers=bearer(jo["token"]))).json()["threads"]
    events = (await http.get(f"/threads/{threads[0]['id']}/events",
                             headers=bearer(jo["token"]))).json()["events"]
    assert [e["kind"] for e in events].count("form.requested") == 2

    # 2. A client moved into the group; moved out and back in: still once.
    client = await add_client(http, owner, name="Mo Mover", group_id=other["id"])
    assert await _requests(http, owner, client["id"]) == []
    for target in (group["id"], other["id"], group["id"]):
        await http.patch(f"/clients/{client['id']}", json={"group_id": target},
                         headers=owner.headers)
    assert await _requests(http, owner, client["id"]) == titles
    # 3. Added straight into the group by a provider.
    direct = await add_client(http, owner, name="Di Direct", group_id=group["id"])
    assert await _requests(http, owner, direct["id"]) == titles
    # The client list finds who has intake left to do.
    listed = (await http.get("/clients", params={"incomplete_intake": "true"},
                             headers=owner.headers)).json()["clients"]
    assert {c["name"] for c in listed} == {"Jo Join", "Mo Mover", "Di Direct"}


async def test_the_practice_default_flow_applies_to_new_clients_without_a_group_flow(
    http: httpx.AsyncClient,
) -> None:
    owner = await new_practice(http)
    welcome = await new_form(http, owner, "Welcome questions")
    await http.put("/intake-flows", json={"group_id": None, "form_ids": [welcome["id"]]},
                   headers=owner.headers)
    client = await add_client(http, owner, name="Default Dee")
    assert await _requests(http, owner, client["id"]) == ["Welcome questions"]
    # Setting it again replaces, it does not add a second default.
    await http.put("/intake-flows", json={"group_id": None, "form_ids": []},
                   headers=owner.headers)
    later = await add_client(http, owner, name="No Flow Nell")
    assert await _requests(http, owner, later["id"]) == []


async def test_intake_flows_read_back_for_admins_only(http: httpx.AsyncClient,
                                                      mailbox: Mailbox) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    form = await new_form(http, owner, "Welcome questions")
    group = (await http.post("/groups", json={"name": "G"}, headers=owner.headers)
             ).json()["group"]
    await http.put("/intake-flows", json={"group_id": group["id"], "form_ids": [form["id"]]},
                   headers=owner.headers)
    flows = (await http.get("/intake-flows", headers=owner.headers)).json()["flows"]
    assert flows == [{"group_id": group["id"], "form_ids": [form["id"]]}]
    assert (await http.get("/intake-flows", headers=provider.headers)).status_code == 403
