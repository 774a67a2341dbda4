"""Layout and keyboard: every key screen fits a phone's width and a desktop; keyboard users can
log in and chat, and see where the focus is."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.ui import (
    DESKTOP,
    PASSWORD,
    PHONE,
    add_client,
    delivered,
    fits,
    invitation_link,
    nav,
    open_thread,
    send,
    set_welcome_message,
    sign_up,
    thread_item,
    unique_email,
)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_key_screens_fit_the_window(pages, mailbox, shot, size):
    viewport = DESKTOP if size == "desktop" else PHONE
    owner = pages.new(viewport=viewport)
    owner.goto("/")
    fits(owner)
    shot(owner, f"login-{size}")
    owner.goto("/#/signup")
    fits(owner)
    shot(owner, f"signup-{size}")
    sign_up(owner, practice="Sunrise Wellness Collective of the Upper Valley")
    set_welcome_message(owner, "Welcome, {client_first_name}! Message us here any time.")
    fits(owner)
    shot(owner, f"settings-{size}")
    email = unique_email("casey")
    nav(owner, "Clients")
    owner.get_by_role("link", name="Add client").click()
    expect(owner.get_by_label("Name", exact=True)).to_be_visible()
    fits(owner)
    shot(owner, f"add-client-{size}")
    add_client(owner, "Casey Client", email)
    fits(owner)
    shot(owner, f"client-profile-{size}")
    nav(owner, "Clients")
    expect(owner.get_by_role("list", name="Clients")).to_be_visible()
    fits(owner)
    shot(owner, f"clients-{size}")
    nav(owner, "Team")
    fits(owner)
    shot(owner, f"team-{size}")
    nav(owner, "Forms")
    expect(owner.get_by_label("Import a FHIR Questionnaire (JSON file)")).to_be_visible()
    fits(owner)
    shot(owner, f"forms-{size}")
    owner.get_by_role("link", name="New form").click()
    owner.get_by_label("Title").fill("Intake questionnaire for new clients of the practice")
    for kind in ("Single choice", "Number", "Scale"):
        owner.get_by_label("New question type").select_option(label=kind)
        owner.get_by_role("button", name="Add question").click()
    owner.get_by_role("group", name="Question 3").get_by_label(
        "Only show when an earlier question has a given answer").check()
    fits(owner)
    shot(owner, f"form-builder-{size}")
    nav(owner, "Forms")
    owner.get_by_role("link", name="Requests").click()
    expect(owner.get_by_label("Show")).to_be_visible()
    fits(owner)
    shot(owner, f"form-requests-{size}")
    nav(owner, "Chats")
    owner.locator(".list-head").get_by_role("link", name="New chat").click()
    expect(owner.get_by_role("heading", name="New chat")).to_be_visible()
    fits(owner)
    shot(owner, f"new-chat-{size}")

    client = pages.new(viewport=viewport)
    client.goto(invitation_link(mailbox, email))
    fits(client)
    shot(client, f"accept-invite-{size}")
    client.get_by_label("Password", exact=True).fill(PASSWORD)
    client.get_by_role("button", name="Set password and continue").click()
    # One conversation: it opens by itself; on a phone "Chats" goes back to the list.
    expect(client.get_by_role("heading", level=2, name="Your care team")).to_be_visible()
    if size == "phone":
        client.get_by_role("link", name="Chats", exact=True).first.click()
    expect(thread_item(client, "Your care team")).to_be_visible()
    fits(client)
    shot(client, f"client-threads-{size}")
    open_thread(client, "Your care team")
    long_word = "Supercalifragilistic" * 8
    send(client, f"A long line without spaces: {long_word}")
    send(client, "Short one")
    nav(owner, "Chats")
    open_thread(owner, "Casey Client")
    send(owner, "Thanks Casey!\nSee you Tuesday.")
    expect(delivered(client, "Thanks Casey!\nSee you Tuesday.")).to_be_visible()
    fits(client)
    fits(owner)
    shot(client, f"client-thread-{size}")
    shot(owner, f"owner-thread-{size}")

    if size == "phone":
        # One pane at a time: the open thread hides the list; "Chats" goes back.
        expect(client.get_by_role("list", name="Conversations")).to_be_hidden()
        client.get_by_role("link", name="Chats", exact=True).first.click()
        expect(client.get_by_role("list", name="Conversations")).to_be_visible()
        expect(client.get_by_role("textbox", name="Message")).to_have_count(0)
    else:
        expect(client.get_by_role("list", name="Conversations")).to_be_visible()


def test_keyboard_alone_logs_in_and_sends_with_visible_focus(pages):
    email = sign_up(pages.new())
    page = pages.new()
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Chats")).to_be_visible()

    # Every control reached by Tab shows a visible focus ring.
    for _ in range(8):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; }")
        assert style[1] != "none" and style[2] != "0px", style

    # A chat, with only the keyboard: the New chat link, a checkbox, the button, the composer.
    add_client(page, "Kim Keyboard")
    nav(page, "Chats")
    open_thread(page, "Kim Keyboard")
    composer = page.get_by_role("textbox", name="Message")
    composer.focus()
    page.keyboard.type("Typed with the keyboard")
    page.keyboard.press("Enter")
    expect(page.locator("li.msg[data-seq] p.body", has_text="Typed with the keyboard")
           ).to_have_count(1)
    expect(composer).to_be_focused()
