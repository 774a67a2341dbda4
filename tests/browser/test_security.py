"""The page carries a strict Content-Security-Policy (no inline script or style, no eval, no
other origin) and the client works under it; unsafe requests carry the CSRF header."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.ui import add_client, delivered, nav, open_thread, send, sign_up

WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def test_the_client_works_under_its_strict_content_security_policy(pages):
    page = pages.new()
    page.add_init_script(WATCH)
    unsafe: list[tuple[str, str, str | None]] = []
    page.on("request", lambda r: unsafe.append((r.method, r.url, r.headers.get("x-csrf-token")))
            if r.method not in ("GET", "HEAD", "OPTIONS") else None)

    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    # The policy is in force: an injected inline script does not run.
    ran = page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1';
        document.body.append(s);
        return window.__inline === 1;
    }""")
    assert not ran
    page.wait_for_function("() => window.__violations.length > 0")
    page.evaluate("() => { window.__violations = []; }")

    sign_up(page)
    add_client(page, "Casey Client")
    nav(page, "Chats")
    open_thread(page, "Casey Client")
    send(page, "Under a strict policy")
    expect(delivered(page, "Under a strict policy")).to_have_count(1)
    page.get_by_role("textbox", name="Message").fill("resize me\nplease")
    assert page.evaluate("() => window.__violations") == []

    # Every unsafe request with a session carried the CSRF token (sign-up has no session yet).
    assert unsafe[0][0] == "POST" and unsafe[0][1].endswith("/api/v1/organizations")
    assert all(token for _, _, token in unsafe[1:]), unsafe
