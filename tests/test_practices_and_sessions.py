"""A practice owner signs up, logs in and out; sessions end when they should."""

from __future__ import annotations

import httpx

from tests.conftest import Server, app_client
from tests.helpers import PASSWORD, bearer, login, new_practice, unique_email


async def test_health_answers(server: Server) -> None:
    async with httpx.AsyncClient() as client:
        resp = await client.get(server.url + "/health")
    assert resp.status_code == 200


async def test_openapi_schema_is_published(server: Server) -> None:
    async with httpx.AsyncClient() as client:
        resp = await client.get(server.url + "/schema/openapi.json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    for path in ["/api/v1/organizations", "/api/v1/sessions", "/api/v1/me", "/api/v1/bots"]:
        assert path in paths


async def test_an_owner_signs_up_and_sees_their_practice(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http, "Harbor Therapy")
    resp = await http.get("/me", headers=owner.headers)
    assert resp.status_code == 200
    body = resp.json()
    assert body["role"] == "owner"
    assert body["organization"]["name"] == "Harbor Therapy"
    assert body["user"]["id"] == owner.id
    assert body["user"]["email"] == owner.email


async def test_an_email_cannot_sign_up_twice(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    resp = await http.post("/organizations", json={
        "name": "Other", "owner": {"name": "X", "email": owner.email.upper(), "password": PASSWORD}
    })
    assert resp.status_code == 409
    assert resp.json()["code"] == "email_taken"


async def test_login_lists_profiles_and_logout_ends_the_token_at_once(
    http: httpx.AsyncClient,
) -> None:
    owner = await new_practice(http)
    resp = await login(http, owner.email)
    assert resp.status_code == 201
    body = resp.json()
    assert body["user"]["id"] == owner.id
    assert [p["organization_id"] for p in body["profiles"]] == [owner.org_id]
    token = body["token"]
    assert (await http.get("/me", headers=bearer(token))).status_code == 200
    assert (await http.delete("/sessions/current", headers=bearer(token))).status_code == 204
    resp = await http.get("/me", headers=bearer(token))
    assert resp.status_code == 401
    assert resp.json()["code"] == "unauthenticated"
    # The signup session is a different token and still works.
    assert (await http.get("/me", headers=owner.headers)).status_code == 200


async def test_unknown_email_and_wrong_password_get_the_same_answer(
    http: httpx.AsyncClient,
) -> None:
    owner = await new_practice(http)
    wrong = await login(http, owner.email, "not the password")
    unknown = await login(http, unique_email("nobody"), "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"


async def test_repeated_failures_are_rate_limited(http: httpx.AsyncClient) -> None:
    owner = await new_practice(http)
    codes = [(await login(http, owner.email, f"guess-{i}")).status_code for i in range(10)]
    assert codes == [401] * 10
    resp = await login(http, owner.email)  # even the right password waits now
    assert resp.status_code == 429
    assert resp.json()["code"] == "rate_limited"
    assert int(resp.headers["Retry-After"]) > 0
    # Other people are not locked out.
    other = await new_practice(http)
    assert (await login(http, other.email)).status_code == 201


async def test_missing_and_bad_tokens_are_unauthenticated(http: httpx.AsyncClient) -> None:
    for headers in [{}, bearer("not-a-token"), {"Authorization": "Basic abc"}, bearer("x" * 500)]:
        resp = await http.get("/me", headers=headers)
        assert resp.status_code == 401, headers
        assert resp.json()["code"] == "unauthenticated"


async def test_a_browser_session_uses_an_httponly_cookie_and_needs_csrf(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url + "/api/v1") as plain:
        owner = await new_practice(plain)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1") as browser:
        resp = await browser.post("/sessions", json={"email": owner.email, "password": PASSWORD})
        assert resp.status_code == 201
        cookies = resp.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("carethread_session="))
        assert "HttpOnly" in session and "SameSite=lax" in session.replace("Lax", "lax")
        assert (await browser.get("/me")).status_code == 200
        # An unsafe request on the cookie alone is refused, and changes nothing.
        resp = await browser.post("/bots", json={"name": "Sneaky"})
        assert resp.status_code == 403
        assert resp.json()["code"] == "csrf_failed"
        csrf = browser.cookies["carethread_csrf"]
        resp = await browser.post("/bots", json={"name": "Helper"},
                                  headers={"X-CSRF-Token": csrf})
        assert resp.status_code == 201
        resp = await browser.delete("/sessions/current", headers={"X-CSRF-Token": csrf})
        assert resp.status_code == 204
        assert (await browser.get("/me")).status_code == 401


async def test_an_idle_session_expires(start_server: object) -> None:
    srv = start_server(SESSION_IDLE_TIMEOUT_SECONDS="1")  # type: ignore[operator]
    async with app_client(srv.url) as http:
        owner = await new_practice(http)
        import asyncio

        await asyncio.sleep(1.5)
        assert (await http.get("/me", headers=owner.headers)).status_code == 401


async def test_the_web_page_is_served_with_protective_headers(server: Server) -> None:
    async with httpx.AsyncClient() as client:
        for path in ("/", "/accept-invite?token=x", "/join/abc", "/reset-password"):
            resp = await client.get(server.url + path)
            assert resp.status_code == 200 and resp.headers["content-type"].startswith(
                "text/html")
            assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
            assert resp.headers["x-content-type-options"] == "nosniff"
            assert resp.headers["referrer-policy"] == "no-referrer"
        asset = await client.get(server.url + "/static/app.css")
        assert asset.status_code == 200 and "no-cache" in asset.headers["cache-control"]
