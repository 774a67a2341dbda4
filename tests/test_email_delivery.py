"""Email goes through the outbox: an SMTP failure delays a message but never loses it."""

from __future__ import annotations

import httpx

from tests.helpers import new_practice, unique_email
from tests.mailbox import Mailbox


async def test_a_refused_delivery_is_retried_until_it_arrives(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    email = unique_email("provider")
    mailbox.fail_next(2)
    resp = await http.post("/providers", json={"name": "Rae", "email": email},
                           headers=owner.headers)
    assert resp.status_code == 201  # the request does not wait for, or fail with, SMTP
    mail = await mailbox.wait_for(email, wait=20)
    assert mail.token
    assert len(mailbox.to(email)) == 1
