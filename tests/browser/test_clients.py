"""Clients: added by a provider, invited by email, welcomed in their care chat; the client
portal; the client list; signing up with a group's link."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.ui import (
    PASSWORD,
    accept_invitation,
    add_client,
    delivered,
    invitation_link,
    nav,
    open_thread,
    section,
    send,
    set_welcome_message,
    sign_up,
    staffed_practice,
    thread_item,
    unique_email,
)

WELCOME = "Welcome to {practice_name}, {client_first_name}! You can message {provider_name} here."


def test_owner_adds_a_client_whose_link_sets_a_password_and_shows_the_welcome(
        pages, mailbox, app_server, shot):
    owner = pages.new()
    sign_up(owner, practice="Sunrise Wellness", name="Olivia Owner")
    set_welcome_message(owner, WELCOME)
    shot(owner, "settings-desktop")
    email = unique_email("casey")
    add_client(owner, "Casey Client", email)
    expect(owner.get_by_role("main")).to_contain_text("Invitation sent")
    shot(owner, "client-profile-desktop")

    link = invitation_link(mailbox, email)
    assert link.startswith(app_server.url + "/accept-invite?token=")
    client = pages.new()
    accept_invitation(client, link)
    welcome = "Welcome to Sunrise Wellness, Casey! You can message Olivia Owner here."
    expect(thread_item(client, "Your care team")).to_contain_text(welcome)
    # Their one chat opens on arrival, so the welcome is read at once (no badge left).
    open_thread(client, "Your care team")
    expect(thread_item(client, "Your care team").locator(".badge")).to_have_count(0)
    message = delivered(client, welcome)
    expect(message).to_have_count(1)
    expect(message.locator(".author")).to_have_text("Olivia Owner")
    expect(message.locator(".automated")).to_have_text("Automated")
    shot(client, "client-thread-desktop")

    # Nothing staff-only shows to the client: no staff screens, no team-only events.
    menu = client.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link")).to_have_text(
        [re.compile("^Chats"), "Appointments", "My health", "Today", "Forms", "Documents"])
    expect(client.locator(".team-only")).to_have_count(0)
    expect(client.locator("li[data-kind='invite.sent']")).to_have_count(0)
    client.goto("/#/clients")
    expect(client.get_by_role("heading", name="Page not found")).to_be_visible()
    client.goto("/#/settings")
    expect(client.get_by_role("heading", name="Page not found")).to_be_visible()

    # The owner's care chat shows the invitation (team only) and its acceptance.
    nav(owner, "Chats")
    open_thread(owner, "Casey Client")
    sent = owner.locator("li[data-kind='invite.sent']")
    expect(sent).to_contain_text(f"You sent an invitation to {email}")
    expect(sent.locator(".team-only")).to_have_text("Team only")
    expect(owner.locator("li[data-kind='invite.accepted']")).to_contain_text(
        "Casey Client accepted the invitation")

    # And they chat live both ways, with typing and unread badges.
    # (Back to the list within the page, not by loading it again: a fresh load opens a
    # client's one chat on arrival, which reads the message at once, racing the badge.)
    send(owner, "Hi Casey, how are you feeling?")
    client.goto("/#/")  # from /#/settings: the same page, only its route changes
    item = thread_item(client, "Your care team")
    expect(item.locator(".badge")).to_have_text("1")
    open_thread(client, "Your care team")
    expect(delivered(client, "Hi Casey, how are you feeling?")).to_have_count(1)
    expect(item.locator(".badge")).to_have_count(0)
    composer = client.get_by_role("textbox", name="Message")
    composer.press_sequentially("Much better", delay=30)
    expect(owner.locator(".typing")).to_have_text("Casey Client is typing…")
    composer.press("Enter")
    expect(delivered(owner, "Much better")).to_have_count(1)
    expect(delivered(owner, "Much better").locator(".author")).to_have_text("Casey Client")


def test_client_list_searches_and_filters_by_group_and_tag(pages, shot):
    owner = pages.new()
    sign_up(owner)
    nav(owner, "Settings")
    groups = section(owner, "Groups and sign-up links")
    groups.get_by_label("New group name").fill("Prenatal")
    groups.get_by_role("button", name="Create group").click()
    expect(groups.get_by_text("Prenatal", exact=True)).to_be_visible()
    tags = section(owner, "Tags")
    tags.get_by_label("New tag").fill("Diabetes")
    tags.get_by_role("button", name="Add tag").click()
    expect(tags.get_by_text("Diabetes")).to_be_visible()

    add_client(owner, "Ada Lovelace", group="Prenatal")
    add_client(owner, "Grace Hopper", tags=("Diabetes",))
    add_client(owner, "Alan Turing")
    nav(owner, "Clients")
    rows = owner.get_by_role("list", name="Clients").locator(".client-name")
    expect(rows).to_have_count(3)
    shot(owner, "clients-desktop")

    owner.get_by_label("Search clients").fill("grace")
    expect(rows).to_have_text(["Grace Hopper"])
    owner.get_by_label("Search clients").fill("")
    owner.get_by_label("Group").select_option(label="Prenatal")
    expect(rows).to_have_text(["Ada Lovelace"])
    owner.get_by_label("Group").select_option(label="All groups")
    owner.get_by_label("Tag").select_option(label="Diabetes")
    expect(rows).to_have_text(["Grace Hopper"])
    owner.get_by_label("Tag").select_option(label="All tags")
    expect(rows).to_have_count(3)

    # A client without email is not invited; the profile says so.
    owner.get_by_role("link", name=re.compile("Alan Turing")).click()
    expect(owner.get_by_role("main")).to_contain_text("No email")
    expect(owner.get_by_role("button", name=re.compile("invitation"))).to_have_count(0)


def test_a_client_signs_up_with_a_group_link(pages, mailbox):
    owner = pages.new()
    sign_up(owner, practice="Sunrise Wellness")
    set_welcome_message(owner, "Welcome, {client_first_name}!")
    groups = section(owner, "Groups and sign-up links")
    groups.get_by_label("New group name").fill("Prospective clients")
    groups.get_by_label("Kind").select_option(label="Prospective clients")
    groups.get_by_role("button", name="Create group").click()
    link = groups.get_by_label("Sign-up link for Prospective clients", exact=True)
    expect(link).to_have_value(re.compile(r"/join/"))
    url = link.input_value()

    client = pages.new()
    client.goto(url)
    expect(client.get_by_role("heading", name="Join Sunrise Wellness")).to_be_visible()
    client.get_by_label("Your name").fill("Jordan Joiner")
    client.get_by_label("Email").fill(unique_email("jordan"))
    client.get_by_label("Password").fill(PASSWORD)
    client.get_by_role("button", name="Create my login").click()
    expect(client.get_by_role("heading", name="Chats")).to_be_visible()
    assert "/join/" not in client.url
    open_thread(client, "Your care team")
    expect(delivered(client, "Welcome, Jordan!")).to_have_count(1)

    nav(owner, "Clients")
    owner.get_by_label("Group").select_option(label="Prospective clients")
    expect(owner.get_by_role("list", name="Clients").locator(".client-name")).to_have_text(
        ["Jordan Joiner"])

    # A rotated link stops working.
    nav(owner, "Settings")
    groups.get_by_role("button", name="New sign-up link for Prospective clients").click()
    expect(groups.get_by_role("status")).to_contain_text("old one stopped working")
    stale = pages.new()
    stale.goto(url)
    expect(stale.get_by_role("heading", name="Sign-up link not valid")).to_be_visible()


def test_a_client_of_two_practices_switches_between_them(pages, mailbox):
    email = unique_email("two")
    first = pages.new()
    sign_up(first, practice="Sunrise Wellness")
    add_client(first, "Riley Both", email)
    second = pages.new()
    sign_up(second, practice="Northside Therapy")
    add_client(second, "Riley Both", email)

    riley = pages.new()
    accept_invitation(riley, invitation_link(mailbox, email, count=1))
    # The second practice's link: this email has a login now, its password confirms it.
    accept_invitation(riley, invitation_link(mailbox, email, count=2))
    switcher = riley.get_by_label("Practice")
    expect(switcher.locator("option")).to_have_text(["Sunrise Wellness", "Northside Therapy"])
    expect(switcher.locator("option:checked")).to_have_text("Northside Therapy")
    send_first = "Hello Northside"
    open_thread(riley, "Your care team")
    send(riley, send_first)
    expect(delivered(riley, send_first)).to_have_count(1)
    switcher.select_option(label="Sunrise Wellness")
    expect(switcher.locator("option:checked")).to_have_text("Sunrise Wellness")
    open_thread(riley, "Your care team")
    expect(delivered(riley, send_first)).to_have_count(0)
    # Chats, Appointments, My health, Today, Forms and Documents
    expect(riley.get_by_role("navigation", name="Main").get_by_role("link")).to_have_count(6)


def test_an_admin_reads_a_care_chat_and_joins_the_care_team(pages, mailbox):
    owner, pat = staffed_practice(pages, mailbox)
    # Pat (a provider) adds a client: Pat is the primary provider, the owner is not in the team.
    set_welcome_message(owner, "Hi {client_first_name}, I am {provider_first_name}.")
    add_client(pat, "Casey Client")
    expect(pat.get_by_label("Primary provider")).to_have_value(re.compile(".+"))

    nav(owner, "Clients")
    owner.get_by_role("link", name=re.compile("Casey Client")).click()
    owner.get_by_role("link", name="Open care chat").click()
    expect(delivered(owner, "Hi Casey, I am Pat.")).to_have_count(1)
    expect(owner.get_by_role("note")).to_contain_text("You are not in this conversation")
    expect(owner.get_by_role("textbox", name="Message")).to_have_count(0)

    # The owner adds themself to the care team: the care chat joins their list, live.
    owner.go_back()
    care = section(owner, "Care team")
    care.get_by_role("checkbox", name="Olivia Owner").check()
    care.get_by_role("button", name="Save care team").click()
    expect(care.get_by_role("status")).to_have_text("Care team saved.")
    nav(owner, "Chats")
    open_thread(owner, "Casey Client")
    expect(owner.locator("li[data-kind='care_team.updated']")).to_contain_text(
        "You updated the care team: added You")
    send(owner, "Joining Pat on your team")
    nav(pat, "Chats")
    open_thread(pat, "Casey Client")
    expect(delivered(pat, "Joining Pat on your team")).to_have_count(1)
    expect(pat.locator("li[data-kind='care_team.updated']")).to_contain_text(
        "Olivia Owner updated the care team: added Olivia Owner")
