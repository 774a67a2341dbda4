"""Entry screens: a practice signs up, invites someone by email, the link sets a password."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.ui import (
    PASSWORD,
    accept_invitation,
    invitation_link,
    invite_member,
    log_in,
    log_out,
    reset_link,
    sign_up,
    unique_email,
)


def test_owner_signs_up_invites_and_the_link_sets_a_password(pages, mailbox, app_server, shot):
    owner = pages.new()
    owner_email = sign_up(owner, practice="Sunrise Wellness", name="Olivia Owner")
    expect(owner.get_by_role("banner")).to_contain_text("Sunrise Wellness")
    expect(owner.get_by_role("banner")).to_contain_text("Olivia Owner")

    # The owner adds someone who will need the invitation link (a provider today: the
    # clients API does not exist yet, and both go through the same /accept-invite screen).
    email = unique_email("pat")
    invite_member(owner, "Pat Provider", email)
    team = owner.get_by_role("list").filter(has_text="Pat Provider")
    expect(team).to_contain_text("invitation sent")
    shot(owner, "team-desktop")

    link = invitation_link(mailbox, email)
    assert link.startswith(app_server.url + "/accept-invite?token=")
    pat = pages.new()
    pat.goto(link)
    # The link says which practice it is for, and that a new password is wanted.
    expect(pat.get_by_role("heading", name="Set your password")).to_be_visible()
    expect(pat.get_by_role("main")).to_contain_text(
        f"Sunrise Wellness invited you to Carethread. Choose a password for {email}")
    shot(pat, "accept-invite-desktop")
    accept_invitation(pat, link)
    assert "token" not in pat.url  # the spent token leaves the address bar
    expect(pat.get_by_role("banner")).to_contain_text("Sunrise Wellness")
    expect(pat.get_by_role("banner")).to_contain_text("Pat Provider")

    # The owner's team list now shows Pat as active.
    owner.reload()
    expect(owner.get_by_role("list").filter(has_text="Pat Provider")).not_to_contain_text(
        "invitation sent")

    # Pat logs out and back in with the password just set.
    log_out(pat)
    log_in(pat, email)
    expect(pat.get_by_role("heading", name="Chats")).to_be_visible()

    # The link is spent: opening it again says so at once and points to log in.
    again = pages.new()
    again.goto(link)
    expect(again.get_by_role("alert")).to_contain_text("already been used")
    expect(again.get_by_label("Password", exact=True)).to_have_count(0)
    expect(again.get_by_role("link", name="Go to log in")).to_be_visible()

    # And the owner can log in again too.
    log_out(owner)
    log_in(owner, owner_email)
    expect(owner.get_by_role("heading", name="Chats")).to_be_visible()


def test_wrong_password_and_taken_email_are_explained(pages):
    page = pages.new()
    email = sign_up(page)
    log_out(page)
    log_in(page, email, "not the password")
    expect(page.get_by_role("alert")).to_have_text(
        "That email and password do not match an account.")

    page.goto("/#/signup")
    page.get_by_label("Practice name").fill("Second Practice")
    page.get_by_label("Your name").fill("Someone")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create practice").click()
    expect(page.get_by_role("alert")).to_contain_text("already has a Carethread login")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")


def test_broken_invitation_links_are_explained(pages):
    page = pages.new()
    page.goto("/accept-invite")
    expect(page.get_by_role("heading", name="Invitation link incomplete")).to_be_visible()
    page.goto("/accept-invite?token=not-a-real-token")
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    expect(page.get_by_role("button", name="Set password and continue")).to_have_count(0)


def test_forgot_password_emails_a_link_that_sets_a_new_one(pages, mailbox, app_server):
    page = pages.new()
    email = sign_up(page)
    log_out(page)
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("status")).to_contain_text("reset link is on its way")

    link = reset_link(mailbox, email)
    assert link.startswith(app_server.url + "/reset-password?token=")
    page.goto(link)
    page.get_by_label("New password").fill("a brand new password")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your new password is set")
    assert "token" not in page.url
    page.get_by_role("link", name="Log in").click()
    log_in(page, email, "a brand new password")
    expect(page.get_by_role("heading", name="Chats")).to_be_visible()

    # The link works once.
    again = pages.new()
    again.goto(link)
    again.get_by_label("New password").fill("yet another password")
    again.get_by_role("button", name="Set new password").click()
    expect(again.get_by_role("alert")).to_contain_text("already used")


def test_a_login_of_two_practices_chooses_and_switches(pages, mailbox, shot):
    email = unique_email("both")
    first = pages.new()
    sign_up(first, practice="Sunrise Wellness")
    invite_member(first, "Pat Provider", email)
    second = pages.new()
    sign_up(second, practice="Northside Therapy")
    invite_member(second, "Pat Provider", email)

    pat = pages.new()
    accept_invitation(pat, invitation_link(mailbox, email, count=1))
    log_out(pat)
    # The second invitation: this email has a login now, so its password confirms it, and
    # the link says so before anything is typed.
    second_link = invitation_link(mailbox, email, count=2)
    pat.goto(second_link)
    expect(pat.get_by_role("heading", name="Join Northside Therapy")).to_be_visible()
    expect(pat.get_by_role("main")).to_contain_text(
        "Enter your existing Carethread password to add Northside Therapy")
    pat.get_by_label("Password", exact=True).fill("not my password")
    pat.get_by_role("button", name="Confirm password and continue").click()
    expect(pat.get_by_role("alert")).to_contain_text("already has a Carethread login")
    accept_invitation(pat, second_link)
    expect(pat.get_by_role("banner")).to_contain_text("Northside Therapy")
    log_out(pat)

    log_in(pat, email)
    expect(pat.get_by_role("heading", name="Choose a practice")).to_be_visible()
    shot(pat, "choose-practice-desktop")
    pat.get_by_role("button", name=re.compile("Northside Therapy")).click()
    switcher = pat.get_by_label("Practice")
    expect(switcher.locator("option:checked")).to_have_text("Northside Therapy")
    expect(pat.get_by_role("heading", name="Chats")).to_be_visible()

    # Switching needs no password: the session moves to the other practice.
    switcher.select_option(label="Sunrise Wellness")
    expect(pat.get_by_label("Practice").locator("option:checked")).to_have_text(
        "Sunrise Wellness")
    expect(pat.get_by_role("heading", name="Chats")).to_be_visible()
    pat.reload()
    expect(pat.get_by_label("Practice").locator("option:checked")).to_have_text(
        "Sunrise Wellness")
