"""Browser fixtures of the end-to-end tests: Debian's chromium driven by Playwright, on an
office screen (1366×768) for the staff console."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def needs_chromium() -> None:
    """Skip the calling module where Debian's chromium is missing (.ci/run installs it)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)",
                    allow_module_level=True)


@pytest.fixture
def console_shots(tmp_path: Path) -> Path:
    """Where console screenshots go: $CONSOLE_SCREENSHOTS_DIR when set, else the test's folder."""
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def office_browser():
    """A chromium browser; `new_page()` opens a fresh 1366×768 context (its own cookies), so
    one test can have an operator, a clerk and a supervisor side by side."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts = []

        class Office:
            def new_page(self, width: int = 1366, height: int = 768, **kw):
                context = browser.new_context(viewport={"width": width, "height": height},
                                              locale="zh-CN", **kw)
                contexts.append(context)
                page = context.new_page()
                page.set_default_timeout(15_000)
                return page

        try:
            yield Office()
        finally:
            for context in contexts:
                context.close()
            browser.close()


def console_sign_in(page, base_url: str, name: str, password: str) -> None:
    """Sign in on the console's sign-in page as a person would."""
    page.goto(f"{base_url}/console/login")
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_load_state()
