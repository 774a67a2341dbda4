"""A new practice's first hour in the browser (issue 17): the checklist, the defaults, the chat
next to the products people know, and the checks a form should make."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.ui import (
    DESKTOP,
    PASSWORD,
    PHONE,
    accept_invitation,
    add_client,
    api,
    delivered,
    fits,
    invitation_link,
    invite_member,
    nav,
    open_thread,
    practice_with_client,
    send,
    sign_up,
    thread_item,
    unique_email,
)

FORM_ITEMS = [
    {"id": "story", "type": "long_text", "text": "Tell us your story", "required": False},
]


def checklist(page):
    return page.get_by_role("region", name="Set up your practice")


def test_an_owner_follows_the_checklist_until_it_goes_away(pages, mailbox, app_server, shot):
    owner = pages.new()
    sign_up(owner, practice="Bright Path Nutrition")
    guide = checklist(owner)
    expect(guide).to_be_visible()
    # The welcome message is on from the start, with a sensible text.
    expect(guide).to_contain_text("1 of 4 done")
    expect(guide.locator("li[data-step=welcome]")).to_have_class("done")
    shot(owner, "checklist-desktop")
    guide.get_by_role("link", name="Invite your first provider").click()
    expect(owner.get_by_role("heading", name="Team", exact=True)).to_be_visible()

    # A team invitation can be sent again from the Team screen; only the new link works.
    email = unique_email("pat")
    invite_member(owner, "Pat Provider", email)
    first = invitation_link(mailbox, email)
    owner.get_by_role("button", name="Resend invitation to Pat Provider").click()
    expect(owner.get_by_role("status").filter(has_text="New invitation sent")).to_contain_text(
        email)
    second = invitation_link(mailbox, email, count=2)
    assert second != first
    shot(owner, "team-resend-desktop")
    pat = pages.new()
    pat.goto(first)
    expect(pat.get_by_role("alert")).to_be_visible()
    accept_invitation(pat, second)

    nav(owner, "Settings")
    welcome = owner.get_by_label("Welcome text")
    expect(welcome).to_have_value(re.compile(r"\{client_first_name\}.*\{practice_name\}"))
    expect(owner.get_by_label("Send a welcome message to new clients")).to_be_checked()

    nav(owner, "Chats")
    expect(checklist(owner)).to_contain_text("2 of 4 done")
    add_client(owner, "Robin Hart")
    nav(owner, "Chats")
    expect(checklist(owner)).to_contain_text("3 of 4 done")

    # The builder shows what the client will see before saving.
    checklist(owner).get_by_role("link", name="Build your first form").click()
    owner.get_by_label("Title").fill("Sleep diary")
    owner.get_by_role("button", name="Add question").click()
    owner.get_by_label("Question text").first.fill("How did you sleep?")
    owner.get_by_role("button", name="Preview").click()
    preview = owner.locator(".preview")
    expect(preview.get_by_role("heading", name="Sleep diary")).to_be_visible()
    expect(preview.get_by_label("How did you sleep?")).to_be_visible()
    expect(owner.get_by_role("button", name="Create form")).to_be_hidden()
    shot(owner, "builder-preview-desktop")
    owner.get_by_role("button", name="Back to editing").click()
    owner.get_by_role("button", name="Create form").click()
    expect(owner.get_by_role("heading", name="Edit form")).to_be_visible()
    nav(owner, "Chats")
    expect(owner.get_by_role("heading", name="Chats")).to_be_visible()
    expect(checklist(owner)).to_have_count(0)


def test_a_client_with_one_chat_lands_in_it_with_the_welcome(pages, mailbox, app_server, shot):
    owner = pages.new()
    sign_up(owner, practice="Bright Path Nutrition", name="Olivia Owner")
    email = unique_email("client")
    add_client(owner, "Robin Hart", email)
    robin = pages.new(PHONE)
    robin.goto(invitation_link(mailbox, email))
    robin.get_by_label("Password", exact=True).fill(PASSWORD)
    robin.get_by_role("button", name="Set password and continue").click()
    expect(robin).to_have_url(re.compile(r"#/threads/"))
    expect(robin.get_by_role("heading", level=2, name="Your care team")).to_be_visible()
    welcome = robin.locator("li.msg").first
    expect(welcome.locator(".body")).to_contain_text(
        "Hi Robin, welcome to Bright Path Nutrition! I'm Olivia")
    expect(welcome.locator(".avatar")).to_have_text("OO")
    fits(robin)
    shot(robin, "client-lands-in-chat-phone")


def test_links_replies_reactions_avatars_and_unread_in_the_chat(pages, mailbox, app_server,
                                                                 shot):
    owner, casey = practice_with_client(pages, mailbox, client="Casey Client")
    open_thread(owner, "Casey Client")
    expect(owner.locator(".thread-head .avatar")).to_have_text("CC")
    send(owner, "Read https://example.org/sleep?x=1 (and www.example.com). "
                "Not javascript:alert(1) nor data:text/html,hi")
    casey.reload()
    body = casey.locator("li.msg[data-seq] p.body").last
    links = body.get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.first).to_have_attribute("href", "https://example.org/sleep?x=1")
    expect(links.first).to_have_attribute("rel", "noopener noreferrer")
    expect(links.first).to_have_attribute("target", "_blank")
    expect(links.nth(1)).to_have_attribute("href", "https://www.example.com/")
    assert "javascript" not in body.inner_html().split("</a>")[-1].split("javascript")[0]
    expect(body.locator("a[href^=javascript], a[href^=data]")).to_have_count(0)

    # Casey replies to it: the reply quotes it on both sides.
    message = casey.locator("li.msg[data-seq]").last
    message.get_by_role("button", name=re.compile("^Reply to")).click()
    expect(casey.locator(".replying")).to_contain_text("Replying to")
    send(casey, "Thanks, reading it now")
    reply = delivered(owner, "Thanks, reading it now")
    expect(reply.locator(".quote")).to_contain_text("Read https://example.org/sleep")
    expect(casey.locator(".replying")).to_have_count(0)

    # Olivia reacts; Casey sees it live, Olivia takes it back.
    reply.get_by_role("button", name=re.compile("^React to")).click()
    reply.get_by_role("button", name="👍").click()
    chip = delivered(casey, "Thanks, reading it now").locator(".reaction")
    expect(chip).to_have_text(re.compile("👍\\s*1"))
    expect(reply.locator(".reaction.mine")).to_have_count(1)
    shot(owner, "chat-reply-reaction-desktop")
    reply.locator(".reaction.mine").click()
    expect(chip).to_have_count(0)

    # The reactions and replies never counted as unread; messages do, the same in the badge,
    # the list and the title.
    nav(owner, "Clients")
    send(casey, "One more thing")
    send(casey, "And another")
    nav(owner, "Chats")
    item = thread_item(owner, "Casey Client")
    expect(item.locator(".badge")).to_have_text("2")
    expect(owner.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(
        "Chats"))).to_contain_text("2")
    expect(owner).to_have_title(re.compile(r"^\(2\) "))
    expect(item.locator(".avatar")).to_have_text("CC")


def test_request_a_form_from_the_chat_and_come_back_to_it(pages, mailbox, app_server, shot):
    owner, casey = practice_with_client(pages, mailbox, client="Casey Client")
    open_thread(owner, "Casey Client")
    owner.get_by_role("button", name="Request a form").click()
    panel = owner.locator(".request-panel")
    expect(panel).to_contain_text("No forms to request yet: build one or import one.")
    with api(owner, app_server.url) as http:
        resp = http.post("/forms", json={"title": "Life story", "items": FORM_ITEMS})
        assert resp.status_code == 201, resp.text
    owner.reload()
    owner.get_by_role("button", name="Request a form").click()
    panel = owner.locator(".request-panel")
    panel.get_by_role("checkbox", name="Life story").check()
    panel.get_by_role("button", name="Request forms").click()
    expect(panel.get_by_role("status")).to_contain_text("Requested “Life story” from Casey")
    expect(owner.locator("li[data-kind='form.requested']")).to_have_count(1)
    # The list previews the card, not the last message.
    expect(thread_item(owner, "Casey Client")).to_contain_text("requested “Life story”")

    # Casey fills it in: 10,001 characters are not cut, they are refused, visibly.
    casey.reload()
    casey.get_by_role("link", name="Open form").click()
    story = casey.get_by_label("Tell us your story")
    story.fill("a" * 10_001)
    expect(story).to_have_value("a" * 10_001)
    expect(casey.locator(".counter.over")).to_contain_text("1 characters over the limit of 10000")
    casey.get_by_role("button", name="Submit").click()
    expect(casey.locator(".field-error").first).to_contain_text("10000")
    story.fill("A short story.")
    expect(casey.locator(".counter")).to_have_count(0)
    casey.get_by_role("button", name="Submit").click()
    expect(casey.get_by_role("heading", name=re.compile("Thank"))).to_be_visible()

    # The header leads to the client's profile; the answers page leads back to this chat.
    chat_url = owner.url
    owner.locator("li[data-kind='form.completed']").get_by_role("link").first.click()
    expect(owner.get_by_role("heading", level=1, name="Life story")).to_be_visible()
    owner.get_by_role("link", name="Back to the chat").click()
    expect(owner).to_have_url(chat_url)
    owner.get_by_role("heading", level=2).get_by_role("link", name="Casey Client").click()
    expect(owner.get_by_role("heading", level=1, name="Casey Client")).to_be_visible()


def test_phone_birth_date_and_long_names_are_checked_in_the_browser(pages, app_server, shot):
    owner = pages.new()
    sign_up(owner)
    nav(owner, "Clients")
    owner.get_by_role("link", name="Add client").click()
    owner.get_by_label("Name", exact=True).fill("Pat Phone")
    owner.get_by_label("Phone (optional)").fill("call me maybe!!")
    owner.get_by_role("button", name="Add client").click()
    expect(owner.get_by_role("alert")).to_contain_text("country code")
    owner.get_by_label("Phone (optional)").fill("(415) 555-0132")
    owner.get_by_label("Date of birth (optional)").fill(
        (date.today() + timedelta(days=3)).isoformat())
    owner.get_by_role("button", name="Add client").click()
    expect(owner.get_by_role("alert")).to_contain_text("cannot be in the future")
    owner.get_by_label("Date of birth (optional)").fill("1990-04-01")
    owner.get_by_role("button", name="Add client").click()
    expect(owner.get_by_role("heading", level=1, name="Pat Phone")).to_be_visible()
    phone = owner.get_by_role("textbox", name="Phone", exact=True)
    expect(phone).to_have_value("+14155550132")
    expect(owner.get_by_label("Date of birth", exact=True)).to_have_value("1990-04-01")
    phone.fill("+1 555 0100")  # looks like one, is not: the server says
    owner.get_by_role("button", name="Save details").click()
    expect(owner.get_by_role("alert")).to_contain_text("not a phone number")

    long_name = "Z" * 200
    add_client(owner, long_name)
    nav(owner, "Chats")
    title = owner.locator(".ti-title", has_text=long_name)
    expect(title).to_have_attribute("title", long_name)
    title.click()
    head = owner.locator("#thread-title")
    expect(head).to_have_attribute("title", long_name)
    box = head.bounding_box()
    assert box and box["width"] < DESKTOP["width"] and box["height"] < 60
    fits(owner)
    owner.set_viewport_size(PHONE)
    fits(owner)
    shot(owner, "long-name-phone")


def test_the_api_browser_works_without_internet(pages, app_server):
    page = pages.new()
    outside: list[str] = []

    def only_here(route):
        if route.request.url.startswith(app_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    page.goto("/schema")
    expect(page.get_by_role("heading", name=re.compile("^Carethread"))).to_be_visible(
        timeout=20_000)
    expect(page.get_by_text("/api/v1/threads").first).to_be_attached()
    assert not [u for u in outside if "redoc" in u and u.endswith(".js")], outside
