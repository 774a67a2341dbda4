"""People's photos in the browser: a provider and a client each add a photo on their profile;
it shows next to their name in the chat, the chat list, the client list and the team; a PDF is
refused; removing it brings the initials back."""

from __future__ import annotations

import io
import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.ui import PHONE, nav, open_thread, practice_with_client, send
from tests.mailbox import Mailbox


def _photo(background: tuple[int, int, int], face: tuple[int, int, int]) -> dict[str, Any]:
    """A landscape JPEG with a round 'face' in the middle, as a file chooser hands it over."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (900, 600), background)
    ImageDraw.Draw(img).ellipse((300, 150, 600, 450), fill=face)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return {"name": "me.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def _said(page: Any, text: str) -> Any:
    """A status line of the profile screen (the connection banner is a status too)."""
    return page.locator(".profile-page").get_by_role("status").filter(has_text=text)


def test_photos_show_next_to_names_and_go_back_to_initials(
    pages: Any, mailbox: Mailbox, shot: Any
) -> None:
    owner, robin = practice_with_client(pages, mailbox, client="Robin Hart")
    # The owner adds a photo; a PDF is refused first.
    owner.get_by_role("link", name="Your profile and photo").click()
    owner.get_by_label("Add a photo").set_input_files({
        "name": "labs.pdf", "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"})
    expect(owner.locator(".profile-page").get_by_role("alert")).to_contain_text(
        "That is not a photo")
    expect(owner.locator(".profile-photo .avatar")).to_have_text("OO")
    owner.get_by_label("Add a photo").set_input_files(_photo((226, 232, 240), (15, 118, 110)))
    expect(_said(owner, "Your photo is saved")).to_be_visible()
    expect(owner.locator(".topbar .me-link .avatar img")).to_be_visible()
    shot(owner, "profile-photo-desktop")

    # The client adds theirs on a phone.
    phone = pages.new(PHONE)
    phone.context.add_cookies(robin.context.cookies())
    phone.goto("/#/profile")
    expect(phone.get_by_role("heading", name="Your profile")).to_be_visible()
    phone.get_by_label("Add a photo").set_input_files(_photo((254, 243, 199), (180, 83, 9)))
    expect(_said(phone, "Your photo is saved")).to_be_visible()
    expect(phone.locator(".profile-photo .avatar img")).to_be_visible()
    shot(phone, "profile-photo-phone")

    # In the chat: the owner's message carries the owner's photo for the client...
    nav(owner, "Chats")
    open_thread(owner, "Robin Hart")
    send(owner, "Welcome, Robin! That's me in the picture.")
    robin.reload()
    open_thread(robin, "Your care team")
    message = robin.locator("li.msg[data-seq]").filter(has_text="That's me in the picture").last
    expect(message.locator(".avatar img")).to_have_attribute(
        "src", re.compile(r"^/api/v1/users/[0-9a-f-]+/avatar\?v="))
    # ...and the owner sees Robin's photo in the chat list and the chat's header.
    owner.reload()
    open_thread(owner, "Robin Hart")
    expect(owner.locator(".thread-head .avatar img")).to_be_visible()
    expect(owner.locator(".thread-item.active .avatar img")).to_be_visible()
    shot(owner, "chat-photos-desktop")
    nav(owner, "Clients")
    row = owner.locator(".client-row").filter(has_text="Robin Hart")
    expect(row.locator(".avatar img")).to_be_visible()
    row.click()
    expect(owner.locator(".client-head .avatar img")).to_be_visible()
    shot(owner, "client-profile-photo-desktop")
    nav(owner, "Team")
    expect(owner.locator("li.member").filter(has_text="Olivia Owner").locator(
        ".avatar img")).to_be_visible()

    # Robin removes the photo: initials again, for Robin and for the team.
    phone.get_by_role("button", name="Remove photo").click()
    expect(_said(phone, "initials show instead")).to_be_visible()
    expect(phone.locator(".profile-photo .avatar")).to_have_text("RH")
    nav(owner, "Clients")
    owner.reload()
    row = owner.locator(".client-row").filter(has_text="Robin Hart")
    expect(row.locator(".avatar")).to_have_text("RH")
    expect(row.locator(".avatar img")).to_have_count(0)

