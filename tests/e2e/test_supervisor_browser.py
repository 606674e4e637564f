"""The supervisor's pages in a real browser (Debian's chromium): 督办老李 signs in and lands on
the dashboard, follows the 延期申请 count to the list and approves a department's request, follows
不满意回访 and reopens the case the citizen was unhappy with; on another day, returns a reply too
thin to pass (Enter in its note decides nothing), edits the masked draft of a consented letter,
approves it, and finds it on the public board (/board) as edited. Screenshots at 1366×768 and
390×844 go to `console_shots`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from hotline import surveys
from hotline.api.admin import create_user
from hotline.extensions import db
from hotline.models import Case
from tests.conftest import CASE
from tests.e2e.conftest import needs_chromium, submit
from tests.integration.console.conftest import make_staff
from tests.integration.web.conftest import LETTER, REPLY, LiveServer

needs_chromium()
pytestmark = pytest.mark.slow

TITLE = "建筑工地夜间施工噪音扰民，请求处理"


def drive(api: Any, number: str, steps: list[tuple[str, str, dict]]) -> None:
    for action, token, body in steps:
        resp = api.post(f"/cases/{number}/{action}", token, body)
        assert resp.status_code == 200, resp.get_json()


@dataclass
class Staff:
    """The accounts of a supervisor's day: 督办老李 at the console, and the API tokens that
    brought the cases there."""

    operator: str
    supervisor: str
    hrss: str
    housing: str

    def new(self, api: Any, body: dict) -> str:
        resp = api.post("/cases", self.operator, body)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()["number"]


@pytest.fixture
def staff(app) -> Staff:
    make_staff("督办老李", "supervisor")
    return Staff(create_user("op-e2e", "operator", None)[1],
                 create_user("sup-e2e", "supervisor", None)[1],
                 create_user("hrss-e2e", "handler", "gz-hrss")[1],
                 create_user("housing-e2e", "handler", "gz-housing")[1])


def test_supervisor_approves_an_extension_and_reopens_an_unsatisfied_case(
        app, api, staff, office_browser, console_shots):
    op, sup, hrss = staff.operator, staff.supervisor, staff.hrss
    asking = staff.new(api, {**CASE, "content": "我公司申请的稳岗返还资金三个月未到账，请人社厅帮助查询。"})
    drive(api, asking, [("dispatch", op, {"department": "gz-hrss"}), ("accept", hrss, {}),
                        ("extension", hrss, {"working_days": 5,
                                             "reason": "需与财政厅核对拨付记录"})])
    unhappy = staff.new(api, {**CASE, "citizen": {"name": "王建国", "phone": "13985012345"}})
    drive(api, unhappy, [("dispatch", op, {"department": "gz-hrss"}), ("accept", hrss, {}),
                         ("reply", hrss, {"text": "已协调区住建局，工程款将于月底前付清。"}),
                         ("review", sup, {"approve": True}), ("close", op, {})])
    survey = surveys.open_survey_for(phone="13985012345")
    surveys.record_answer(survey, "unsatisfied", "到现在一分钱也没收到", "sms")
    db.session.commit()

    with LiveServer(app) as server:
        page = office_browser.signed_in(server.url, "督办老李")
        assert page.url == f"{server.url}/console/supervision"
        assert page.inner_text('[data-list="extensions"] .sv-count') == "1"
        assert page.inner_text('[data-list="unsatisfied"] .sv-count') == "1"
        page.screenshot(path=str(console_shots / "supervisor-dashboard.png"), full_page=True)

        # 延期申请: approve from the list.
        page.click('[data-list="extensions"]')
        row = page.locator(f'tr[data-number="{asking}"]')
        assert "需与财政厅核对拨付记录" in row.inner_text()
        page.screenshot(path=str(console_shots / "supervisor-extensions.png"), full_page=True)
        row.locator('input[name="note"]').fill("同意延期，请按新期限答复")
        row.locator('button[value="true"]').click()
        page.wait_for_load_state()
        assert f"{asking}：延期申请已同意。" in page.inner_text("main")
        assert page.locator(f'tr[data-number="{asking}"]').count() == 0
        case = db.session.scalar(select(Case).where(Case.number == asking))
        db.session.refresh(case)
        assert case.extension_days == 5 and case.pending_extension_days is None

        # 不满意回访: reopen.
        page.click("#tab-unsatisfied")
        row = page.locator(f'tr[data-number="{unhappy}"]')
        assert "到现在一分钱也没收到" in row.inner_text()
        row.locator('input[name="reason"]').fill("群众反映工程款仍未支付，请重新办理")
        row.get_by_role("button", name="重办", exact=True).click()
        page.wait_for_load_state()
        assert f"{unhappy}：已重办" in page.inner_text("main")
        db.session.expire_all()
        assert db.session.scalar(select(Case.status).where(Case.number == unhappy)) == "reopened"


def test_supervisor_returns_a_reply_and_publishes_a_letter_as_edited(
        app, api, staff, office_browser, console_shots):
    op, sup, hrss, housing = staff.operator, staff.supervisor, staff.hrss, staff.housing
    answered = staff.new(api, {**CASE, "content": "我公司的高新技术企业认定补贴申请半年没有结果，请帮助查询。"})
    drive(api, answered, [("dispatch", op, {"department": "gz-hrss"}), ("accept", hrss, {}),
                          ("reply", hrss, {"text": "已转相关处室办理。"})])
    letter = staff.new(api, LETTER)
    drive(api, letter, [("dispatch", op, {"department": "gz-housing"}), ("accept", housing, {}),
                        ("reply", housing, {"text": REPLY}), ("review", sup, {"approve": True}),
                        ("close", op, {})])

    with LiveServer(app) as server:
        page = office_browser.signed_in(server.url, "督办老李")
        assert page.url == f"{server.url}/console/supervision"
        # 待审核答复: Enter in the note decides nothing; the button does.
        page.click("#tab-reviews")
        row = page.locator(f'tr[data-number="{answered}"]')
        row.locator('input[name="note"]').fill("答复过于简单，请说明办理结果和时间")
        row.locator('input[name="note"]').press("Enter")
        page.wait_for_timeout(300)
        db.session.expire_all()
        assert db.session.scalar(select(Case.status).where(Case.number == answered)) == "replied"
        row.get_by_role("button", name="退回重办").click()
        page.wait_for_load_state()
        assert f"{answered}：答复已退回承办单位。" in page.inner_text("main")
        db.session.expire_all()
        assert db.session.scalar(select(Case.status).where(Case.number == answered)) == "accepted"

        # 待公开审核: edit the masked draft beside the original, approve, see it on the board.
        page.click("#tab-publications")
        page.click(f"#row-{letter} a.num")
        assert "张建华" in page.inner_text("#original")
        assert "张建华" not in page.input_value("#question")
        page.fill("#title", TITLE)
        page.fill("#note", "标题改得更明确")
        submit(page, "#approve", console_shots / "supervisor-publication.png")
        assert "已批准公开" in page.inner_text("main")
        assert page.inner_text("#pub-state") == "已公开"
        submit(page, "#board-link")
        assert page.url == f"{server.url}/board/{letter}"
        board = page.inner_text("body")
        assert TITLE in board and "张建华" not in board and "13985012345" not in board


def test_supervisor_dashboard_and_reports_fit_a_phone(app, api, staff, office_browser,
                                                      console_shots):
    asking = staff.new(api, {**CASE, "content": "我公司申请的稳岗返还资金三个月未到账，请人社厅帮助查询。"})
    drive(api, asking, [("dispatch", staff.operator, {"department": "gz-hrss"}),
                        ("accept", staff.hrss, {}),
                        ("extension", staff.hrss, {"working_days": 5,
                                                   "reason": "需与财政厅核对拨付记录"})])
    with LiveServer(app) as server:
        phone = office_browser.signed_in(server.url, "督办老李", width=390, height=844)
        phone.screenshot(path=str(console_shots / "supervisor-dashboard-phone.png"),
                         full_page=True)
        phone.goto(f"{server.url}/console/reports")
        phone.wait_for_load_state("networkidle")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.screenshot(path=str(console_shots / "supervisor-reports-phone.png"), full_page=True)
