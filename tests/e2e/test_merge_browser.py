"""并单 in a real browser (Debian's chromium, 1366×768): two calls about the same unpaid wages,
from two callers — one by phone, one by WeChat — are merged into one case by the operator; the
department answers once, and both citizens get the answer on their own channel (the fake Twilio
and WeChat servers receive it) and are surveyed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline import services
from hotline.domain.lifecycle import Actor
from hotline.extensions import db
from hotline.models import Survey
from tests.conftest import CASE
from tests.e2e.conftest import needs_chromium, submit
from tests.integration.console.conftest import make_staff
from tests.integration.web.conftest import LiveServer
from tests.integration.workers.conftest import (  # noqa: F401 (fixtures)
    OPENID,
    app,
    config_overrides,
    relay_and_work,
)

needs_chromium()
pytestmark = pytest.mark.slow

OPERATOR = Actor("坐席小王", "operator")
ANSWER = "经协调，区住建局已制定付款计划，拖欠的工程款和农民工工资将于本月25日前全部支付。"


def test_two_duplicate_cases_from_different_callers_are_merged_answered_once_and_both_told(
        app, office_browser, console_shots, fake_twilio, fake_wechat):  # noqa: F811
    make_staff("坐席小王", "operator")
    make_staff("督办老李", "supervisor")
    make_staff("人社承办", "handler", "gz-hrss")
    lead, _ = services.create_case(dict(CASE), OPERATOR)
    services.act(lead.number, "dispatch", OPERATOR, {"department": "gz-hrss"})
    services.act(lead.number, "accept", Actor("人社承办", "handler", "gz-hrss"), {})
    second, _ = services.create_case({
        **CASE, "channel": "wechat",
        "content": "黔兴建筑在贵阳的工地欠我们农民工工资一年多了，说是住建部门没给工程款，请帮忙催一催。",
        "citizen": {"name": "李秀英", "openid": OPENID}}, OPERATOR)
    lead_number, second_number = lead.number, second.number
    db.session.remove()

    with LiveServer(app) as server:
        operator = office_browser.signed_in(server.url, "坐席小王",
                                            path=f"/console/cases/{second_number}")
        operator.click("#act-merge summary")
        operator.fill("#merge-into", lead_number)
        operator.fill("#merge-note", "与工单同一事项（黔兴建筑欠薪）")
        submit(operator, "#merge-submit", console_shots / "case-merge-form.png")
        assert "并单已完成" in operator.inner_text("#done")
        assert operator.inner_text("#case-status") == "已并单"
        assert lead_number in operator.inner_text("#merged-into")
        operator.goto(f"{server.url}/console/cases/{lead_number}")
        assert second_number in operator.inner_text("#followers")

        clerk = office_browser.signed_in(server.url, "人社承办",
                                         path=f"/console/cases/{lead_number}")
        clerk.click("#act-reply summary")
        clerk.fill("#reply-text", ANSWER)
        submit(clerk, "#act-reply button[type=submit]")
        assert clerk.inner_text("#case-status") == "已答复"

        supervisor = office_browser.signed_in(server.url, "督办老李",
                                              path=f"/console/cases/{lead_number}")
        supervisor.click("#act-review summary")
        submit(supervisor, "#review-approve")
        operator.goto(f"{server.url}/console/cases/{lead_number}")
        operator.click("#act-close summary")
        submit(operator, "#close-submit")
        assert operator.inner_text("#case-status") == "已办结"

        operator.goto(f"{server.url}/console/cases/{second_number}")
        assert operator.inner_text("#case-status") == "已办结"
        assert ANSWER in operator.inner_text("#case-reply")
        operator.screenshot(path=str(console_shots / "case-merged-closed.png"), full_page=True)

    relay_and_work(app)
    # Both citizens, each on their own channel, got the one answer and a survey.
    sms = [m["body"] for m in fake_twilio.messages if m["to"] == "+8613985012345"]
    assert any(lead_number in body and "已办结" in body and ANSWER[:20] in body for body in sms)
    wechat = [str(m) for m in fake_wechat.sent_to(OPENID)]
    assert any(second_number in text and ANSWER[:20] in text for text in wechat)
    assert not any(lead_number in text for text in wechat)
    surveyed = {s.case.number for s in db.session.scalars(select(Survey))}
    assert surveyed == {lead_number, second_number}
