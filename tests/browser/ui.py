"""What a person does in the web client, as steps the browser tests are made of."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.mailbox import Mailbox

PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 780}


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.org"


def sign_up(page: Any, practice: str = "Sunrise Wellness", name: str = "Olivia Owner",
            email: str | None = None, password: str = PASSWORD) -> str:
    """Create a practice from the sign-up screen; ends on the chat screen, signed in."""
    email = email or unique_email("owner")
    page.goto("/#/signup")
    page.get_by_label("Practice name").fill(practice)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create practice").click()
    expect(page.get_by_role("heading", name="Chats")).to_be_visible()
    return email


def log_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def invite_member(page: Any, name: str, email: str, role: str = "Provider") -> None:
    """An owner or admin invites a team member from the Team screen."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    form = page.locator("form", has=page.get_by_role("heading", name="Invite a team member"))
    form.get_by_label("Name").fill(name)
    form.get_by_label("Email").fill(email)
    form.get_by_label("Role").select_option(label=role)
    form.get_by_role("button", name="Send invitation").click()
    expect(form.get_by_role("status")).to_contain_text(f"Invitation sent to {email}")


def invitation_link(mailbox: Mailbox, email: str, count: int = 1, wait: float = 15) -> str:
    """The accept-invite link of the `count`-th mail to `email` (from the test SMTP server)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        mails = mailbox.to(email)
        if len(mails) >= count:
            for link in mails[count - 1].links:
                if "/accept-invite" in link:
                    return link
            raise AssertionError(f"no accept-invite link in {mails[count - 1].body!r}")
        time.sleep(0.05)
    raise AssertionError(f"no mail #{count} for {email} within {wait}s")


def accept_invitation(page: Any, link: str, password: str = PASSWORD) -> None:
    """Open the emailed link, set a password (or confirm the login's existing one), land in
    the app."""
    page.goto(link)
    expect(page.get_by_role("heading", name=re.compile("^(Set your password|Join )"))
           ).to_be_visible()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name=re.compile("password and continue$")).click()
    # In the app: the chat list, or (a client with one chat, on a phone) that chat itself.
    landed = page.get_by_role("heading", name="Chats").or_(
        page.get_by_role("textbox", name="Message", exact=True))
    expect(landed.first).to_be_visible()


def start_chat(page: Any, names: list[str], title: str | None = None) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New chat").click()
    if title:
        page.get_by_label("Title (optional)").fill(title)
    for name in names:
        page.get_by_role("checkbox", name=name).check()
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_be_visible()


def thread_item(page: Any, title: str) -> Any:
    return page.get_by_role("list", name="Conversations").get_by_role("link", name=title)


def open_thread(page: Any, title: str) -> None:
    """Open a chat from the list; a client with one chat may have landed in it already."""
    heading = page.get_by_role("heading", level=2, name=title)
    item = thread_item(page, title)
    expect(heading.or_(item).first).to_be_visible()
    if not heading.is_visible():
        item.click()
    expect(heading).to_be_visible()


def send(page: Any, text: str) -> None:
    composer = page.get_by_role("textbox", name="Message", exact=True)
    composer.fill(text)
    composer.press("Enter")


def messages(page: Any, text: str) -> Any:
    """Message bubbles (sent or pending) whose body is exactly `text`."""
    return page.locator("li.msg").filter(
        has=page.locator("p.body", has_text=re.compile("^" + re.escape(text) + "$")))


def delivered(page: Any, text: str) -> Any:
    return page.locator("li.msg[data-seq]").filter(
        has=page.locator("p.body", has_text=re.compile("^" + re.escape(text) + "$")))


def attach(page: Any, *files: dict[str, Any]) -> None:
    """Attach files with the composer's button (the system file picker, answered with
    `{"name", "mimeType", "buffer"}` dicts)."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach files").click()
    chooser.value.set_files(list(files))


def staged(page: Any, name: str) -> Any:
    """A file in the composer, waiting to be sent (its `data-state`: uploading, done, failed)."""
    return page.get_by_role("list", name="Files to send").locator(f"li[data-name='{name}']")


def message_action(page: Any, bubble: Any, action: str) -> None:
    """Choose Edit or Delete from a message's More menu."""
    bubble.get_by_role("button", name=re.compile("^More actions on")).click()
    bubble.get_by_role("menuitem", name=action, exact=True).click()


