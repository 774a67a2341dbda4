"""Files in the browser: attach by button, drag and drop and paste, with progress; images shown
through the session (never a public URL) and opened in a viewer; PDFs as cards; edit and
delete from a message's menu; search that opens the thread at the message; documents."""

from __future__ import annotations

import base64
import io
import re

from playwright.sync_api import expect

from tests.browser.ui import (
    PHONE,
    add_client,
    api,
    attach,
    delivered,
    fits,
    message_action,
    nav,
    open_thread,
    practice_with_client,
    search_chats,
    section,
    send,
    sign_up,
    staged,
    thread_item,
)


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (900, 600), (250, 236, 210))
    draw = ImageDraw.Draw(img)
    draw.ellipse((200, 100, 700, 520), fill=(255, 255, 255), outline=(120, 120, 120), width=8)
    draw.ellipse((330, 220, 470, 360), fill=(60, 160, 60))
    draw.rectangle((480, 260, 600, 380), fill=(230, 120, 40))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88)
    return out.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
       b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")


def _drop(page, selector: str, name: str, mime: str, data: bytes) -> None:
    page.evaluate(
        """([selector, name, mime, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: mime }));
            const target = document.querySelector(selector);
            target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true }));
            target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true }));
        }""", [selector, name, mime, base64.b64encode(data).decode()])


def _paste(page, name: str, mime: str, data: bytes) -> None:
    page.evaluate(
        """([name, mime, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: mime }));
            const box = document.getElementById('composer-input');
            box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
        }""", [name, mime, base64.b64encode(data).decode()])


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 200), (40, 90, 200)).save(out, "PNG")
    return out.getvalue()


def _drop_huge(page, selector: str, name: str, size: int) -> None:
    """Drop a file of `size` zero bytes, made in the page (too big to pass in)."""
    page.evaluate(
        """([selector, name, size]) => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(size)], name, { type: 'application/pdf' }));
            const target = document.querySelector(selector);
            target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true }));
            target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true }));
        }""", [selector, name, size])


def _wait_image(page, img) -> None:
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=img.element_handle())


