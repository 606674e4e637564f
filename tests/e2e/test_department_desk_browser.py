"""The department's desk in a real browser (Debian's chromium): the clerk of 人社厅 signs in and
lands on the desk, a case the operator dispatches through the staff API appears on the open
page without a reload (with a notice and the counts updated), and the clerk signs for it in one
click. Screenshots at 1366×768 and at 390 px wide go to `console_shots`."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from hotline.api.admin import create_user
from hotline.extensions import db
from hotline.models import Line
from tests.conftest import CASE
from tests.e2e.conftest import console_sign_in, needs_chromium
from tests.integration.console.conftest import PASSWORD, make_staff
from tests.integration.web.conftest import LiveServer

needs_chromium()
pytestmark = pytest.mark.slow


def test_clerk_sees_a_new_case_arrive_without_reload_and_signs_for_it(
        app, api, office_browser, console_shots):
    app.config["CONSOLE_POLL_SECONDS"] = 1
    db.session.execute(update(Line).values(auto_dispatch_threshold=2.0))
    db.session.commit()
    make_staff("人社承办", "handler", "gz-hrss")
    _, operator = create_user("op-desk", "operator", None)
    _, supervisor = create_user("sup-desk", "supervisor", None)

    def log_and_dispatch(content: str, department: str = "gz-hrss") -> str:
        resp = api.post("/cases", operator, {**CASE, "content": content})
        assert resp.status_code == 201, resp.get_json()
        number = resp.get_json()["number"]
        resp = api.post(f"/cases/{number}/dispatch", operator, {"department": department})
        assert resp.status_code == 200, resp.get_json()
        return number

    earlier = log_and_dispatch("申请人反映其养老保险关系从广东转入贵州后缴费年限少算了三年，请核实。")
    with LiveServer(app) as server:
        page = office_browser.new_page()
        console_sign_in(page, server.url, "人社承办", PASSWORD)
        assert page.url == f"{server.url}/console/department"
        assert page.locator("tr[data-number]").count() == 1
        assert page.inner_text('[data-count="dispatched"]') == "1"
        page.evaluate("window.__same_page = true")  # gone if the page were reloaded

        number = log_and_dispatch("某建筑公司拖欠四十余名农民工工资共计六十万元，劳动监察大队迟迟未处理。")
        log_and_dispatch("贵阳市某小区路灯损坏，请修复。", "gov-520100")  # not this desk's
        row = page.locator(f'tr[data-number="{number}"]')
        row.wait_for()
        notice = page.locator("#desk-notice")
        assert notice.is_visible() and number in notice.inner_text()
        assert "新工单到达 1 件" in notice.inner_text()
        assert page.inner_text('[data-count="dispatched"]') == "2"
        assert page.locator("tr[data-number]").count() == 2
        assert page.evaluate("window.__same_page") is True
        assert page.title().startswith("(2) ")
        page.screenshot(path=str(console_shots / "department-desk.png"), full_page=True)

        row.locator("button.sign-for").click()
        page.wait_for_load_state()
        assert f"{number} 已签收" in page.inner_text("main")
        resp = api.get(f"/cases/{number}", supervisor).get_json()
        assert resp["status"] == "accepted"
        assert resp["events"][-1]["actor"] == "人社承办"
        assert page.locator(f'tr[data-number="{number}"] button.sign-for').count() == 0
        assert page.locator(f'tr[data-number="{earlier}"] button.sign-for').count() == 1

        phone = office_browser.new_page(width=390, height=844)
        console_sign_in(phone, server.url, "人社承办", PASSWORD)
        phone.screenshot(path=str(console_shots / "department-desk-390.png"), full_page=True)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the desk is {width} px wide on a 390 px phone"
