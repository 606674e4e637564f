"""协办 (co-handling) and 并单 (merging) through the staff API: who sees a co-handled case in
the list, the case, the ledger export and the reports; a co-handler's part; merging duplicates
from different callers into one lead case and closing them all with its answer."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import OutboxMessage, Survey

from .web.conftest import csrf_of

ANSWER = "经协调，区住建局已制定付款计划，工程款将于本月底前分两期支付完毕，农民工工资同步发放。"


def go(api, token, number, action, body=None):
    return api.post(f"/cases/{number}/{action}", token, body or {})


def ok(api, token, number, action, body=None) -> dict:
    resp = go(api, token, number, action, body)
    assert resp.status_code == 200, (action, resp.get_json())
    return resp.get_json()


@pytest.fixture
def housing(app):
    """A handler of the co-handling department 贵州省住房和城乡建设厅 (gz-housing)."""
    from hotline.api.admin import create_user

    return create_user("住建承办", "handler", "gz-housing")[1]


@pytest.fixture
def cohandled(api, tokens, new_case, housing):
    """A case dispatched to gz-hrss (lead) with gz-housing co-handling, signed for."""
    number = new_case()["number"]
    ok(api, tokens.operator, number, "dispatch",
       {"department": "gz-hrss", "cohandlers": ["gz-housing"]})
    ok(api, tokens.handler, number, "accept")
    return number


def numbers(api, token, **query) -> set[str]:
    args = "&".join(f"{k}={v}" for k, v in {"per_page": 100, **query}.items())
    resp = api.get(f"/cases?{args}", token)
    assert resp.status_code == 200
    return {c["number"] for c in resp.get_json()["items"]}


def test_a_co_handler_sees_the_case_everywhere_a_stranger_nowhere(api, tokens, cohandled,
                                                                  housing):
    case = api.get(f"/cases/{cohandled}", housing).get_json()
    assert case["department"] == "gz-hrss"
    assert [c["department"] for c in case["cohandlers"]] == ["gz-housing"]
    assert cohandled in numbers(api, housing)
    assert cohandled not in numbers(api, tokens.other_handler)
    assert api.get(f"/cases/{cohandled}", tokens.other_handler).status_code == 404
    assert go(api, tokens.other_handler, cohandled, "cohandle-part",
              {"text": "x"}).status_code == 404
    # The ledger export (台账) holds the list's cases.
    ledger = api.get("/ledger.csv", housing)
    assert ledger.status_code == 200
    rows = list(csv.reader(io.StringIO(ledger.get_data(as_text=True).lstrip("\ufeff"))))
    assert any(cohandled in row for row in rows)
    assert cohandled not in api.get("/ledger.csv", tokens.other_handler).get_data(as_text=True)


def test_the_co_handler_adds_its_part_and_the_lead_replies_with_it(api, tokens, cohandled,
                                                                   housing):
    for action, body in (("reply", {"text": "x"}), ("return", {"reason": "x"}),
                         ("extension", {"working_days": 2, "reason": "x"})):
        assert go(api, housing, cohandled, action, body).status_code == 403
    assert go(api, tokens.handler, cohandled, "cohandle-part", {"text": "x"}).status_code == 403
    part = "经核查，该项目工程款已由区财政拨付至建设单位，我厅已督促其三日内支付。"
    case = ok(api, housing, cohandled, "cohandle-part", {"text": part})
    assert case["status"] == "accepted"
    assert case["cohandlers"][0]["part_text"] == part
    assert case["cohandlers"][0]["part_by"] == "住建承办"
    step = case["events"][-1]
    assert (step["action"], step["actor"]) == ("cohandle-part", "住建承办")
    assert step["data"] == {"department": "gz-housing", "text": part}
    # The lead sees the part and replies; after the reply, no more parts.
    lead_view = api.get(f"/cases/{cohandled}", tokens.handler).get_json()
    assert lead_view["cohandlers"][0]["part_text"] == part
    ok(api, tokens.handler, cohandled, "reply", {"text": ANSWER})
    assert go(api, housing, cohandled, "cohandle-part", {"text": "补充"}).status_code == 409


def test_co_handlers_added_later_by_the_centre_get_a_part_deadline(api, tokens, new_case,
                                                                 housing):
    number = new_case()["number"]
    ok(api, tokens.operator, number, "dispatch", {"department": "gz-hrss"})
    assert api.get(f"/cases/{number}", housing).status_code == 404
    assert go(api, tokens.handler, number, "cohandle",
              {"departments": ["gz-housing"]}).status_code == 403
    refused = go(api, tokens.supervisor, number, "cohandle", {"departments": ["gz-hrss"]})
    assert refused.status_code == 400
    assert go(api, tokens.supervisor, number, "cohandle",
              {"departments": ["no-such"]}).status_code == 422
    case = ok(api, tokens.supervisor, number, "cohandle",
              {"departments": ["gz-housing"], "note": "涉及工程款拨付，请住建厅协办"})
    due = case["cohandlers"][0]["due_date"]
    assert due is not None and due < case["due_date"]
    assert case["events"][-1]["data"]["deadline"] == due
    assert api.get(f"/cases/{number}", housing).status_code == 200


def test_reports_count_a_co_handled_case_for_its_lead_only(api, tokens, cohandled, housing):
    theirs = api.get("/stats/summary", housing).get_json()
    assert theirs["filters"] == {"department": "gz-housing"} and theirs["total"] == 0
    lead = api.get("/stats/summary", tokens.handler).get_json()
    assert lead["total"] == 1 and lead["handling"]["accepted"] == 1


# --- 并单 -------------------------------------------------------------------------------------

@pytest.fixture
def duplicates(api, tokens, new_case):
    """Two calls about the same unpaid wages from different callers: the first dispatched and
    signed for, the second just logged."""
    lead = new_case()["number"]
    ok(api, tokens.operator, lead, "dispatch", {"department": "gz-hrss"})
    ok(api, tokens.handler, lead, "accept")
    second = new_case(content="贵阳某区住建部门拖欠黔兴建筑工程款，我们三十多个农民工的工资也被拖欠了"
                              "一年多，请帮忙催一催。",
                      citizen={"name": "李秀英", "phone": "13608512345"})["number"]
    return lead, second


def test_duplicates_from_different_callers_are_merged_and_closed_with_the_leads_answer(
        api, tokens, duplicates):
    lead, second = duplicates
    assert go(api, tokens.handler, second, "merge", {"into": lead}).status_code == 404
    assert go(api, tokens.handler, lead, "merge", {"into": second}).status_code == 403
    merged = ok(api, tokens.operator, second, "merge", {"into": lead, "note": "同一事项"})
    assert merged["status"] == "merged" and merged["merged_into"] == lead
    assert merged["department"] is None
    assert (merged["events"][-1]["action"], merged["events"][-1]["data"]["into"]) == (
        "merge", lead)
    lead_case = api.get(f"/cases/{lead}", tokens.operator).get_json()
    assert lead_case["events"][-1]["action"] == "merged_in"
    assert lead_case["events"][-1]["data"] == {"of": second}
    # It left the operators' queue of new cases.
    assert second not in numbers(api, tokens.operator, status="received")
    # Answered once: the lead's reply, review and closing close the merged case too.
    ok(api, tokens.handler, lead, "reply", {"text": ANSWER})
    ok(api, tokens.supervisor, lead, "review", {"approve": True})
    ok(api, tokens.operator, lead, "close")
    follower = api.get(f"/cases/{second}", tokens.operator).get_json()
    assert follower["status"] == "closed" and follower["reply_text"] == ANSWER
    assert follower["events"][-1]["action"] == "close"
    assert follower["events"][-1]["data"]["lead"] == lead
    # Its citizen is told the answer on their own channel and surveyed.
    db.session.expire_all()
    told = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == "notify", OutboxMessage.text.contains(second))).all()
    assert any("已办结" in m.text and ANSWER[:20] in m.text for m in told)
    assert {m.recipient for m in told} == {"+8613608512345"}
    surveyed = db.session.scalars(select(Survey).join(Survey.case)).all()
    assert {s.case.number for s in surveyed} == {lead, second}


def test_a_merge_refuses_itself_closed_leads_and_cases_the_caller_cannot_name(
        api, tokens, duplicates, new_case):
    lead, second = duplicates
    assert go(api, tokens.operator, second, "merge", {"into": second}).status_code == 400
    assert go(api, tokens.operator, second, "merge", {"into": "FP20000101-0001"}) \
        .status_code == 422
    assert go(api, tokens.operator, second, "merge", {}).status_code == 400
    closed = new_case()["number"]
    ok(api, tokens.operator, closed, "answer", {"text": "已当场答复"})
    ok(api, tokens.operator, closed, "close")
    assert go(api, tokens.operator, second, "merge", {"into": closed}).status_code == 409
    assert go(api, tokens.operator, closed, "merge", {"into": lead}).status_code == 409
    assert api.get(f"/cases/{second}", tokens.operator).get_json()["status"] == "received"


def test_merging_into_a_merged_case_follows_it_to_the_lead(api, tokens, duplicates, new_case):
    lead, second = duplicates
    third = new_case(citizen={"name": "张伟", "phone": "13765432109"})["number"]
    ok(api, tokens.operator, second, "merge", {"into": lead})
    case = ok(api, tokens.supervisor, third, "merge", {"into": second})
    assert case["merged_into"] == lead
    assert case["events"][-1]["data"] == {"into": lead, "department": None, "asked": second}


def test_a_lead_merged_later_takes_its_merged_cases_with_it(api, tokens, duplicates, new_case):
    lead, second = duplicates
    newest = new_case(citizen={"name": "张伟", "phone": "13765432109"})["number"]
    ok(api, tokens.operator, newest, "merge", {"into": second})
    ok(api, tokens.operator, second, "merge", {"into": lead})
    assert api.get(f"/cases/{newest}", tokens.operator).get_json()["merged_into"] == lead
    steps = api.get(f"/cases/{lead}", tokens.operator).get_json()["events"]
    assert {e["data"]["of"] for e in steps if e["action"] == "merged_in"} == {second, newest}


def test_a_handler_is_not_told_the_number_of_a_case_merged_into_its_case(api, tokens,
                                                                         duplicates):
    lead, second = duplicates
    ok(api, tokens.operator, second, "merge", {"into": lead})
    steps = api.get(f"/cases/{lead}", tokens.handler).get_json()["events"]
    assert "merged_in" not in {e["action"] for e in steps}
    assert api.get(f"/cases/{second}", tokens.handler).status_code == 404



def test_the_citizen_of_a_merged_case_sees_the_leads_progress_then_the_answer(
        api, tokens, duplicates):
    lead, second = duplicates
    ok(api, tokens.operator, second, "merge", {"into": lead})
    body = api.get(f"/public/cases/{second}?phone_tail=2345").get_json()
    assert body["status"] == "merged" and body["status_label"] == "已与同一事项合并办理"
    assert body["merged_into"] == {"number": lead, "status": "accepted",
                                   "status_label": "办理中",
                                   "department_name": "贵州省人力资源和社会保障厅",
                                   "due_date": api.get(f"/cases/{lead}", tokens.operator)
                                   .get_json()["due_date"]}
    assert body["steps"][-1]["label"].startswith(f"与同一事项合并办理（主办工单 {lead}）")
    assert "王建国" not in str(body["merged_into"])  # nothing of the lead's citizen
    form = api.client.get(f"/status?number={second}").get_data(as_text=True)
    page = api.client.post("/status", data={
        "csrf_token": csrf_of(form), "number": second, "phone_tail": "2345"})
    assert page.status_code == 200
    assert f"主办工单 <strong>{lead}</strong>：办理中" in page.get_data(as_text=True)
    ok(api, tokens.handler, lead, "reply", {"text": ANSWER})
    ok(api, tokens.supervisor, lead, "review", {"approve": True})
    ok(api, tokens.operator, lead, "close")
    body = api.get(f"/public/cases/{second}?phone_tail=2345").get_json()
    assert body["status_label"] == "已办结" and body["answer"].startswith("经协调")
    assert body["merged_into"]["status_label"] == "已办结"


# Who may take each new step on a signed-for case of gz-hrss that gz-housing co-handles, with a
# body refused after the gate where the step allows (the authorization matrix's way): 404 for a
# handler of an unrelated department, 403 for a role or department the step is not for.
#                     operator handler co-handler other_handler supervisor admin
STEP_MATRIX = {
    "cohandle": ({"departments": ["gz-hrss"]}, "400 403 403 404 400 400"),
    "cohandle-part": ({"text": "意见", "department": "gz-finance"}, "403 403 400 404 403 400"),
    "merge": ({"into": "{number}"}, "400 403 403 404 400 400"),
}


@pytest.mark.parametrize("action", list(STEP_MATRIX))
def test_who_may_take_the_co_handling_and_merging_steps(api, tokens, cohandled, housing,
                                                        action):
    body, expect = STEP_MATRIX[action]
    body = {k: v.format(number=cohandled) if isinstance(v, str) else v for k, v in body.items()}
    callers = (tokens.operator, tokens.handler, housing, tokens.other_handler,
               tokens.supervisor, tokens.admin)
    before = api.get(f"/cases/{cohandled}", tokens.operator).get_json()
    got = " ".join(str(go(api, token, cohandled, action, body).status_code)
                   for token in callers)
    assert got == expect
    assert api.get(f"/cases/{cohandled}", tokens.operator).get_json() == before
