"""The operator's desk in a real browser (Debian's chromium): an operator signs in, types a
call, sees routing's suggestion and the caller's earlier case appear beside the form, takes the
suggestion with the keyboard, files the case and reads its number back; the same desk on a
phone (390 px wide)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline import services
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.models import Case
from tests.e2e.conftest import console_sign_in, needs_chromium
from tests.integration.console.conftest import PASSWORD, make_staff
from tests.integration.web.conftest import LiveServer

needs_chromium()
pytestmark = pytest.mark.slow

CALL = "我是威宁县哈喇河镇的村民，低保申请交上去三个月了还没有批下来，想问问什么原因。"
EARLIER = "反映家中危房改造补助一直没有到位，请帮忙催一下。"


@pytest.fixture
def earlier_case(app) -> str:
    case, _ = services.create_case(
        {"line": "fupin", "channel": "phone", "content": EARLIER,
         "citizen": {"name": "李秀英", "phone": "+8613985012345"}},
        Actor("坐席老张", "operator"))
    return case.number


def test_operator_logs_a_call_with_the_suggestion_and_reads_the_number(app, office_browser,
                                                                       console_shots,
                                                                       earlier_case):
    make_staff("坐席小王", "operator")
    with LiveServer(app) as server:
        page = office_browser.new_page()
        console_sign_in(page, server.url, "坐席小王", PASSWORD)
        assert page.url.endswith("/console/desk")
        # The cursor is in the content box: the operator types as the caller speaks.
        page.keyboard.type(CALL)
        page.wait_for_selector("#accept-suggestion")
        assert page.inner_text("#suggested-department") == "毕节市人民政府"
        assert "威宁" in page.inner_text("#suggested-region")
        page.fill("#phone", "139 8501 2345")
        page.wait_for_selector("#earlier-list")
        assert earlier_case in page.inner_text("#earlier-list")
        page.fill("#name", "李秀英")
        page.screenshot(path=str(console_shots / "desk-typed.png"))

        page.keyboard.press("Alt+a")  # 采用建议
        assert page.input_value("#department") == "gov-520500"
        page.keyboard.press("Enter")  # the focus is on 登记工单
        page.wait_for_selector("#saved-number")
        number = page.inner_text("#saved-number")
        assert page.eval_on_selector("#saved-number",
                                     "e => parseFloat(getComputedStyle(e).fontSize)") >= 28
        assert page.input_value("#content") == ""  # ready for the next call
        page.screenshot(path=str(console_shots / "desk-saved.png"))

        db.session.expire_all()
        case = db.session.scalar(select(Case).where(Case.number == number))
        assert (case.status, case.department_code) == ("dispatched", "gov-520500")
        assert (case.citizen_name, case.citizen_phone) == ("李秀英", "+8613985012345")
        assert case.events[0].actor == "坐席小王"


def test_the_desk_works_on_a_phone(app, office_browser, console_shots, earlier_case):
    make_staff("坐席小王", "operator")
    with LiveServer(app) as server:
        page = office_browser.new_page(width=390, height=844, is_mobile=True, has_touch=True)
        console_sign_in(page, server.url, "坐席小王", PASSWORD)
        # Nothing wider than the screen: no sideways scrolling to reach a field.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.fill("#content", CALL)
        page.fill("#phone", "13985012345")
        page.wait_for_selector("#accept-suggestion")
        page.wait_for_selector("#earlier-list")
        page.screenshot(path=str(console_shots / "desk-phone.png"), full_page=True)
        page.tap("#accept-suggestion")
        page.tap("#file-case")
        page.wait_for_selector("#saved-number")
        assert page.inner_text("#saved-number").startswith("FP")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
