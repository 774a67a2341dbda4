"""Browser tests: Playwright (sync API) driving Debian's Chromium against a real server process.

They run in their own pytest invocation, never in the default run (pytest-playwright's and
Playwright's sync API leave an event loop behind that breaks later asyncio tests):

    .venv/bin/pytest tests/browser -p no:asyncio

This folder is only collected when the command line names it (or a file in it); the default
`.venv/bin/pytest` skips it even without `collect_ignore = ["browser"]` in tests/conftest.py.

Without /usr/bin/chromium the tests skip with the reason; under CI=true they fail instead.
Screenshots of the key screens go to tests/browser/screenshots/ (BROWSER_SCREENSHOTS=/some/dir
to put them elsewhere).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.ui import DESKTOP
from tests.conftest import Backend, Server
from tests.mailbox import Mailbox

HERE = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _named_on_command_line(config: pytest.Config) -> bool:
    base = config.invocation_params.dir
    for arg in config.args:
        path = (base / arg.split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect these tests only in an invocation that names this folder."""
    if not _named_on_command_line(config):
        return True
    return None


@pytest.fixture(scope="session")
def app_server(mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`carethread serve` on a free port, SQLite in a temp folder, mail to the test SMTP server."""
    workdir = tmp_path_factory.mktemp("browser")
    env = {
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": f"sqlite:///{workdir / 'carethread.db'}",
    }
    srv = Server(Backend("sqlite", env, workdir), {})
    srv.env = {
        **env,
        "SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}",
        "SMTP_TLS": "none",
        "OUTBOX_POLL_SECONDS": "0.5",
        "BASE_URL": srv.url,
        "LOG_LEVEL": "INFO",
        "NOTIFY_DELAY_SECONDS": "31536000000",  # no unread-message emails in others' tests
        # cheap password hashing: the tests log in many times
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "8192",
        "ARGON2_PARALLELISM": "1",
    }
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(reason + "; CI requires it", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Pages:
    """Opens pages, each in its own browser context (its own cookies: one person each)."""

    browser: Any
    base_url: str
    contexts: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def new(self, viewport: dict[str, int] | None = None) -> Any:
        context = self.browser.new_context(base_url=self.base_url,
                                           viewport=viewport or DESKTOP)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Any, app_server: Server) -> Iterator[Pages]:
    opened = Pages(browser, app_server.url)
    yield opened
    opened.close()
    assert not opened.errors, f"uncaught errors in the page: {opened.errors}"
    assert not opened.dialogs, f"unexpected dialogs: {opened.dialogs}"


SCREENSHOTS = HERE / "screenshots"  # named in the README; not committed


@pytest.fixture(scope="session")
def shot() -> Callable[[Any, str], None]:
    """Save a screenshot of a key screen in tests/browser/screenshots/ (or BROWSER_SCREENSHOTS)."""
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS") or SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"))

    return take

