"""Losing the network: messages wait as pending, then arrive exactly once; nothing is missed."""

from __future__ import annotations

import json
from collections import Counter

from playwright.sync_api import expect

from tests.browser.ui import (
    api,
    delivered,
    messages,
    open_thread,
    practice_with_client,
    send,
    staffed_practice,
    start_chat,
)


def bodies_on_server(page, base_url: str, thread_id: str) -> Counter[str]:
    with api(page, base_url) as http:
        events = http.get(f"/threads/{thread_id}/events", params={"limit": 200}).json()["events"]
    return Counter(e["body"] for e in events if e["kind"] == "message")


def test_offline_messages_pend_then_arrive_once_and_missed_ones_catch_up(
        pages, mailbox, app_server, shot):
    # `pat` is the client here: their network goes away.
    owner, pat = practice_with_client(pages, mailbox)
    open_thread(owner, "Casey Client")
    thread_id = owner.url.rsplit("/", 1)[-1]
    send(owner, "Are you there?")
    open_thread(pat, "Your care team")
    expect(delivered(pat, "Are you there?")).to_have_count(1)

    pat.context.set_offline(True)
    expect(pat.get_by_role("status").filter(has_text="You are offline")).to_be_visible()
    send(pat, "Typed while offline 1")
    send(pat, "Typed while offline 2")
    for text in ("Typed while offline 1", "Typed while offline 2"):
        pending = messages(pat, text)
        expect(pending).to_have_attribute("data-state", "pending")
        expect(pending.locator(".status")).to_have_text("Sending…")
    shot(pat, "offline-pending-desktop")

    send(owner, "Sent while Pat was away")
    expect(delivered(owner, "Sent while Pat was away")).to_have_count(1)
    pat.wait_for_timeout(1000)
    expect(messages(pat, "Sent while Pat was away")).to_have_count(0)
    expect(messages(owner, "Typed while offline 1")).to_have_count(0)

    pat.context.set_offline(False)
    expect(delivered(pat, "Sent while Pat was away")).to_have_count(1)
    for text in ("Typed while offline 1", "Typed while offline 2"):
        expect(delivered(pat, text)).to_have_count(1)
        expect(messages(pat, text)).to_have_count(1)
        expect(delivered(owner, text)).to_have_count(1)
    expect(pat.locator("li.msg[data-state]")).to_have_count(0)
    expect(pat.get_by_role("status").filter(has_text="You are offline")).to_have_count(0)
    # In the order they were written.
    bodies = pat.locator("li.msg[data-seq] p.body").all_inner_texts()
    assert bodies.index("Typed while offline 1") < bodies.index("Typed while offline 2")

    counts = bodies_on_server(owner, app_server.url, thread_id)
    assert counts["Typed while offline 1"] == 1
    assert counts["Typed while offline 2"] == 1

    # A reload shows the same history, each message once.
    pat.reload()
    for text in ("Are you there?", "Typed while offline 1", "Typed while offline 2",
                 "Sent while Pat was away"):
        expect(delivered(pat, text)).to_have_count(1)


def test_a_lost_send_or_lost_ack_is_retried_with_the_same_client_id(
        pages, mailbox, app_server):
    owner, pat = staffed_practice(pages, mailbox)
    start_chat(owner, ["Pat Provider"])
    thread_id = owner.url.rsplit("/", 1)[-1]

    # Pat's socket goes through a route that can lose frames, like a flaky network.
    plan = {"drop_send": None, "drop_answers_to": None}
    sends: list[dict] = []

    def route(ws):
        server = ws.connect_to_server()

        def from_page(message):
            frame = json.loads(message)
            if frame.get("type") == "send":
                sends.append(frame)
                if frame["body"] == plan["drop_send"]:
                    plan["drop_send"] = None
                    ws.close()  # the frame never reached the server; the socket dies
                    return
            server.send(message)

        def from_server(message):
            frame = json.loads(message)
            event = frame.get("event") or {}
            if plan["drop_answers_to"] and event.get("body") == plan["drop_answers_to"]:
                if frame["type"] == "event":
                    plan["drop_answers_to"] = None
                    ws.close()  # stored, but neither ack nor event reached the page
                return
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    pat.route_web_socket("**/api/v1/ws", route)
    pat.reload()
    open_thread(pat, "Olivia Owner")

    plan["drop_send"] = "Lost on the way"
    send(pat, "Lost on the way")
    expect(delivered(pat, "Lost on the way")).to_have_count(1)
    expect(delivered(owner, "Lost on the way")).to_have_count(1)
    tries = [f["client_id"] for f in sends if f["body"] == "Lost on the way"]
    assert len(tries) >= 2 and len(set(tries)) == 1, tries

    plan["drop_answers_to"] = "Stored but not acknowledged"
    send(pat, "Stored but not acknowledged")
    expect(delivered(pat, "Stored but not acknowledged")).to_have_count(1)
    expect(delivered(owner, "Stored but not acknowledged")).to_have_count(1)
    tries = [f["client_id"] for f in sends if f["body"] == "Stored but not acknowledged"]
    assert len(set(tries)) == 1, tries

    counts = bodies_on_server(owner, app_server.url, thread_id)
    assert counts["Lost on the way"] == 1
    assert counts["Stored but not acknowledged"] == 1


def test_logging_out_in_one_tab_ends_the_session_in_the_other(pages, mailbox):
    _owner, pat = staffed_practice(pages, mailbox)
    second_tab = pat.context.new_page()
    second_tab.goto("/")
    expect(second_tab.get_by_role("heading", name="Chats")).to_be_visible()
    pat.get_by_role("button", name="Log out").click()
    expect(second_tab.get_by_role("heading", name="Log in")).to_be_visible()
    expect(second_tab.get_by_role("status").filter(has_text="session has ended")).to_be_visible()
