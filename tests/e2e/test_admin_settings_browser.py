"""The admin's settings in a real browser (Debian's chromium): an admin adds a department and a
routing rule, tries a message and sees it routed there before saving; after saving, a real
intake of that message is routed there too."""

from __future__ import annotations

import json
import urllib.request

import pytest

from hotline.api.admin import create_user
from tests.e2e.conftest import needs_chromium
from tests.integration.console.conftest import make_staff
from tests.integration.web.conftest import LiveServer

needs_chromium()
pytestmark = pytest.mark.slow

MESSAGE = "观山湖区金华园小区的二次供水水箱很久没有清洗，自来水发黄有异味，请水利部门来查一查"


def _intake(base: str, token: str, content: str) -> dict:
    request = urllib.request.Request(
        f"{base}/api/v1/cases", method="POST",
        data=json.dumps({"line": "board", "channel": "web", "content": content}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.load(resp)


def test_admin_adds_a_department_and_a_rule_tries_a_message_and_intake_follows(
        app, office_browser, console_shots):
    make_staff("admin", "admin")
    _operator, token = create_user("接口坐席", "operator", None)
    with LiveServer(app) as server:
        page = office_browser.signed_in(server.url, "admin")
        page.click("nav >> text=系统设置")
        page.click(".settings-cards >> text=部门")

        # A new department.
        page.fill("#dep-code", "gz-water")
        page.fill("#dep-name", "贵州省水利厅")
        page.fill("#dep-region", "520000")
        page.click("#create-department")
        assert "部门已创建" in page.inner_text("#done")
        assert "贵州省水利厅" in page.inner_text("#department-name")

        # A rule sending water-supply matters there, tried before it is saved.
        page.click(".settings-tabs >> text=分类规则")
        page.click("#new-rule")
        page.fill("#rule-keywords", "二次供水、自来水发黄")
        page.select_option("#rule-department", "gz-water")
        page.fill("#rule-priority", "500")
        page.fill("#try-message", MESSAGE)
        page.click("#try-rule")
        assert "gz-water" in page.inner_text("#decision-department")
        verdict = page.inner_text("#rule-verdict")
        assert "适用并胜出" in verdict and "二次供水" in verdict
        assert "关键词∈{二次供水、自来水发黄}" in page.inner_text("#decision-reasons")
        page.screenshot(path=str(console_shots / "console-rule-try.png"), full_page=True)
        # Nothing is saved by trying: the form still says what was typed.
        assert page.input_value("#rule-keywords") == "二次供水、自来水发黄"
        page.click("#save-rule")
        assert "规则已保存" in page.inner_text("#done")

        # The real intake of the same message goes to the new department.
        case = _intake(server.url, token, MESSAGE)
        assert case["routing"]["department"] == "gz-water"
        page.goto(f"{server.url}/console/cases/{case['number']}")
        assert "gz-water" in page.content() or "贵州省水利厅" in page.content()

        # The audit list shows both changes, made on the console by the admin.
        page.goto(f"{server.url}/console/admin/audit?actor=admin")
        rows = page.inner_text("#audit")
        assert "gz-water" in rows and "二次供水" in rows and "工作台" in rows
        page.screenshot(path=str(console_shots / "console-audit.png"))

        phone = office_browser.signed_in(server.url, "admin",
                                         path="/console/admin/rules/new", width=390, height=844)
        assert phone.is_visible("#try-rule")
        phone.screenshot(path=str(console_shots / "console-rule-phone.png"), full_page=True)
