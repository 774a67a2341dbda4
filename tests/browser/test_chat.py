"""Chat in two browser contexts: live both ways, typing, unread badges, order, history, XSS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.browser.ui import (
    add_client,
    api,
    delivered,
    nav,
    open_thread,
    section,
    send,
    staffed_practice,
    start_chat,
    thread_item,
)


def test_two_people_chat_live_both_ways_with_typing_unread_and_read_markers(
        pages, mailbox, shot):
    owner, pat = staffed_practice(pages, mailbox)
    start_chat(owner, ["Pat Provider"])
    send(owner, "Hello Pat, welcome aboard")
    expect(delivered(owner, "Hello Pat, welcome aboard")).to_have_count(1)
    expect(owner.get_by_role("textbox", name="Message")).to_have_value("")

    # Pat, on the thread list, sees the new thread with its preview and an unread badge.
    item = thread_item(pat, "Olivia Owner")
    expect(item).to_contain_text("Hello Pat, welcome aboard")
    expect(item.locator(".badge")).to_have_text("1")
    expect(pat.get_by_role("link", name=re.compile("Chats"))).to_contain_text("1")
    send_more = "Second note before Pat opens it"
    send(owner, send_more)
    expect(item.locator(".badge")).to_have_text("2")

    open_thread(pat, "Olivia Owner")
    expect(delivered(pat, "Hello Pat, welcome aboard")).to_have_count(1)
    expect(delivered(pat, send_more)).to_have_count(1)
    expect(item.locator(".badge")).to_have_count(0)
    # Who wrote it and when.
    bubble = delivered(pat, send_more)
    expect(bubble.locator(".author")).to_have_text("Olivia Owner")
    expect(bubble.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    # The owner sees that Pat read up to there, also after a reload (members' read positions).
    expect(delivered(owner, send_more).locator(".seen")).to_have_text("Seen by Pat Provider")
    owner.reload()
    expect(delivered(owner, send_more).locator(".seen")).to_have_text("Seen by Pat Provider")
    expect(owner.locator(".seen")).to_have_count(1)

    # Typing shows on the other side, and goes away with the message.
    composer = pat.get_by_role("textbox", name="Message")
    composer.press_sequentially("On my w", delay=30)
    expect(owner.locator(".typing")).to_have_text("Pat Provider is typing…")
    composer.press_sequentially("ay", delay=30)
    composer.press("Enter")
    expect(delivered(owner, "On my way")).to_have_count(1)
    expect(delivered(owner, "On my way").locator(".author")).to_have_text("Pat Provider")
    expect(owner.locator(".typing")).to_have_text("")
    expect(delivered(pat, "On my way")).to_have_count(1)
    expect(delivered(pat, "On my way").locator(".author")).to_have_text("You")

    # Shift+Enter makes a new line; Enter sends both lines as one message.
    owner_composer = owner.get_by_role("textbox", name="Message")
    owner_composer.press_sequentially("Line one")
    owner_composer.press("Shift+Enter")
    owner_composer.press_sequentially("Line two")
    owner_composer.press("Enter")
    expect(delivered(pat, "Line one\nLine two")).to_have_count(1)
    shot(owner, "thread-desktop")

    # A second conversation goes to the top; a message in the first brings it back up, with
    # an unread badge while the owner reads the other one.
    start_chat(owner, ["Pat Provider"], title="Scheduling")
    titles = owner.get_by_role("list", name="Conversations").locator(".ti-title")
    expect(titles).to_have_text(["Scheduling", "Pat Provider"])
    send(pat, "One more thing")
    expect(titles).to_have_text(["Pat Provider", "Scheduling"])
    expect(thread_item(owner, "Pat Provider").locator(".badge")).to_have_text("1")
    expect(thread_item(pat, "Scheduling")).to_be_visible()
    shot(owner, "thread-list-unread-desktop")


def test_history_scrolls_back_with_day_separators_and_system_events(
        pages, mailbox, app_server):
    owner, pat = staffed_practice(pages, mailbox)
    start_chat(owner, ["Pat Provider"], title="Long thread")
    thread_id = owner.url.rsplit("/", 1)[-1]
    with api(owner, app_server.url) as http:
        for n in range(1, 131):
            resp = http.post(f"/threads/{thread_id}/messages",
                             json={"body": f"History message {n}", "client_id": f"seed-{n}"})
            assert resp.status_code == 201, resp.text
    owner.reload()
    expect(delivered(owner, "History message 130")).to_be_visible()
    expect(delivered(owner, "History message 1")).to_have_count(0)

    scroller = owner.get_by_label("Messages")
    for _ in range(10):
        if delivered(owner, "History message 1").count():
            break
        scroller.evaluate("el => { el.scrollTop = 0; }")
        owner.wait_for_timeout(300)
    expect(delivered(owner, "History message 1")).to_have_count(1)
    expect(owner.get_by_text("Start of the conversation")).to_be_visible()
    for n in (1, 50, 51, 80, 81, 130):
        expect(delivered(owner, f"History message {n}")).to_have_count(1)
    # All in order, once each.
    bodies = owner.locator("li.msg[data-seq] p.body").all_inner_texts()
    assert bodies == [f"History message {n}" for n in range(1, 131)]
    # One day, one separator; the thread's first event is a system line, not a message.
    expect(owner.locator("li.day")).to_have_count(1)
    expect(owner.locator("li.day")).to_have_text("Today")
    created = owner.locator("li.sys[data-kind='thread.created']")
    expect(created).to_have_text(re.compile("You started the conversation “Long thread”"))
    expect(created.locator(".bubble")).to_have_count(0)

    # A member added through the API shows live, as a system line in both views.
    with api(owner, app_server.url) as http:
        team = http.get("/team").json()["users"]
        pat_id = next(u["id"] for u in team if u["name"] == "Pat Provider")
        resp = http.post("/bots", json={"name": "Reminder Bot"})
        bot_id = resp.json()["user"]["id"]
        assert http.post(f"/threads/{thread_id}/members", json={"user_id": bot_id}
                         ).status_code == 201
    expect(owner.locator("li.sys[data-kind='member.added']")).to_have_text(
        re.compile("You added Reminder Bot"))
    assert pat_id
    open_thread(pat, "Long thread")
    expect(pat.locator("li.sys[data-kind='member.added']")).to_have_text(
        re.compile("Olivia Owner added Reminder Bot"))
    expect(pat.locator("li.sys[data-kind='member.added'] .bubble")).to_have_count(0)


XSS = "<img src=x onerror=alert(1)>"


def test_user_text_is_shown_as_text_never_as_html(pages, mailbox):
    owner, pat = staffed_practice(pages, mailbox, practice="<b>Bold</b> & Co",
                                  member="<i>Pat</i> Provider")
    expect(owner.get_by_role("banner")).to_contain_text("<b>Bold</b> & Co")
    start_chat(owner, ["<i>Pat</i> Provider"], title="<script>alert(2)</script>")
    send(owner, XSS)
    expect(delivered(owner, XSS)).to_have_count(1)
    open_thread(pat, "<script>alert(2)</script>")
    message = delivered(pat, XSS)
    expect(message.locator("p.body")).to_have_text(XSS)
    expect(pat.locator("main img, main b, main i, main script")).to_have_count(0)
    expect(owner.locator("main img, main b, main i, main script")).to_have_count(0)
    expect(thread_item(pat, "<script>alert(2)</script>")).to_contain_text(XSS)
    pat.wait_for_timeout(300)  # an onerror would have fired by now; `pages` fails on dialogs


def test_a_group_chat_with_team_members_and_a_client_and_a_bot_token(pages, mailbox):
    owner, pat = staffed_practice(pages, mailbox)
    add_client(owner, "Casey Client")
    owner.get_by_role("link", name="New chat with client").click()
    expect(owner.get_by_role("checkbox", name="Casey Client")).to_be_checked()
    owner.get_by_label("Title (optional)").fill("Nutrition plan")
    owner.get_by_role("checkbox", name="Pat Provider").check()
    owner.get_by_role("button", name="Start chat").click()
    expect(owner.get_by_role("heading", level=2, name="Nutrition plan")).to_be_visible()
    expect(owner.locator(".thread-members")).to_have_text("With Casey Client, Pat Provider")
    send(owner, "Here is the plan")
    open_thread(pat, "Nutrition plan")
    expect(delivered(pat, "Here is the plan")).to_have_count(1)

    # A bot: its token is shown once, ready to copy.
    nav(owner, "Team")
    bots = section(owner, "Add a bot")
    bots.get_by_label("Bot name").fill("Reminder Bot")
    bots.get_by_role("button", name="Add bot").click()
    token = bots.get_by_label("Token")
    expect(token).to_have_value(re.compile(r"\S{20,}"))
    expect(bots.get_by_role("status")).to_contain_text("shown only once")
    expect(owner.get_by_role("list").filter(has_text="Reminder Bot")).to_contain_text("Bot")


def test_day_separators_follow_the_local_calendar(pages, mailbox):
    owner, _pat = staffed_practice(pages, mailbox)
    start_chat(owner, ["Pat Provider"])
    send(owner, "Sent today")
    expect(owner.locator("li.day")).to_have_text(["Today"])
    # Seen from tomorrow, the same messages were sent yesterday.
    owner.clock.set_fixed_time(datetime.now(UTC) + timedelta(days=1))
    owner.reload()
    expect(delivered(owner, "Sent today")).to_have_count(1)
    expect(owner.locator("li.day")).to_have_text(["Yesterday"])
    owner.clock.set_fixed_time(datetime.now(UTC) + timedelta(days=9))
    owner.reload()
    expect(delivered(owner, "Sent today")).to_have_count(1)
    label = owner.locator("li.day").inner_text()
    assert label not in ("Today", "Yesterday") and str(datetime.now(UTC).year) in label, label


def test_members_are_added_and_leave_live_and_care_chats_follow_the_care_team(
        pages, mailbox, shot):
    owner, pat = staffed_practice(pages, mailbox)
    add_client(owner, "Casey Client")
    nav(owner, "Chats")
    start_chat(owner, ["Pat Provider"], title="Front desk")
    owner.get_by_role("button", name="Members").click()
    panel = owner.locator(".members-panel")
    panel.get_by_label("Add someone").select_option(label="Casey Client (Client)")
    panel.get_by_role("button", name="Add").click()
    expect(owner.locator("li.sys[data-kind='member.added']")).to_have_text(
        re.compile("You added Casey Client"))
    expect(panel.get_by_role("listitem")).to_have_count(3)
    expect(owner.locator(".thread-members")).to_have_text("With Casey Client, Pat Provider")
    shot(owner, "members-desktop")

    open_thread(pat, "Front desk")
    expect(pat.locator("li.sys[data-kind='member.added']")).to_have_text(
        re.compile("Olivia Owner added Casey Client"))
    pat.get_by_role("button", name="Members").click()
    pat.locator(".members-panel").get_by_role("button", name="Leave").click()
    expect(pat.get_by_text("You are no longer in this conversation.")).to_be_visible()
    expect(thread_item(pat, "Front desk")).to_have_count(0)
    expect(owner.locator("li.sys[data-kind='member.removed']")).to_have_text(
        re.compile("Pat Provider left the conversation"))
    expect(owner.locator(".thread-members")).to_have_text("With Casey Client")

    # A care chat's members are its care team: no adding or leaving here.
    open_thread(owner, "Casey Client")
    owner.get_by_role("button", name="Members").click()
    care = owner.locator(".members-panel")
    expect(care).to_contain_text("follows the client\u2019s care team")
    expect(care.get_by_role("button")).to_have_count(0)


def test_past_members_stay_named_after_leaving_the_chat_and_the_practice(pages, mailbox):
    owner, pat = staffed_practice(pages, mailbox)
    start_chat(owner, ["Pat Provider"], title="Front desk")
    open_thread(pat, "Front desk")
    send(pat, "Leaving you my notes")
    expect(delivered(owner, "Leaving you my notes")).to_have_count(1)
    pat.get_by_role("button", name="Members").click()
    pat.locator(".members-panel").get_by_role("button", name="Leave").click()
    expect(owner.locator("li.sys[data-kind='member.removed']")).to_have_text(
        re.compile("Pat Provider left the conversation"))

    # Pat leaves the practice too: neither the thread's members nor the team name Pat now.
    nav(owner, "Team")
    owner.get_by_role("button", name="Remove Pat Provider").click()
    owner.get_by_role("group", name="Remove Pat Provider").get_by_role(
        "button", name="Remove", exact=True).click()
    expect(owner.get_by_role("main")).not_to_contain_text("Pat Provider")
    nav(owner, "Chats")
    open_thread(owner, "Front desk")
    owner.reload()
    expect(delivered(owner, "Leaving you my notes").locator(".author")).to_have_text(
        "Pat Provider")
    expect(owner.locator("li.sys[data-kind='member.removed']")).to_have_text(
        re.compile("Pat Provider left the conversation"))
    expect(owner.get_by_role("main")).not_to_contain_text("Former member")
