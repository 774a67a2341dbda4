"""Files in the browser: attach by button, drag and drop and paste, with progress; images shown
through the session (never a public URL) and opened in a viewer; PDFs as cards; edit and
delete from a message's menu; search that opens the thread at the message; documents."""

from __future__ import annotations

import base64
import io

from playwright.sync_api import expect

from tests.browser.ui import (
    nav,
    open_thread,
    practice_with_client,
    section,
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
