"""Signing in to the staff console in a real browser (Debian's chromium): a wrong password is
refused on the page, the right one lands on the console, and signing out ends it."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import console_sign_in, needs_chromium
from tests.integration.console.conftest import PASSWORD, make_staff
from tests.integration.web.conftest import LiveServer

needs_chromium()
pytestmark = pytest.mark.slow


def test_staff_member_signs_in_in_a_browser_and_signs_out(app, office_browser, console_shots):
    make_staff("督办老李", "supervisor")
    with LiveServer(app) as server:
        page = office_browser.new_page()
        console_sign_in(page, server.url, "督办老李", "wrong-password")
        assert "用户名或密码不正确" in page.inner_text("#login-error")
        console_sign_in(page, server.url, "督办老李", PASSWORD)
        assert page.inner_text("#signed-in-as") == "督办老李"
        page.screenshot(path=str(console_shots / "console-cases.png"))
        page.click("#logout")
        page.wait_for_url(f"{server.url}/console/login")
        page.goto(f"{server.url}/console/cases")
        assert "/console/login" in page.url
