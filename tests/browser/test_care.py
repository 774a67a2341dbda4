"""Care between visits in the web client: a client logs weight and mood on a phone and sees the
chart; the provider's feed shows it live; the provider comments on a journal entry and the
client reads the comment; eating-disorder mode takes weight off the client's screen."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.ui import (
    PHONE,
    accept_invitation,
    add_client,
    api,
    fits,
    invitation_link,
    nav,
    sign_up,
    unique_email,
)
from tests.mailbox import Mailbox


def test_client_logs_on_a_phone_and_the_provider_sees_it_live_and_comments(
    pages: Any, mailbox: Mailbox, app_server: Any, shot: Any
) -> None:
    owner = pages.new()
    sign_up(owner, practice="Sunrise Wellness")
    email = unique_email("client")
    add_client(owner, "Robin Hart", email)
    add_client(owner, "Sam Lee", unique_email("sam"))
    nav(owner, "Feed")
    expect(owner.get_by_text("Nothing from your clients yet.")).to_be_visible()

    robin = pages.new(PHONE)
    accept_invitation(robin, invitation_link(mailbox, email))
    nav(robin, "My health")
    expect(robin.get_by_role("heading", name="My health")).to_be_visible()
    # An earlier weighing, from a scale's app, so the chart has a line.
    with api(robin, app_server.url) as http:
        me = http.get("/me").json()["user"]["id"]
        resp = http.post(f"/clients/{me}/metrics", json={
            "type": "body_weight", "value": 71.2, "unit": "kg",
            "measured_at": "2026-01-05T07:00:00Z"})
        assert resp.status_code == 201, resp.text

    form = robin.get_by_role("form", name="Log body weight")
    form.get_by_label("Body weight").fill("154")
    form.get_by_label("Unit").select_option(label="lb")
    form.get_by_role("button", name="Log").click()
    weight_chart = robin.locator("svg.chart[data-type='body_weight']")
    expect(weight_chart).to_have_attribute("data-points", "2")
    expect(weight_chart.locator("polyline")).to_have_count(1)
    robin.get_by_role("button", name="Good").click()
    expect(robin.locator("svg.chart[data-type='mood']")).to_have_attribute("data-points", "1")
    expect(robin.get_by_text("latest 69.9 kg")).to_be_visible()

    # The provider's feed fills in live, newest first.
    feed = owner.get_by_role("list").filter(has=owner.locator(".feed-item"))
    expect(feed.locator(".feed-item").first).to_contain_text("Mood: 4 of 5 (Good)")
    expect(feed).to_contain_text("Body weight: 69.9 kg")
    expect(owner.locator(".feed-item.unread")).to_have_count(3)

    # Robin writes in the journal; it arrives in the feed; the provider comments on it.
    robin.get_by_label("Kind", exact=True).select_option(label="Food")
    robin.get_by_label("Entry", exact=True).fill("Oatmeal with berries, then a long walk")
    robin.get_by_role("button", name="Add to journal").click()
    item = owner.locator(".feed-item[data-kind='journal.entry']")
    expect(item).to_contain_text("Food: Oatmeal with berries, then a long walk")
    item.get_by_role("button", name="Comment").click()
    item.get_by_label("Comment").fill("Lovely start to the day!")
    item.get_by_role("button", name="Comment", exact=True).last.click()
    expect(item.locator(".comments")).to_contain_text("Lovely start to the day!")
    item.get_by_role("button", name="☆ Star").click()
    expect(item.get_by_role("button", name="★ Starred")).to_be_visible()
    shot(owner, "feed-desktop")
    owner.get_by_role("button", name="Mark all read").click()
    expect(owner.locator(".feed-item.unread")).to_have_count(0)

    # The feed narrows to one client: Sam has done nothing yet, Robin everything above.
    owner.get_by_label("Client", exact=True).select_option(label="Sam Lee")
    expect(owner.get_by_text("Nothing here for this choice.")).to_be_visible()
    expect(owner.locator(".feed-item")).to_have_count(0)
    owner.get_by_label("Client", exact=True).select_option(label="Robin Hart")
    expect(item).to_contain_text("Food: Oatmeal with berries, then a long walk")
    shot(owner, "feed-one-client-desktop")

    # Robin sees the comment under the entry without reloading.
    entry = robin.locator(".journal-entry").first
    expect(entry.locator(".comments")).to_contain_text("Lovely start to the day!")
    fits(robin)
    # On a phone the top bar keeps the practice's name readable beside the bell.
    expect(robin.get_by_role("link", name="Notifications")).to_be_visible()
    name_box = robin.locator(".org-name").bounding_box()
    assert name_box is not None and name_box["width"] >= 70, name_box
    shot(robin, "health-phone")

    # The provider opens Robin's health page: charts of both, and eating-disorder mode.
    nav(owner, "Clients")
    owner.get_by_role("link", name="Robin Hart").click()
    owner.get_by_role("link", name="Health and journal").click()
    expect(owner.locator("svg.chart[data-type='body_weight']")).to_have_attribute(
        "data-points", "2")
    shot(owner, "client-health-desktop")
    owner.get_by_label("Eating-disorder mode: hide weight and BMI from the client").check()
    expect(owner.get_by_label("Eating-disorder mode: hide weight and BMI from the client")
           ).to_be_checked()
    robin.reload()
    expect(robin.get_by_role("heading", name="My health")).to_be_visible()
    expect(robin.locator("svg.chart[data-type='mood']")).to_be_visible()
    expect(robin.locator("svg.chart[data-type='body_weight']")).to_have_count(0)
    expect(robin.get_by_role("form", name="Log body weight")).to_have_count(0)
    # The team still sees it.
    expect(owner.locator("svg.chart[data-type='body_weight']")).to_have_attribute(
        "data-points", "2")
