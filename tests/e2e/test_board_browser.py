"""The message board in a real headless browser (Debian's chromium driven by Playwright): a
citizen writes on the form and gets the number, looks up the status, and — once staff have
handled the case through the staff API and approved it for publication — finds it on the board
with personal data masked.

Screenshots of the form, the status page, the board and the case page go to
``$BOARD_SCREENSHOTS_DIR`` when set (to look at them), else to the test's temporary folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.api.admin import create_user
from tests.e2e.conftest import needs_chromium, screenshot_folder
from tests.integration.web.conftest import LiveServer

needs_chromium()
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.slow

TITLE = "小区旁工地夜间施工噪音扰民"
CONTENT = ("我叫张建华，家住贵阳市云岩区中华北路88号3栋2单元501室，电话13985012345，"
           "身份证520102198507153829。小区旁边的建筑工地每天夜里十二点以后还在施工，噪音很大，"
           "老人孩子无法休息，按照《贵阳市环境噪声污染防治规定》夜间不得施工，请帮助解决。")
REPLY = ("经核查，该工地确存在夜间违规施工问题。区住建局已于11月25日约谈施工单位，责令其晚上"
         "十点后停止高噪音作业，并安排执法人员不定期夜查。张建华同志如再发现夜间施工，请拨打"
         "12345反映。")
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 4096


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return screenshot_folder("BOARD_SCREENSHOTS_DIR", tmp_path)


@pytest.fixture
def browser_page(app, office_browser):
    # A phone: most citizens open the board from WeChat.
    return office_browser.new_page(width=390, height=844, device_scale_factor=2,
                                   is_mobile=True, has_touch=True)


def handle_through_staff_api(api, tokens, number: str) -> None:
    case = api.get(f"/cases/{number}", tokens.operator).get_json()
    if case["status"] == "received":
        resp = api.post(f"/cases/{number}/dispatch", tokens.operator,
                        {"department": "gz-housing"})
        assert resp.status_code == 200, resp.get_json()
        case = resp.get_json()
    handler = create_user("e2e-handler", "handler", case["department"])[1]
    for token, action, body in ((handler, "accept", {}), (handler, "reply", {"text": REPLY}),
                                (tokens.operator, "review", {"approve": True}),
                                (tokens.operator, "close", {})):
        resp = api.post(f"/cases/{number}/{action}", token, body)
        assert resp.status_code == 200, (action, resp.get_json())
    draft = api.get(f"/publications/{number}", tokens.operator).get_json()
    assert "张建华" not in draft["question"]
    resp = api.post(f"/publications/{number}/approve", tokens.supervisor, {"note": "同意公开"})
    assert resp.status_code == 200, resp.get_json()


def test_citizen_writes_checks_status_and_finds_the_masked_answer_on_the_board(
        app, api, tokens, browser_page, shots):
    page = browser_page
    with LiveServer(app) as server:
        # 1. Write on the form.
        page.goto(f"{server.url}/write")
        assert page.title().startswith("我要留言")
        assert page.locator("#enterprise-field").is_hidden()  # not asked on 省长信箱
        page.select_option("#category", "complaint")
        page.fill("#title", TITLE)
        page.fill("#content", CONTENT)
        page.fill("#name", "张建华")
        page.fill("#phone", "139 8501 2345")
        page.select_option("#region", "520103")
        page.check("#public_consent")
        page.set_input_files("#attachments", files=[
            {"name": "夜间施工.jpg", "mimeType": "image/jpeg", "buffer": PHOTO}])
        page.screenshot(path=str(shots / "form.png"), full_page=True)
        page.click("#submit")
        page.wait_for_url(re.compile(r"/write/done$"))
        number = page.inner_text("#case-number").strip()
        assert re.fullmatch(r"BD\d{8}-\d{4}", number), number
        page.screenshot(path=str(shots / "written.png"), full_page=True)

        # 2. Look up the status with the number and the phone's last four digits.
        page.click("text=查询办理进度 >> nth=0")
        page.wait_for_url(re.compile(r"/status\?number="))
        assert page.input_value("#number") == number
        page.fill("#phone_tail", "1111")
        page.click("#lookup")
        assert "没有找到" in page.inner_text("#not-found")
        page.fill("#phone_tail", "2345")
        page.click("#lookup")
        assert page.inner_text("#status-label") in ("已受理", "已转办")
        assert "张建华" not in page.inner_text("#result")
        page.screenshot(path=str(shots / "status.png"), full_page=True)

        # 3. Staff handle the case and approve it for the board.
        handle_through_staff_api(api, tokens, number)

        # 4. The citizen finds it on the board, masked.
        page.goto(f"{server.url}/board")
        card = page.locator("li.card", has_text=number)
        assert card.count() == 1
        board_text = page.inner_text("main")
        assert TITLE in board_text
        for secret in ("张建华", "13985012345", "3栋2单元501室", "520102198507153829"):
            assert secret not in board_text, secret
        page.screenshot(path=str(shots / "board.png"), full_page=True)
        page.fill("#q", "噪音")
        page.click(".search button")
        assert page.locator("li.card", has_text=number).count() == 1
        card.locator("a.title").click()
        page.wait_for_url(re.compile(rf"/board/{number}$"))
        case_text = page.inner_text("article.case")
        assert "张某某" in case_text and "电话139**" in case_text
        assert "区住建局已于11月25日约谈施工单位" in case_text
        assert "张建华" not in case_text and "3栋2单元501室" not in case_text
        page.screenshot(path=str(shots / "case.png"), full_page=True)

        # 5. The status page now shows the answer and the way to the board.
        page.goto(f"{server.url}/status?number={number}")
        page.fill("#phone_tail", "2345")
        page.click("#lookup")
        assert page.inner_text("#status-label") == "已办结"
        assert page.locator("a", has_text="在留言公开中查看").count() == 1
