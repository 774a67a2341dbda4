"""CSV import: a dry run lists every problem; the real run is all-or-nothing."""

from __future__ import annotations

import csv
import io

import httpx

from tests.helpers import invite_staff, new_practice, unique_email
from tests.mailbox import Mailbox


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["name", "email", "phone", "date_of_birth", "group",
                                             "tags", "primary_provider_email"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


async def test_a_thousand_rows_with_mixed_errors(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    provider = await invite_staff(http, mailbox, owner)
    await http.post("/groups", json={"name": "Imported"}, headers=owner.headers)
    taken = unique_email("taken")
    await http.post("/clients", json={"name": "Already Here", "email": taken},
                    headers=owner.headers)
    rows = [{
        "name": f"Client {i}", "email": f"import-{i}-{owner.id[:8]}@example.org",
        "phone": "(415) 555-0132", "date_of_birth": "1985-06-15", "group": "Imported",
        "tags": "imported; batch-1", "primary_provider_email": provider.email or "",
    } for i in range(1000)]
    bad = {
        10: ("name", ""),
        20: ("email", "not-an-email"),
        30: ("email", rows[31]["email"]),  # the same as the next row
        40: ("date_of_birth", "15/06/1985"),
        50: ("group", "Nonexistent"),
        60: ("primary_provider_email", "stranger@example.org"),
        70: ("email", taken),
    }
    for index, (field, value) in bad.items():
        rows[index][field] = value
    body = _csv(rows)
    headers = {**owner.headers, "Content-Type": "text/csv"}

    slow = 180  # a thousand clients, each with its care thread, in one transaction
    dry = await http.post("/clients/import", params={"dry_run": "true"}, content=body,
                          headers=headers, timeout=slow)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["rows"] == 1000 and report["valid"] == 993
    problems = {(e["row"], e["field"]) for e in report["errors"]}
    assert problems == {
        (11, "name"), (21, "email"), (32, "email"), (41, "date_of_birth"), (51, "group"),
        (61, "primary_provider_email"), (71, "email"),
    }

    real = await http.post("/clients/import", params={"dry_run": "false"}, content=body,
                           headers=headers, timeout=slow)
    assert real.status_code == 400 and real.json()["code"] == "import_invalid"
    assert len(real.json()["errors"]) == 7
    listed = (await http.get("/clients", params={"limit": 500}, headers=owner.headers)
              ).json()["clients"]
    assert [c["name"] for c in listed] == ["Already Here"]  # nothing was imported

    for index, (field, _) in bad.items():
        rows[index][field] = {"name": "Fixed Name", "email": f"fixed-{index}@example.org",
                              "date_of_birth": "1985-06-15", "group": "Imported",
                              "primary_provider_email": provider.email or ""}[field]
    fixed = await http.post("/clients/import", params={"dry_run": "false"},
                            content=_csv(rows), headers=headers, timeout=slow)
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["created"] == 1000
    page = (await http.get("/clients", params={"limit": 500, "search": "client 99"},
                           headers=owner.headers)).json()["clients"]
    sample = next(c for c in page if c["name"] == "Client 999")
    assert sample["group"]["name"] == "Imported"
    assert sorted(t["name"] for t in sample["tags"]) == ["batch-1", "imported"]
    assert sample["primary_provider"]["id"] == provider.id
    assert sample["invitation"] == "not_sent"  # invitations are optional, off by default


async def test_repeated_tags_in_a_row_count_once(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    headers = {**owner.headers, "Content-Type": "text/csv"}
    resp = await http.post("/clients/import", params={"dry_run": "false"},
                           content=b"name,tags\nAda,x;X;x | y\n", headers=headers)
    assert resp.status_code == 201, resp.text
    client = (await http.get("/clients", headers=owner.headers)).json()["clients"][0]
    assert sorted(t["name"] for t in client["tags"]) == ["x", "y"]


async def test_unreadable_files_are_refused(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    headers = {**owner.headers, "Content-Type": "text/csv"}
    huge_field = b"name,phone\nAda," + b"1" * 140_000 + b"\n"
    for body in (b"", b"email,phone\nx@y.org,1\n", b"\xff\xfe\x00bad", huge_field):
        resp = await http.post("/clients/import", content=body, headers=headers)
        assert resp.status_code == 400 and resp.json()["code"] == "import_unreadable"
