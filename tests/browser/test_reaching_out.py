"""Reaching people away from the app, in the browser: sending later and cancelling, the push
prompt at a sensible moment (after sending, not on load), broadcasts from the clients list,
the notification settings, webhooks under practice settings."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import expect

from tests.browser.ui import (
    PHONE,
    api,
    delivered,
    fits,
    nav,
    open_thread,
    practice_with_client,
    section,
    send,
    sign_up,
)


def _local(delta: timedelta) -> str:
    return (datetime.now() + delta).strftime("%Y-%m-%dT%H:%M")


def test_a_provider_sends_later_cancels_and_is_offered_notifications_after_sending(
        pages, mailbox, app_server, shot):
    owner, client = practice_with_client(pages, mailbox)
    open_thread(owner, "Casey Client")
    # Nothing is offered on load.
    expect(owner.get_by_role("region", name="Notifications")).to_have_count(0)

    composer = owner.get_by_role("textbox", name="Message")
    composer.fill("Remember to log your sleep tonight")
    owner.get_by_role("button", name="Later…").click()
    owner.get_by_label("Send at").fill(_local(timedelta(days=1)))
    owner.get_by_role("button", name="Schedule", exact=True).click()
    waiting = owner.get_by_role("region", name="Scheduled messages")
    expect(waiting).to_contain_text("Scheduled for")
    expect(waiting).to_contain_text("Remember to log your sleep tonight")
    expect(composer).to_have_value("")
    expect(delivered(owner, "Remember to log your sleep tonight")).to_have_count(0)
    shot(owner, "send-later-desktop")

    # A time in the past is refused with a clear message.
    composer.fill("Too late")
    owner.get_by_role("button", name="Later…").click()
    owner.get_by_label("Send at").fill(_local(timedelta(hours=-2)))
    owner.get_by_role("button", name="Schedule", exact=True).click()
    expect(owner.get_by_role("group", name="Send later").get_by_role("alert")).to_have_text(
        "That time has passed. Pick a later one.")
    picker = owner.get_by_role("group", name="Send later")
    picker.get_by_role("button", name="Cancel", exact=True).click()

    # Cancel the scheduled one: it will not be sent.
    waiting.get_by_role("button", name="Cancel scheduled message").click()
    expect(owner.get_by_role("region", name="Scheduled messages")).to_have_count(0)
    with api(owner, app_server.url) as http:
        [cancelled] = http.get("/scheduled").json()["scheduled"]
        assert cancelled["status"] == "cancelled"

    # The client sees none of it.
    open_thread(client, "Your care team")
    expect(client.get_by_role("region", name="Scheduled messages")).to_have_count(0)

    # After sending a message (they now expect a reply), the browser may offer notifications.
    send(owner, "How did the first night go?")
    expect(delivered(owner, "How did the first night go?")).to_have_count(1)
    if owner.evaluate("() => 'PushManager' in window && Notification.permission") == "default":
        offer = owner.get_by_role("region", name="Notifications")
        expect(offer).to_contain_text("when someone replies")
        shot(owner, "push-offer-desktop")
        offer.get_by_role("button", name="Not now").click()
        expect(offer).to_have_count(0)
        owner.reload()
        send(owner, "Still here")
        expect(delivered(owner, "Still here")).to_have_count(1)
        expect(owner.get_by_role("region", name="Notifications")).to_have_count(0)


def test_broadcast_from_the_clients_list_with_progress(pages, mailbox, app_server, shot):
    owner = pages.new()
    sign_up(owner, practice="Harbor Health", name="Olivia Owner")
    with api(owner, app_server.url) as http:
        group = http.post("/groups", json={"name": "Spring cohort"}).json()["group"]
        clients = [http.post("/clients", json={"name": name, "group_id": group["id"],
                                               "send_invite": False}).json()["client"]
                   for name in ("Ana Lima", "Ben Okafor", "Chen Wu")]
    nav(owner, "Clients")
    owner.get_by_role("button", name="Message several").click()
    owner.get_by_role("checkbox", name="Select Ana Lima").check()
    owner.get_by_role("checkbox", name="Select Chen Wu").check()
    panel = section(owner, "Message several clients")
    expect(panel.get_by_label("The 2 selected clients")).to_be_checked()
    panel.get_by_label("Message").fill("Hi {client_first_name}, class moves to 6pm.")
    shot(owner, "broadcast-desktop")
    panel.get_by_role("button", name="Send", exact=True).click()
    progress = section(owner, "Broadcast")
    expect(progress.get_by_role("status")).to_contain_text("Sent to 2 of 2")
    expect(progress.get_by_role("status")).to_contain_text("Done.")
    shot(owner, "broadcast-progress-desktop")
    progress.get_by_role("button", name="Close").click()

    with api(owner, app_server.url) as http:
        def bodies(client: dict) -> list[str]:
            events = http.get(f"/threads/{client['care_thread_id']}/events",
                              params={"after": 0}).json()["events"]
            # The welcome message (on by default) opens every client's chat.
            return [e["body"] for e in events
                    if e["kind"] == "message" and "welcome to" not in e["body"]]

        assert bodies(clients[0]) == ["Hi Ana, class moves to 6pm."]
        assert bodies(clients[1]) == []
        assert bodies(clients[2]) == ["Hi Chen, class moves to 6pm."]

    # The whole group, later.
    owner.get_by_role("button", name="Message several").click()
    panel = section(owner, "Message several clients")
    panel.get_by_label("Everyone in a group").check()
    panel.get_by_label("Message").fill("See you all next week")
    panel.get_by_label("Send later").check()
    panel.get_by_label("Send at").fill(_local(timedelta(days=2)))
    panel.get_by_role("button", name="Schedule", exact=True).click()
    expect(section(owner, "Broadcast").get_by_role("status")).to_contain_text(
        "to 3 clients")


def test_notification_settings_and_webhooks(pages, mailbox, app_server, shot):
    owner = pages.new()
    sign_up(owner, practice="Quiet Pines", name="Olivia Owner")
    owner.get_by_role("link", name="Notifications").click()
    expect(owner.get_by_label("Email me when messages wait unread")).to_be_checked()
    owner.get_by_label("No emails about messages").check()
    expect(section(owner, "Email").get_by_role("status")).to_have_text("Saved.")
    shot(owner, "notifications-desktop")
    with api(owner, app_server.url) as http:
        assert http.get("/me/notifications").json() == {"notifications": {"email": "off"}}

    nav(owner, "Settings")
    hooks = section(owner, "Webhooks")
    hooks.get_by_label("URL").fill("http://169.254.169.254/latest")
    hooks.get_by_role("button", name="Add webhook").click()
    expect(hooks.get_by_role("alert")).to_contain_text("Link-local")
    hooks.get_by_label("URL").fill("https://hooks.example.org/carethread")
    hooks.get_by_label("Forms (requested, completed)").check()
    hooks.get_by_label("Trusted: also send team-only events").check()
    hooks.get_by_role("button", name="Add webhook").click()
    secret = hooks.locator(".webhook-secret")
    expect(secret).to_contain_text("whsec_")
    listed = hooks.get_by_role("list", name="Webhooks")
    expect(listed).to_contain_text("https://hooks.example.org/carethread")
    expect(listed).to_contain_text("message, form.*")
    expect(listed).to_contain_text("trusted")
    first_secret = secret.inner_text()
    hooks.get_by_role("button", name="New secret").click()
    expect(secret).not_to_have_text(first_secret)
    hooks.get_by_role("button", name="Deliveries").click()
    expect(hooks).to_contain_text("No deliveries yet.")
    shot(owner, "webhooks-desktop")
    hooks.get_by_role("button", name="Remove").click()
    expect(listed.get_by_role("listitem")).to_have_count(0)

    phone = pages.new(PHONE)
    from tests.browser.ui import log_in

    with api(owner, app_server.url) as http:
        email = http.get("/me").json()["user"]["email"]
    log_in(phone, email)
    phone.goto("/#/notifications")
    expect(phone.get_by_label("No emails about messages")).to_be_checked()
    fits(phone)
    shot(phone, "notifications-phone")
