"""The case page in a real browser (Debian's chromium, 1366×768): a clerk replies with a PDF,
a supervisor approves the review, the operator closes the case, and the timeline shows each
step with who did it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.extensions import db
from tests.e2e.conftest import needs_chromium, submit
from tests.integration.console.conftest import make_staff
from tests.integration.console.test_case_page import PDF, case_in
from tests.integration.web.conftest import LiveServer

needs_chromium()
pytestmark = pytest.mark.slow


def _people() -> None:
    make_staff("坐席小王", "operator")
    make_staff("督办老李", "supervisor")
    make_staff("人社承办", "handler", "gz-hrss")


def test_clerk_replies_with_a_pdf_then_supervisor_approves_and_operator_closes(
        app, office_browser, console_shots, tmp_path):
    _people()
    case = case_in("accepted")
    number = case.number
    db.session.remove()
    pdf = tmp_path / "付款计划.pdf"
    pdf.write_bytes(PDF)
    with LiveServer(app) as server:
        path = f"/console/cases/{number}"
        url = server.url + path

        clerk = office_browser.signed_in(server.url, "人社承办", path=path)
        clerk.click("#act-reply summary")
        clerk.fill("#reply-text", "经核实，区住建局已安排资金，工程款于12月20日前支付完毕。")
        clerk.set_input_files("#reply-files", str(pdf))
        submit(clerk, "#act-reply button[type=submit]", console_shots / "case-reply-form.png")
        assert clerk.inner_text("#case-status") == "已答复"
        assert "付款计划.pdf" in clerk.inner_text("#attachments")

        supervisor = office_browser.signed_in(server.url, "督办老李", path=path)
        supervisor.click("#act-review summary")
        supervisor.fill("#review-note", "答复具体，同意。")
        submit(supervisor, "#review-approve")
        assert supervisor.inner_text("#case-status") == "已审核"
        assert "审核已完成" in supervisor.inner_text("#done")

        operator = office_browser.signed_in(server.url, "坐席小王", path=path)
        operator.click("#act-close summary")
        submit(operator, "#close-submit")
        assert operator.inner_text("#case-status") == "已办结"
        assert operator.locator("details.action").count() == 2  # only 内部备注 and 更正信息 are left
        operator.screenshot(path=str(console_shots / "case-closed.png"), full_page=True)

        steps = operator.locator("#timeline li").all_inner_texts()

        def step(name: str) -> str:  # "2026-12-07 10:20 答复 人社承办（承办人） …"
            found = [s for s in steps if s.split()[2:3] == [name]]
            assert found, (name, steps)
            return found[-1]

        assert "人社承办（承办人）" in step("答复")
        assert "人社承办（承办人）" in step("附件") and "付款计划.pdf" in step("附件")
        assert "督办老李（督办）" in step("审核") and "答复具体，同意。" in step("审核")
        assert "坐席小王（坐席）" in step("办结")

        # The clerk's PDF downloads for the supervisor, as the PDF that was sent.
        supervisor.goto(url)
        with supervisor.expect_download() as download:
            supervisor.click("#attachments a.doc")
        assert download.value.suggested_filename == "付款计划.pdf"
        assert Path(download.value.path()).read_bytes() == PDF


def test_case_page_fits_a_phone_and_shows_the_operators_forms(app, office_browser,
                                                              console_shots):
    _people()
    case = case_in("received")
    number = case.number
    db.session.remove()
    with LiveServer(app) as server:
        phone = office_browser.signed_in(server.url, "坐席小王",
                                         path=f"/console/cases/{number}", width=390, height=844)
        phone.click("#act-dispatch summary")
        assert phone.is_visible("#dispatch-department")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width  # nothing wider than the phone's screen
        phone.screenshot(path=str(console_shots / "case-phone.png"), full_page=True)
        phone.select_option("#dispatch-department", "gz-hrss")
        submit(phone, "#act-dispatch button[type=submit]")
        assert phone.inner_text("#case-status") == "已转办"
        assert phone.inner_text("#case-department") == "贵州省人力资源和社会保障厅"
