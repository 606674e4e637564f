"""The case page's 协办 and 并单: the forms are offered only as the lifecycle allows, a
co-handling department sees the case and gives its part, the lead sees the parts, and a merged
case's page says which case it follows and how that case stands."""

from __future__ import annotations

from typing import Any

import pytest

from hotline import services
from hotline.domain.lifecycle import Actor
from hotline.extensions import db

from .conftest import make_staff
from .test_case_page import HANDLER, OPERATOR, case_in, offered, page_of, post_action

PART = "经核查，该项目工程款已由区财政拨付至建设单位，我厅已督促其三日内支付。"


@pytest.fixture
def housing(app: Any, staff: dict[str, Any]):
    """A signed-in handler of 贵州省住房和城乡建设厅 (gz-housing)."""
    from .conftest import sign_in

    make_staff("住建承办", "handler", "gz-housing")
    client = app.test_client()
    assert sign_in(client, "住建承办").status_code == 302
    return client


def test_the_operator_adds_a_co_handler_and_its_clerk_gives_the_part_the_lead_sees(
        console_as, housing):
    case = case_in("accepted")
    assert housing.get(f"/console/cases/{case.number}").status_code == 404
    operator = console_as("operator")
    html = page_of(operator, case.number)
    assert "cohandle" in offered(html) and 'id="cohandle-departments"' in html
    resp = post_action(operator, case.number, "cohandle",
                       {"departments": ["gz-housing"], "note": "涉及工程款拨付"}, html)
    assert resp.status_code == 302
    html = page_of(operator, case.number)
    assert "增加协办单位" in html and "贵州省住房和城乡建设厅" in html
    assert "协办意见待提交" in html

    mine = page_of(housing, case.number)
    assert offered(mine) == {"cohandle-part", "internal-note"}
    assert post_action(housing, case.number, "cohandle-part", {"text": PART},
                       mine).status_code == 302
    lead = page_of(console_as("handler"), case.number)
    assert PART in lead[lead.index('id="cohandlers"'):]
    assert offered(lead) == {"extension", "reply", "assign", "interim-reply", "internal-note"}
    # A co-handler's post of the lead's step is refused in Chinese and changes nothing.
    resp = post_action(housing, case.number, "reply", {"text": "越权答复"})
    assert resp.status_code == 403 and "不允许这项操作" in resp.get_data(as_text=True)
    db.session.refresh(case)
    assert case.status == "accepted" and case.reply_text is None


def test_the_co_handler_sees_the_case_in_its_queue_of_parts_to_give(console_as, housing):
    case = case_in("dispatched")
    services.act(case.number, "cohandle", OPERATOR, {"departments": ["gz-housing"]})
    desk = housing.get("/console/department?tab=cohandling").get_data(as_text=True)
    assert "待协办" in desk and case.number in desk
    part_due = case.cohandlers[0].due_date
    assert f"协办意见 {part_due}" in desk
    services.act(case.number, "cohandle-part", Actor("住建承办", "handler", "gz-housing"),
                 {"text": PART})
    desk = housing.get("/console/department?tab=cohandling").get_data(as_text=True)
    assert case.number not in desk
    # The lead's desk lists it as its own, not as a part to give.
    lead = console_as("handler").get("/console/department?tab=cohandling")
    assert case.number not in lead.get_data(as_text=True)


def test_merging_from_the_page_then_the_merged_case_shows_its_lead(console_as):
    lead = case_in("accepted")
    second = case_in("received", citizen={"name": "李秀英", "phone": "13608512345"})
    operator = console_as("operator")
    html = page_of(operator, second.number)
    resp = post_action(operator, second.number, "merge", {"into": second.number}, html)
    assert resp.status_code == 400 and "主办工单编号" in resp.get_data(as_text=True)
    resp = post_action(operator, second.number, "merge", {"into": lead.number})
    assert resp.status_code == 302
    html = page_of(operator, second.number)
    assert 'id="case-status">已并单' in html
    banner = html[html.index('id="merged-into"'):]
    assert lead.number in banner[:600] and "已签收" in banner[:600]
    assert offered(html) == {"internal-note", "correct"}
    led = page_of(operator, lead.number)
    assert second.number in led[led.index('id="followers"'):]
    # The lead's department is not told the number of a case it cannot open.
    assert second.number not in page_of(console_as("handler"), lead.number)
    services.act(lead.number, "reply", HANDLER, {"text": "工程款已全部支付。"})
    services.act(lead.number, "review", Actor("督办老李", "supervisor"), {"approve": True})
    services.act(lead.number, "close", OPERATOR, {})
    html = page_of(operator, second.number)
    assert 'id="case-status">已办结' in html and "工程款已全部支付。" in html


def test_merging_into_a_closed_case_is_refused_in_chinese(console_as):
    closed = case_in("closed")
    second = case_in("received")
    resp = post_action(console_as("supervisor"), second.number, "merge", {"into": closed.number})
    assert resp.status_code == 409 and "已办结" in resp.get_data(as_text=True)
    db.session.refresh(second)
    assert second.status == "received"


def test_a_co_handler_the_case_is_recalled_to_owes_no_part_and_leads_it(console_as, housing):
    case = case_in("accepted")
    services.act(case.number, "cohandle", OPERATOR, {"departments": ["gz-housing"]})
    services.act(case.number, "recall", OPERATOR,
                 {"department": "gz-housing", "reason": "工程款拨付属住建厅职责，改由住建厅主办。"})
    assert case.number not in housing.get("/console/department?tab=cohandling") \
        .get_data(as_text=True)
    assert case.number in housing.get("/console/department").get_data(as_text=True)
    assert offered(page_of(housing, case.number)) == {"accept", "return", "assign", "internal-note"}