def search_chats(page: Any, words: str) -> Any:
    """Search every chat from the box above the list; returns the list of results."""
    box = page.get_by_role("searchbox", name="Find in chats")
    box.fill(words)
    box.press("Enter")
    return page.get_by_role("list", name="Search results")


def session_token(page: Any) -> str:
    """The session token in this page's HttpOnly cookie (tests use it as a bearer token)."""
    for cookie in page.context.cookies():
        if cookie["name"] == "carethread_session":
            return str(cookie["value"])
    raise AssertionError("no session cookie")


def api(page: Any, base_url: str) -> Any:
    """An HTTP client acting as the person signed in on `page`, for seeding and checking."""
    import httpx

    return httpx.Client(base_url=base_url + "/api/v1", timeout=30,
                        headers={"Authorization": f"Bearer {session_token(page)}"})


def staffed_practice(pages: Any, mailbox: Mailbox, practice: str = "Sunrise Wellness",
                     member: str = "Pat Provider") -> tuple[Any, Any]:
    """An owner who signed up and a team member who accepted the emailed invitation, each on
    their own page (browser context), both on the chat screen."""
    owner = pages.new()
    sign_up(owner, practice=practice)
    email = unique_email("member")
    invite_member(owner, member, email)
    owner.get_by_role("navigation", name="Main").get_by_role("link", name="Chats").click()
    other = pages.new()
    accept_invitation(other, invitation_link(mailbox, email))
    return owner, other


def nav(page: Any, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def set_welcome_message(page: Any, text: str) -> None:
    nav(page, "Settings")
    form = page.locator("form", has=page.get_by_role("heading", name="Welcome message"))
    form.get_by_label("Send a welcome message to new clients").check()
    form.get_by_label("Welcome text").fill(text)
    form.get_by_role("button", name="Save welcome message").click()
    expect(form.get_by_role("status")).to_have_text("Welcome message saved.")


def add_client(page: Any, name: str, email: str | None = None, group: str | None = None,
               tags: tuple[str, ...] = ()) -> None:
    """A provider adds a client from the Clients screen; ends on the client's profile."""
    nav(page, "Clients")
    page.get_by_role("link", name="Add client").click()
    page.get_by_label("Name", exact=True).fill(name)
    if email:
        page.get_by_label("Email (optional)").fill(email)
    if group:
        page.get_by_label("Group").select_option(label=group)
    for tag in tags:
        page.get_by_role("checkbox", name=tag, exact=True).check()
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def practice_with_client(pages: Any, mailbox: Mailbox, practice: str = "Sunrise Wellness",
                         client: str = "Casey Client", welcome: str | None = None
                         ) -> tuple[Any, Any]:
    """An owner who signed up and added a client, and the client signed in from the emailed
    invitation, each on their own page; the owner ends on the chat screen."""
    owner = pages.new()
    sign_up(owner, practice=practice)
    if welcome:
        set_welcome_message(owner, welcome)
    email = unique_email("client")
    add_client(owner, client, email)
    nav(owner, "Chats")
    other = pages.new()
    accept_invitation(other, invitation_link(mailbox, email))
    return owner, other


def reset_link(mailbox: Mailbox, email: str, wait: float = 15) -> str:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        for mail in mailbox.to(email):
            for link in mail.links:
                if "/reset-password" in link:
                    return link
        time.sleep(0.05)
    raise AssertionError(f"no reset link for {email} within {wait}s")


def section(page: Any, heading: str) -> Any:
    """The section (or form) a heading names."""
    return page.locator("section, form").filter(
        has=page.get_by_role("heading", name=heading, exact=True)).last


def fits(page: Any) -> None:
    """Nothing wider than the window: no sideways scrolling of the page, nor of the panes
    that scroll inside it (a screen's page, the messages)."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the window at {page.url}"
    wide = page.evaluate("""() => [...document.querySelectorAll('.page, .events-scroll')]
        .filter((el) => el.scrollWidth > el.clientWidth + 1)
        .map((el) => el.className + ': ' + (el.scrollWidth - el.clientWidth) + 'px')""")
    assert not wide, f"panes scroll sideways at {page.url}: {wide}"
