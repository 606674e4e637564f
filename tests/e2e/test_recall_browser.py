"""改派 in a real browser (Debian's chromium, 1366×768): a supervisor takes a case back from the
department that signed for it and sends it to another; the first department's clerk no longer
finds it, the second finds it on their desk and signs for it."""

from __future__ import annotations

import pytest

from hotline.extensions import db
from tests.e2e.conftest import needs_chromium, submit
from tests.integration.console.conftest import make_staff
from tests.integration.console.test_case_page import case_in
from tests.integration.web.conftest import LiveServer

needs_chromium()
pytestmark = pytest.mark.slow


def test_supervisor_recalls_a_case_from_one_department_and_sends_it_to_another(
        app, office_browser, console_shots):
    make_staff("坐席小王", "operator")
    make_staff("督办老李", "supervisor")
    make_staff("人社承办", "handler", "gz-hrss")
    make_staff("贵阳承办", "handler", "gov-520100")
    case = case_in("accepted")
    number = case.number
    db.session.remove()
    with LiveServer(app) as server:
        path = f"/console/cases/{number}"
        url = server.url + path
        first = office_browser.signed_in(server.url, "人社承办", path="/console/department")
        assert number in first.inner_text("main")

        supervisor = office_browser.signed_in(server.url, "督办老李", path=path)
        supervisor.click("#act-recall summary")
        supervisor.select_option("#recall-department", "gov-520100")
        supervisor.fill("#recall-reason", "拖欠工程款属贵阳市住建局职责，改派贵阳市办理。")
        submit(supervisor, "#recall-submit", console_shots / "case-recall-form.png")
        assert "改派已完成" in supervisor.inner_text("#done")
        assert supervisor.inner_text("#case-status") == "已转办"
        assert supervisor.inner_text("#case-department") == "贵阳市人民政府"
        recall = [s for s in supervisor.locator("#timeline li").all_inner_texts() if "改派" in s]
        assert recall and "督办老李（督办）" in recall[-1] and "原承办单位" in recall[-1]

        # The first department: gone from the desk, and the case page is not found.
        first.goto(f"{server.url}/console/department")
        assert number not in first.inner_text("main")
        response = first.goto(url)
        assert response.status == 404 and number not in first.inner_text("main")

        second = office_browser.signed_in(server.url, "贵阳承办", path="/console/department")
        assert number in second.inner_text("main")
        second.goto(url)
        second.click("#act-accept summary")
        submit(second, "#accept-submit")
        assert second.inner_text("#case-status") == "已签收"
        second.screenshot(path=str(console_shots / "case-recalled-accepted.png"), full_page=True)
