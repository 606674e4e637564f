"""Staff accounts in a real browser (Debian's chromium): an admin creates a clerk, the clerk
signs in and must change the initial password; ten wrong passwords lock a user and the page
says so; the admin sees the lock and lifts it; deactivated, the clerk's open session ends."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import console_sign_in, needs_chromium, submit
from tests.integration.console.conftest import make_staff
from tests.integration.web.conftest import LiveServer

needs_chromium()
pytestmark = pytest.mark.slow


def test_admin_creates_a_clerk_who_must_change_the_initial_password(
        app, office_browser, console_shots):
    make_staff("admin", "admin")
    with LiveServer(app) as server:
        admin = office_browser.signed_in(server.url, "admin")
        admin.click("nav >> text=账号管理")
        admin.fill("#new-name", "人社小张")
        admin.select_option("#new-role", "handler")
        admin.select_option("#new-department", "gz-hrss")
        admin.fill("#new-password", "初始-Pass-0601")
        admin.click("#create-user")
        assert "账号已创建" in admin.inner_text("#done")
        assert "须改密码" in admin.inner_text("#account-state")
        admin.screenshot(path=str(console_shots / "console-account.png"))

        # The clerk signs in with the initial password and is made to choose their own.
        clerk = office_browser.signed_in(server.url, "人社小张", "初始-Pass-0601")
        assert clerk.url.endswith("/console/password")
        assert "请先设置新密码" in clerk.inner_text("#must-change")
        clerk.fill("#current", "初始-Pass-0601")
        clerk.fill("#new", "小张自己的-Pass")
        clerk.fill("#confirm", "小张自己的-Pass")
        submit(clerk, "#save-password")
        assert "/console/password" not in clerk.url
        assert clerk.inner_text("#signed-in-as") == "人社小张"
        clerk.click("#logout")
        clerk.wait_for_url(f"{server.url}/console/login")


def test_ten_wrong_passwords_lock_a_clerk_the_admin_lifts_it_and_deactivation_ends_the_session(
        app, office_browser, console_shots):
    make_staff("admin", "admin")
    make_staff("人社小张", "handler", "gz-hrss", password="小张自己的-Pass")
    with LiveServer(app) as server:
        admin = office_browser.signed_in(server.url, "admin")
        clerk = office_browser.new_page()

        # Ten wrong passwords lock the account, and the page says so. After the first, each is
        # typed again on the page that said the last one was wrong, as a person does.
        console_sign_in(clerk, server.url, "人社小张", "猜错的密码-0")
        for attempt in range(1, 10):
            assert "用户名或密码不正确" in clerk.inner_text("#login-error")
            clerk.fill("#username", "人社小张")
            clerk.fill("#password", f"猜错的密码-{attempt}")
            submit(clerk, "#sign-in")
        message = clerk.inner_text("#login-error")
        assert "已被锁定" in message and "管理员解锁" in message
        clerk.screenshot(path=str(console_shots / "console-locked.png"))
        console_sign_in(clerk, server.url, "人社小张", "小张自己的-Pass")
        assert "已被锁定" in clerk.inner_text("#login-error")

        # The admin sees the lock on the account list and lifts it.
        admin.goto(f"{server.url}/console/admin/users")
        assert "人社小张" in admin.inner_text("#locked-notice")
        assert admin.is_visible('[data-locked="人社小张"]')
        admin.screenshot(path=str(console_shots / "console-accounts.png"), full_page=True)
        admin.click("#locked-notice >> text=人社小张")
        admin.click("#unlock")
        assert "已解除锁定" in admin.inner_text("#done")
        log = admin.inner_text("table.auth-events")
        assert "账号锁定" in log and "解除锁定" in log and "admin" in log

        console_sign_in(clerk, server.url, "人社小张", "小张自己的-Pass")
        assert clerk.inner_text("#signed-in-as") == "人社小张"

        # Deactivated by the admin, the clerk's open session is refused on the next click.
        admin.click("#deactivate")
        assert "账号已停用" in admin.inner_text("#done")
        submit(clerk, "nav >> text=工单查询")
        assert "/console/login" in clerk.url
        assert "登录已失效" in clerk.inner_text("#notice")


def test_the_account_list_fits_a_phone(app, office_browser, console_shots):
    make_staff("admin", "admin")
    make_staff("人社小张", "handler", "gz-hrss")
    with LiveServer(app) as server:
        phone = office_browser.signed_in(server.url, "admin",
                                         path="/console/admin/users", width=390, height=844)
        phone.screenshot(path=str(console_shots / "console-accounts-phone.png"), full_page=True)
