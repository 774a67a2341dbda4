"""Web Push: a real push endpoint run by the test checks the VAPID signature against
GET /push/key and decrypts the payload (RFC 8291, aes128gcm) with the subscription's own
keys; the notification holds no content; subscriptions answered 404/410 are dropped."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from typing import Any

import http_ece
import httpx
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.helpers import Person, accept, add_client, invite_staff, new_practice, say, unique_email
from tests.mailbox import Mailbox
from tests.receiver import Receiver, running


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """What a browser holds for one subscription: its ECDH key pair and auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def subscription(self) -> dict[str, Any]:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": b64u(public), "auth": b64u(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth,
                                 version="aes128gcm")
        return dict(json.loads(plain))


def check_vapid(authorization: str, server_key: str, audience: str) -> dict[str, Any]:
    """`vapid t=<JWT>, k=<key>`: the key is the server's, the ES256 signature holds, the
    claims name this push service and have not expired."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid", authorization
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert fields["k"] == server_key
    head, claims, signature = fields["t"].split(".")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(server_key))
    raw = unb64u(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise AssertionError("VAPID signature does not verify") from exc
    body = json.loads(unb64u(claims))
    assert body["aud"] == audience and body["exp"] > time.time() and body["sub"]
    return dict(body)


async def _subscribe(http: httpx.AsyncClient, person: Person, browser: Browser
                     ) -> httpx.Response:
    return await http.post("/push/subscriptions", json=browser.subscription(),
                           headers=person.headers)


async def test_a_push_wakes_the_device_with_no_content_and_dead_subscriptions_go(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    async def push_service(_: Receiver, request: web.Request, __: bytes) -> int:
        return 410 if request.path.startswith("/gone") else 201

    pushes = await running(push_service)
    try:
        key = (await http.get("/push/key")).json()["public_key"]
        assert len(unb64u(key)) == 65
        owner = await new_practice(http, "Birch Counselling")
        provider = await invite_staff(http, mailbox, owner, name="Robin Provider")
        email = unique_email("client")
        client = await add_client(http, provider, name="Morgan Secretname", email=email)
        morgan = await accept(http, (await mailbox.wait_for(email)).token)
        tid = client["care_thread_id"]

        phone = Browser(pushes.url + "/push/phone")
        laptop = Browser(pushes.url + "/push/laptop")
        old = Browser(pushes.url + "/gone/old-laptop")
        for person, browser in ((provider, phone), (morgan, laptop), (provider, old)):
            resp = await _subscribe(http, person, browser)
            assert resp.status_code == 201, resp.text

        secret = "My blood test came back, the HIV result is negative"
        await say(http, morgan, tid, secret)
        [got] = await pushes.wait("/push/phone", 1)
        assert got.headers["Content-Encoding"] == "aes128gcm"
        check_vapid(got.headers["Authorization"], key, pushes.url)
        shown = phone.decrypt(got.body)
        assert shown["title"] == "Birch Counselling" and shown["body"] == "New message"
        assert shown["url"] == f"/#/threads/{tid}"
        for leak in (secret, "HIV", "Morgan", "Secretname"):
            assert leak not in json.dumps(shown) and leak.encode() not in got.body
        assert not pushes.on("/push/laptop")  # the author's own device is not nudged

        # The dead subscription was answered 410 and is gone; the live one stays.
        await pushes.wait("/gone/old-laptop", 1)
        subs: list[Any] = []
        for _ in range(50):
            subs = (await http.get("/push/subscriptions", headers=provider.headers)
                    ).json()["subscriptions"]
            if len(subs) == 1:
                break
            await asyncio.sleep(0.1)
        assert [s["endpoint"] for s in subs] == [phone.endpoint]

        reply = "Great news, Morgan - see you Thursday"
        await say(http, provider, tid, reply)
        [to_client] = await pushes.wait("/push/laptop", 1)
        check_vapid(to_client.headers["Authorization"], key, pushes.url)
        shown = laptop.decrypt(to_client.body)
        assert shown["body"] == "New message from your care team"
        assert "Thursday" not in json.dumps(shown) and "Robin" not in json.dumps(shown)
        with_wrong_key = Browser(laptop.endpoint)
        try:
            with_wrong_key.decrypt(to_client.body)
        except Exception:
            pass
        else:
            raise AssertionError("the payload must only open with the subscription's keys")
    finally:
        await pushes.stop()


async def test_push_subscriptions_refuse_bad_input(
    http: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    owner = await new_practice(http)
    other = await new_practice(http, "Elsewhere")
    good = Browser("https://push.example.org/v1/abc").subscription()
    cases = [
        {**good, "endpoint": "http://push.example.org/x"},
        {**good, "endpoint": "https://169.254.169.254/x"},
        {**good, "endpoint": "javascript:alert(1)"},
        {**good, "keys": {"p256dh": "short", "auth": good["keys"]["auth"]}},
        {**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": "!!"}},
        {"endpoint": good["endpoint"]},
        [],
    ]
    for body in cases:
        resp = await http.post("/push/subscriptions", json=body, headers=owner.headers)
        assert resp.status_code == 400, (body, resp.text)
    assert (await http.post("/push/subscriptions", json=good)).status_code == 401
    resp = await http.post("/push/subscriptions", json=good, headers=owner.headers)
    assert resp.status_code == 201
    sub_id = resp.json()["subscription"]["id"]
    assert (await http.delete(f"/push/subscriptions/{sub_id}", headers=other.headers)
            ).status_code == 404
    assert (await http.get("/push/subscriptions", headers=other.headers)
            ).json()["subscriptions"] == []
    assert (await http.delete(f"/push/subscriptions/{sub_id}", headers=owner.headers)
            ).status_code == 204
    assert (await http.get("/push/subscriptions", headers=owner.headers)
            ).json()["subscriptions"] == []
