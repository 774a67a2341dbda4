"""Files in the browser: attach by button, drag and drop and paste, with progress; images shown
through the session (never a public URL) and opened in a viewer; PDFs as cards; edit and
delete from a message's menu; search that opens the thread at the message; documents."""

from __future__ import annotations

import base64
import io
import re

from playwright.sync_api import expect

from tests.browser.ui import (
    delivered,
    nav,
    open_thread,
    practice_with_client,
    section,
    send,
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


def _image_loaded(locator) -> bool:
    return bool(locator.evaluate("img => img.complete && img.naturalWidth > 0"))


def test_photos_and_files_go_both_ways_and_messages_can_be_fixed_found_and_removed(
        pages, mailbox, shot):
    owner, casey = practice_with_client(pages, mailbox, client="Casey Client")
    open_thread(owner, "Casey Client")

    # The owner attaches a photo with the button and adds a caption.
    owner.locator("[data-role=attach-input]").set_input_files(
        {"name": "lunch-plate.jpg", "mimeType": "image/jpeg", "buffer": _photo()})
    upload = owner.locator("li.upload[data-name='lunch-plate.jpg']")
    expect(upload).to_have_class(re.compile(r"\bdone\b"))
    shot(owner, "files-composer-desktop")
    send(owner, "A balanced plate for lunch")
    bubble = delivered(owner, "A balanced plate for lunch")
    expect(bubble.locator(".att-image img")).to_be_visible()
    # A PDF by drag and drop, with no text at all.
    _drop(owner, "form.composer", "meal-plan.pdf", "application/pdf", PDF)
    expect(owner.locator("li.upload[data-name='meal-plan.pdf']")).to_have_class(
        re.compile(r"\bdone\b"))
    owner.get_by_role("button", name="Send").click()
    expect(owner.locator("li.msg[data-seq] .file-card", has_text="meal-plan.pdf")).to_have_count(1)

    # Casey sees both: the image through the session cookie, the PDF as a card.
    open_thread(casey, "Your care team")
    theirs = delivered(casey, "A balanced plate for lunch")
    image = theirs.locator(".att-image img")
    expect(image).to_be_visible()
    src = image.get_attribute("src")
    assert src and src.startswith("/api/v1/files/") and src.endswith("/thumbnail")
    casey.wait_for_function("img => img.complete && img.naturalWidth > 0",
                            arg=image.element_handle())
    card = casey.locator("li.msg[data-seq] .file-card", has_text="meal-plan.pdf")
    expect(card).to_have_attribute("href", re.compile(r"^/api/v1/files/[0-9a-f-]+$"))
    # Signed out, the same address answers nothing.
    anon = casey.context.browser.new_context()
    resp = anon.request.get(casey.url.split("/#")[0].rstrip("/") + src)
    assert resp.status == 401
    anon.close()
    # The viewer shows the full picture.
    theirs.locator(".att-image").click()
    viewer = casey.get_by_role("dialog")
    expect(viewer.locator("img")).to_be_visible()
    casey.wait_for_function("img => img.complete && img.naturalWidth === 900",
                            arg=viewer.locator("img").element_handle())
    shot(casey, "files-viewer-desktop")
    casey.keyboard.press("Escape")
    expect(viewer).to_have_count(0)

    # Casey pastes a screenshot and writes with a typo, then fixes it from the menu.
    _paste(casey, "screenshot.png", "image/png", _png())
    expect(casey.locator("li.upload.done")).to_have_count(1)
    send(casey, "I had the brocoli and the carots")
    typo = delivered(casey, "I had the brocoli and the carots")
    expect(typo.locator(".att-image img")).to_be_visible()
    mine = casey.locator(f"li.msg[data-event-id='{typo.get_attribute('data-event-id')}']")
    mine.get_by_role("button", name="Message actions").click()
    mine.get_by_role("menuitem", name="Edit").click()
    mine.get_by_role("textbox", name="Edit message").fill("I had the broccoli and the carrots")
    mine.get_by_role("button", name="Save").click()
    fixed = delivered(casey, "I had the broccoli and the carrots")
    expect(fixed.locator(".edited")).to_be_visible()
    # The owner sees the new text live, marked as edited; the old one is nowhere.
    live = delivered(owner, "I had the broccoli and the carrots")
    expect(live.locator(".edited")).to_be_visible()
    expect(owner.get_by_text("brocoli")).to_have_count(0)
    shot(owner, "files-chat-desktop")

    # The owner takes back a message sent by mistake.
    send(owner, "Wrong chat, sorry")
    sent = delivered(owner, "Wrong chat, sorry")
    wrong = owner.locator(f"li.msg[data-event-id='{sent.get_attribute('data-event-id')}']")
    wrong.get_by_role("button", name="Message actions").click()
    wrong.get_by_role("menuitem", name="Delete…").click()
    wrong.get_by_role("menuitem", name="Delete for everyone").click()
    expect(casey.locator("li.msg.deleted .deleted-note")).to_have_text(
        "This message was deleted.")
    expect(casey.get_by_text("Wrong chat, sorry")).to_have_count(0)
    # Nobody may change what another wrote: Casey has no menu on the owner's messages.
    expect(theirs.get_by_role("button", name="Message actions")).to_have_count(0)

    # Search finds the fixed message and opens the thread at it.
    nav(owner, "Chats")
    owner.get_by_role("searchbox", name="Find in chats").fill("broccoli")
    owner.get_by_role("searchbox", name="Find in chats").press("Enter")
    hit = owner.get_by_role("list", name="Search results").get_by_role("link").first
    expect(hit.locator("mark")).to_have_text("broccoli")
    shot(owner, "files-search-desktop")
    hit.click()
    expect(owner.locator("li.msg.focused")).to_contain_text("I had the broccoli")
    owner.get_by_role("searchbox", name="Find in chats").fill("brocoli")
    owner.get_by_role("searchbox", name="Find in chats").press("Enter")
    expect(owner.get_by_text("No messages found.")).to_be_visible()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 200), (40, 90, 200)).save(out, "PNG")
    return out.getvalue()


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