def _slow_uploads(page, bytes_per_second: int | None) -> None:
    """Throttle this page's uploads (Chromium's network emulation), or lift the throttle."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1,
        "uploadThroughput": bytes_per_second or -1})


def test_photos_and_pdfs_attached_by_button_drop_and_paste_reach_the_other_side_live(
        pages, mailbox, app_server, shot):
    owner, casey = practice_with_client(pages, mailbox, client="Casey Client")
    open_thread(owner, "Casey Client")
    open_thread(casey, "Your care team")

    # The owner attaches a photo with the button: it uploads with a progress bar, then waits,
    # ready, with a caption, until sent.
    _slow_uploads(owner, 8 * 1024)
    attach(owner, {"name": "lunch-plate.jpg", "mimeType": "image/jpeg", "buffer": _photo()})
    photo = staged(owner, "lunch-plate.jpg")
    expect(photo.get_by_role("progressbar", name="Uploading lunch-plate.jpg")).to_be_visible()
    expect(photo).to_contain_text(re.compile(r"Uploading… \d+%"))
    shot(owner, "files-uploading-desktop")
    _slow_uploads(owner, None)
    expect(photo).to_have_attribute("data-state", "done", timeout=20_000)
    expect(photo).to_contain_text("ready")
    send(owner, "A balanced plate for lunch")
    expect(owner.get_by_role("list", name="Files to send")).to_have_count(0)
    mine = delivered(owner, "A balanced plate for lunch")
    _wait_image(owner, mine.locator(".att-image img"))

    # A PDF dropped on the conversation, sent with no text at all.
    _drop(owner, ".events-scroll", "meal-plan.pdf", "application/pdf", PDF)
    expect(staged(owner, "meal-plan.pdf")).to_have_attribute("data-state", "done")
    owner.get_by_role("button", name="Send", exact=True).click()
    card = owner.locator("li.msg[data-seq] .file-card", has_text="meal-plan.pdf")
    expect(card).to_have_count(1)
    # The chat list says what a message of files only holds.
    expect(thread_item(casey, "Your care team")).to_contain_text("File: meal-plan.pdf")

    # Casey sees both live: the photo through the session (never a public address), the PDF as
    # a card with its name, size and a download link.
    theirs = delivered(casey, "A balanced plate for lunch")
    image = theirs.locator(".att-image img")
    expect(image).to_be_visible()
    src = image.get_attribute("src")
    assert src and re.fullmatch(r"/api/v1/files/[0-9a-f-]+/thumbnail", src), src
    _wait_image(casey, image)
    pdf = casey.locator("li.msg[data-seq] .file-card", has_text="meal-plan.pdf")
    expect(pdf).to_contain_text("PDF")
    expect(pdf).to_contain_text(f"{len(PDF)} B")
    expect(pdf).to_have_attribute("href", re.compile(r"^/api/v1/files/[0-9a-f-]+$"))
    expect(pdf).to_have_attribute("download", "meal-plan.pdf")
    with casey.expect_download() as download:
        pdf.click()
    assert download.value.suggested_filename == "meal-plan.pdf"
    anonymous = casey.context.browser.new_context(base_url=app_server.url)
    assert anonymous.request.get(src).status == 401
    anonymous.close()

    # The preview opens the picture in a viewer; Escape closes it, back on the preview.
    theirs.get_by_role("button", name="View lunch-plate.jpg").click()
    viewer = casey.get_by_role("dialog", name="lunch-plate.jpg")
    casey.wait_for_function("img => img.complete && img.naturalWidth === 900",
                            arg=viewer.locator("img").element_handle())
    expect(viewer.get_by_role("button", name="Close")).to_be_focused()
    expect(viewer.get_by_role("link", name="Download")).to_be_visible()
    shot(casey, "files-viewer-desktop")
    casey.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    expect(theirs.get_by_role("button", name="View lunch-plate.jpg")).to_be_focused()

    # Casey pastes a screenshot into the message box and sends it with a word.
    _paste(casey, "screenshot.png", "image/png", _png())
    expect(staged(casey, "screenshot.png")).to_have_attribute("data-state", "done")
    send(casey, "Here is what I ate")
    _wait_image(owner, delivered(owner, "Here is what I ate").locator(".att-image img"))
    shot(owner, "files-thread-desktop")

    # On a phone the pictures and cards fit the screen.
    casey.set_viewport_size(PHONE)
    expect(pdf).to_be_visible()
    fits(casey)
    attach(casey, {"name": "labs.pdf", "mimeType": "application/pdf", "buffer": PDF})
    expect(staged(casey, "labs.pdf")).to_have_attribute("data-state", "done")
    fits(casey)
    shot(casey, "files-thread-phone")


def test_a_file_too_large_or_of_a_refused_type_says_why_and_can_be_removed(
        pages, mailbox, shot):
    owner = pages.new()
    sign_up(owner, practice="Paper Trail Clinic")
    add_client(owner, "Robin Paper")
    nav(owner, "Chats")
    open_thread(owner, "Robin Paper")

    # A script disguised as a picture, and a file over the 25 MiB limit.
    _drop(owner, ".events-scroll", "holiday.png", "image/png", b"#!/bin/sh\nrm -rf ~\n")
    disguised = staged(owner, "holiday.png")
    expect(disguised).to_have_attribute("data-state", "failed")
    expect(disguised.get_by_role("alert")).to_have_text(
        re.compile("“holiday.png” cannot be sent: only images .*PDF"))
    _drop_huge(owner, ".events-scroll", "scan.pdf", 26 * 1024 * 1024)
    huge = staged(owner, "scan.pdf")
    expect(huge).to_have_attribute("data-state", "failed", timeout=30_000)
    expect(huge.get_by_role("alert")).to_have_text("“scan.pdf” is too large to send (26.0 MB).")
    # A good one next to them, then taken back before sending.
    attach(owner, {"name": "intake.pdf", "mimeType": "application/pdf", "buffer": PDF})
    expect(staged(owner, "intake.pdf")).to_have_attribute("data-state", "done")
    shot(owner, "files-refused-desktop")
    owner.get_by_role("button", name="Remove intake.pdf").click()
    expect(staged(owner, "intake.pdf")).to_have_count(0)
    # Refused files are never sent: with them alone, Send sends nothing.
    owner.get_by_role("button", name="Send", exact=True).click()
    expect(owner.locator("li.msg.pending, li.msg .attachments")).to_have_count(0)
    owner.get_by_role("button", name="Remove holiday.png").click()
    owner.get_by_role("button", name="Remove scan.pdf").click()
    expect(owner.get_by_role("list", name="Files to send")).to_have_count(0)
    # With the keyboard: the attach button is reachable and named.
    owner.get_by_role("textbox", name="Message", exact=True).focus()
    owner.keyboard.press("Shift+Tab")
    expect(owner.get_by_role("button", name="Attach files")).to_be_focused()


def test_documents_on_the_profile_shared_with_the_client(pages, mailbox, shot):
    owner, casey = practice_with_client(pages, mailbox, client="Dana Doc")
    nav(owner, "Clients")
    owner.get_by_role("link", name="Dana Doc").click()
    docs = section(owner, "Documents")
    docs.get_by_label("Title (optional)").fill("Private assessment")
    docs.get_by_label("Upload a document").set_input_files(
        {"name": "assessment.pdf", "mimeType": "application/pdf", "buffer": PDF})
    expect(docs.locator(".doc-list li", has_text="Private assessment")).to_contain_text(
        "Team only")
    docs.get_by_label("Title (optional)").fill("Meal plan")
    docs.get_by_label("Share with the client").check()
    docs.get_by_label("Upload a document").set_input_files(
        {"name": "meal-plan.pdf", "mimeType": "application/pdf", "buffer": PDF})
    expect(docs.locator(".doc-list li", has_text="Meal plan")).to_contain_text(
        "Shared with client")
    shot(owner, "documents-profile-desktop")
    # The client's Documents: only what is shared, and they add their own labs.
    nav(casey, "Documents")
    mine = section(casey, "Documents")
    expect(mine.locator(".doc-list li")).to_have_count(1)
    expect(mine.locator(".doc-list li")).to_contain_text("Meal plan")
    mine.get_by_label("Title (optional)").fill("Blood test")
    mine.get_by_label("Upload a document").set_input_files(
        {"name": "labs.pdf", "mimeType": "application/pdf", "buffer": PDF})
    expect(mine.locator(".doc-list li")).to_have_count(2)
    shot(casey, "documents-client-desktop")
    # The care chat says what was shared.
    nav(casey, "Chats")
    open_thread(casey, "Your care team")
    expect(casey.locator("li.sys", has_text="shared the document “Meal plan”")).to_have_count(1)
    expect(casey.get_by_text("Private assessment")).to_have_count(0)


def test_edit_and_delete_from_a_message_menu_are_seen_live(pages, mailbox, shot):
    owner, casey = practice_with_client(pages, mailbox, client="Casey Client")
    open_thread(owner, "Casey Client")
    open_thread(casey, "Your care team")
    send(casey, "I had the brocoli and the carots")
    typo = delivered(casey, "I had the brocoli and the carots")
    expect(delivered(owner, "I had the brocoli and the carots")).to_have_count(1)
    event_id = typo.get_attribute("data-event-id")
    mine = casey.locator(f"li.msg[data-event-id='{event_id}']")
    theirs = owner.locator(f"li.msg[data-event-id='{event_id}']")

    # The menu works from the keyboard: it opens on its first item, Escape closes it.
    more = mine.get_by_role("button", name="More actions on your message")
    more.focus()
    casey.keyboard.press("Enter")
    menu = mine.get_by_role("menu")
    expect(menu.get_by_role("menuitem")).to_have_text(["Edit", "Delete"])
    expect(menu.get_by_role("menuitem", name="Edit")).to_be_focused()
    casey.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Delete")).to_be_focused()
    casey.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(more).to_be_focused()

    # Edit in place: the text is ready for typing at its end at once; Escape cancels, Save
    # keeps the new words.
    message_action(casey, mine, "Edit")
    casey.keyboard.type("!!")
    box = mine.get_by_role("textbox", name="Edit message")
    expect(box).to_be_focused()
    expect(box).to_have_value("I had the brocoli and the carots!!")
    box.press("Escape")
    expect(box).to_have_count(0)
    expect(mine.locator("p.body")).to_have_text("I had the brocoli and the carots")
    message_action(casey, mine, "Edit")
    expect(box).to_be_focused()
    box.fill("I had the broccoli and the carrots")
    shot(casey, "message-edit-desktop")
    mine.get_by_role("button", name="Save").click()
    expect(mine.locator("p.body")).to_have_text("I had the broccoli and the carrots")
    expect(mine.locator(".edited")).to_have_text("(edited)")
    # The owner sees it change live, marked as edited; the old words are gone.
    expect(theirs.locator("p.body")).to_have_text("I had the broccoli and the carrots")
    expect(theirs.locator(".edited")).to_have_text("(edited)")
    expect(owner.get_by_text("brocoli")).to_have_count(0)
    # The chat list's preview of that thread follows the edit too.
    expect(owner.locator(".ti-preview", has_text="I had the broccoli")).to_have_count(1)

    # A client cannot change what the team wrote: no menu on the owner's messages.
    send(owner, "Wrong chat, sorry")
    expect(delivered(casey, "Wrong chat, sorry")).to_have_count(1)
    expect(delivered(casey, "Wrong chat, sorry").get_by_role(
        "button", name=re.compile("^More actions"))).to_have_count(0)
    # The owner takes their message back, after saying yes.
    wrong = delivered(owner, "Wrong chat, sorry")
    wrong_id = wrong.get_attribute("data-event-id")
    message_action(owner, wrong, "Delete")
    confirm = owner.get_by_role("alertdialog", name="Delete this message for everyone?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_have_count(0)
    expect(delivered(owner, "Wrong chat, sorry")).to_have_count(1)
    message_action(owner, wrong, "Delete")
    confirm.get_by_role("button", name="Delete", exact=True).click()
    gone = casey.locator(f"li.msg[data-event-id='{wrong_id}']")
    expect(gone.locator("p.body")).to_have_text("This message was deleted")
    expect(casey.get_by_text("Wrong chat, sorry")).to_have_count(0)
    expect(owner.locator(f"li.msg[data-event-id='{wrong_id}'] p.body")).to_have_text(
        "This message was deleted")

    # An owner may delete anyone's message, files and all; the client sees it go.
    attach(casey, {"name": "old-labs.pdf", "mimeType": "application/pdf", "buffer": PDF})
    expect(staged(casey, "old-labs.pdf")).to_have_attribute("data-state", "done")
    send(casey, "Labs from 2019")
    labs = delivered(owner, "Labs from 2019")
    expect(labs.locator(".file-card")).to_contain_text("old-labs.pdf")
    labs_id = labs.get_attribute("data-event-id")
    message_action(owner, labs, "Delete")
    confirm = owner.get_by_role("alertdialog",
                                name="Delete Casey Client\u2019s message for everyone?")
    expect(confirm).to_contain_text("its files go too")
    shot(owner, "message-delete-confirm-desktop")
    confirm.get_by_role("button", name="Delete", exact=True).click()
    deleted = casey.locator(f"li.msg[data-event-id='{labs_id}']")
    expect(deleted.locator("p.body")).to_have_text("This message was deleted")
    expect(deleted.locator(".file-card")).to_have_count(0)
    expect(deleted.get_by_role("button", name=re.compile("^More actions"))).to_have_count(0)
    shot(casey, "message-deleted-desktop")

    # On a phone the menu and the edit box fit.
    casey.set_viewport_size(PHONE)
    fixed = casey.locator(f"li.msg[data-event-id='{event_id}']")
    fixed.get_by_role("button", name="More actions on your message").click()
    expect(fixed.get_by_role("menu")).to_be_visible()
    fits(casey)
    shot(casey, "message-menu-phone")


def test_search_finds_an_old_message_and_opens_the_thread_at_it(pages, mailbox, app_server,
                                                               shot):
    owner, casey = practice_with_client(pages, mailbox, client="Casey Client")
    with api(owner, app_server.url) as http:
        thread = next(t for t in http.get("/threads").json()["threads"] if t["kind"] == "care")
        path = f"/threads/{thread['id']}/messages"

        def post(body: str, n: int) -> None:
            r = http.post(path, json={"body": body, "client_id": f"seed-{n}"})
            assert r.status_code == 201, r.text

        post("Remember the quinoa salad recipe for Tuesdays", 0)
        for n in range(1, 90):
            post(f"Check-in note number {n}", n)
    # Casey comes back later: the chat opens on its newest page, the old message not loaded.
    casey.reload()
    open_thread(casey, "Your care team")
    expect(delivered(casey, "Check-in note number 89")).to_have_count(1)
    expect(casey.get_by_text("Remember the quinoa salad")).to_have_count(0)

    nav(casey, "Chats")
    results = search_chats(casey, "salads quinoa")
    hit = results.get_by_role("link")
    expect(hit).to_have_count(1)
    expect(hit.locator(".hit-thread")).to_have_text("Your care team")
    expect(hit.locator("mark")).to_have_text(["quinoa", "salad"])
    expect(hit.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(casey.get_by_role("status").filter(has_text="1 message matches")).to_be_visible()
    shot(casey, "search-results-desktop")
    hit.click()
    found = casey.locator("li.msg.focused")
    expect(found).to_contain_text("Remember the quinoa salad recipe for Tuesdays")
    expect(found).to_be_in_viewport()
    expect(found).to_be_focused()
    expect(hit).to_have_attribute("aria-current", "true")
    shot(casey, "search-opens-message-desktop")

    # Nothing found says so; Clear search brings the conversations back.
    search_chats(casey, "lasagna")
    expect(casey.get_by_text("No messages match “lasagna”.")).to_be_visible()
    casey.get_by_role("button", name="Clear search").click()
    expect(casey.get_by_role("list", name="Conversations")).to_be_visible()
    expect(casey.get_by_role("searchbox", name="Find in chats")).to_be_focused()

    # On a phone: the results take the screen, a result opens the thread at the message.
    casey.set_viewport_size(PHONE)
    nav(casey, "Chats")
    results = search_chats(casey, "note number 3")
    expect(results.get_by_role("link").first).to_be_visible()
    fits(casey)
    shot(casey, "search-results-phone")
    results.get_by_role("link").filter(has_text="number 3").first.click()
    found = casey.locator("li.msg.focused")
    expect(found).to_contain_text("Check-in note number 3")
    expect(found).to_be_in_viewport()
    fits(casey)
    shot(casey, "search-opens-message-phone")
