"""The centre's workflow steps beyond the main way through (docs/lifecycle.md), through the
staff API: 改派 (recall) of a case from one department to another, with who may, from which
statuses, the clock and the timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import CaseEvent

from . import test_actions_api
from .test_actions_api import go

flow = test_actions_api.flow  # the fixture that brings a case to a status

GUIYANG = {"department": "gov-520100", "reason": "属贵阳市住建局职责，错派人社厅"}


def events_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent))


# --- 改派 (recall) ------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["dispatched", "accepted"])
def test_recalled_case_leaves_the_old_department_and_waits_in_the_new_ones_queue(
        api, tokens, flow, status):
    n = flow(status)
    before = api.get(f"/cases/{n}", tokens.operator).get_json()
    r = go(api, tokens.supervisor, n, "recall", GUIYANG)
    assert r.status_code == 200, r.get_json()
    case = r.get_json()
    assert (case["status"], case["department"]) == ("dispatched", "gov-520100")
    # The clock is the citizen's: it keeps running from receipt.
    assert (case["accept_due_date"], case["due_date"], case["due_at"]) == \
        (before["accept_due_date"], before["due_date"], before["due_at"])
    last = case["events"][-1]
    assert (last["action"], last["actor"], last["note"]) == ("recall", "sup1", None)

    # The old department loses sight of it; the new one finds it and signs for it.
    assert api.get(f"/cases/{n}", tokens.handler).status_code == 404
    assert go(api, tokens.handler, n, "reply", {"text": "已处理"}).status_code == 404
    assert n not in [c["number"] for c in
                     api.get("/cases", tokens.handler).get_json()["items"]]
    assert [c["number"] for c in api.get("/cases?status=dispatched",
                                         tokens.other_handler).get_json()["items"]] == [n]
    assert go(api, tokens.other_handler, n, "accept").get_json()["status"] == "accepted"


def test_operator_may_recall_but_no_department_may(api, tokens, flow):
    n = flow("accepted")
    count = events_count()
    for who in ("handler", "other_handler"):
        r = go(api, getattr(tokens, who), n, "recall", GUIYANG)
        assert r.status_code == {"handler": 403, "other_handler": 404}[who]
    assert events_count() == count
    assert go(api, tokens.operator, n, "recall", GUIYANG).status_code == 200


@pytest.mark.parametrize("status", ["received", "returned", "replied", "reviewed", "closed",
                                    "answered"])
def test_recall_from_a_status_no_department_is_working_in_is_refused(
        api, tokens, flow, status):
    n = flow(status)
    before = api.get(f"/cases/{n}", tokens.operator).get_json()
    r = go(api, tokens.supervisor, n, "recall", GUIYANG)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "illegal_transition"
    assert api.get(f"/cases/{n}", tokens.operator).get_json() == before


@pytest.mark.parametrize("body,status,field", [
    ({"department": "gz-hrss", "reason": "x"}, 400, "department"),
    ({"department": "no-such", "reason": "x"}, 422, "department"),
    ({"department": "gov-520100"}, 400, "reason"),
    ({"department": "gov-520100", "reason": "  "}, 400, "reason"),
    ({"department": "gov-520100", "reason": "x", "extra": 1}, 400, "extra"),
])
def test_recall_with_a_bad_body_changes_nothing(api, tokens, flow, body, status,
                                                field):
    n = flow("accepted")
    count = events_count()
    r = go(api, tokens.supervisor, n, "recall", body)
    assert r.status_code == status, r.get_json()
    assert field in r.get_json()["error"]["fields"]
    assert events_count() == count
    assert api.get(f"/cases/{n}", tokens.handler).get_json()["status"] == "accepted"


def test_the_citizen_hears_of_the_new_department(api, tokens, flow):
    n = flow("accepted")
    go(api, tokens.supervisor, n, "recall", GUIYANG)
    steps = [s["label"] for s in api.get(
        f"/public/cases/{n}?phone_tail=2345").get_json()["steps"]]
    assert steps[-1].startswith("已转交") and "贵阳" in steps[-1]


# --- who may take each new step: action × identity, on a case in the given status ---------------
# Columns: operator, handler (of the case's department), other handler, supervisor, admin.
MATRIX = {
    ("recall", "accepted", (("department", "gov-520100"), ("reason", "错派"))):
        "200 403 404 200 200",
    ("priority", "accepted", (("priority", "urgent"),)): "200 403 404 200 200",
    ("assign", "accepted", (("handler", "hrss1"),)): "403 200 404 403 200",
    ("interim-reply", "accepted", (("text", "正在核实"),)): "403 200 404 403 200",
    ("internal-note", "accepted", (("text", "来电人要求短信联系"),)): "200 200 404 200 200",
    ("internal-note", "closed", (("text", "回访时注意方式"),)): "200 200 404 200 200",
    ("instruct", "accepted", (("text", "请加快办理"), ("leader", "王副省长"))):
        "403 403 404 200 200",
}
WHO = ("operator", "handler", "other_handler", "supervisor", "admin")


@pytest.mark.parametrize("key", list(MATRIX), ids=lambda k: f"{k[0]}-{k[1]}")
def test_who_may_take_each_workflow_step(api, tokens, flow, key):
    action, status, body = key
    for who, expected in zip(WHO, MATRIX[key].split(), strict=True):
        n = flow(status)  # a fresh case for each identity: a step must not hide the next one
        r = go(api, getattr(tokens, who), n, action, dict(body))
        assert r.status_code == int(expected), (who, r.get_json())


# --- 紧急件 -------------------------------------------------------------------------------------

def test_urgent_at_intake_and_later_and_first_in_the_department_queue(api, tokens, new_case):
    calm = new_case(department="gz-hrss")["number"]
    urgent = new_case(department="gz-hrss", priority="urgent")
    assert urgent["priority"] == "urgent"
    later = new_case(department="gz-hrss")["number"]
    r = go(api, tokens.supervisor, later, "priority", {"priority": "urgent", "note": "涉及群体"})
    assert r.status_code == 200 and r.get_json()["priority"] == "urgent"
    assert r.get_json()["events"][-1]["data"] == {"priority": "urgent",
                                                  "previous_priority": "normal"}
    listed = api.get("/cases?priority=urgent", tokens.handler).get_json()["items"]
    assert {c["number"] for c in listed} == {urgent["number"], later}
    assert calm not in {c["number"] for c in listed}
    assert api.post("/cases", tokens.operator,
                    {"line": "zhitongche", "channel": "phone", "content": "测试",
                     "priority": "very"}).status_code == 400


# --- assignment inside the department ----------------------------------------------------------

def test_a_handler_assigns_the_case_to_a_colleague_and_the_list_finds_it_by_assignee(
        api, tokens, flow):
    from hotline.api.admin import create_user

    create_user("hrss2", "handler", "gz-hrss")
    n = flow("accepted")
    r = go(api, tokens.handler, n, "assign", {"handler": "hrss2"})
    assert r.status_code == 200 and r.get_json()["assignee"] == "hrss2"
    assert [c["number"] for c in api.get("/cases?assignee=hrss2",
                                         tokens.handler).get_json()["items"]] == [n]
    # Only a handler of the same department, and nobody else.
    count = events_count()
    for name in ("gy1", "sup1", "nobody"):
        r = go(api, tokens.handler, n, "assign", {"handler": name})
        assert r.status_code == 422 and "handler" in r.get_json()["error"]["fields"]
    assert events_count() == count
    assert api.get(f"/cases/{n}", tokens.handler).get_json()["assignee"] == "hrss2"


# --- internal notes ----------------------------------------------------------------------------

def test_internal_notes_are_for_staff_and_never_reach_the_citizen(api, tokens, flow):
    n = flow("accepted")
    sent_before = api.get(f"/outbox?case={n}", tokens.supervisor).get_json()["items"]
    secret = "来电人系区住建局前员工，注意回避"
    r = go(api, tokens.operator, n, "internal-note", {"text": secret})
    assert r.status_code == 200 and r.get_json()["status"] == "accepted"
    seen = api.get(f"/cases/{n}", tokens.handler).get_json()["events"][-1]
    assert (seen["action"], seen["data"]["text"], seen["actor"]) == ("internal-note", secret,
                                                                     "op1")
    assert api.get(f"/outbox?case={n}", tokens.supervisor).get_json()["items"] == sent_before
    public = api.get(f"/public/cases/{n}?phone_tail=2345")
    assert public.status_code == 200 and secret not in public.get_data(as_text=True)
    assert go(api, tokens.other_handler, n, "internal-note", {"text": "x"}).status_code == 404


# --- 阶段性答复 ----------------------------------------------------------------------------------

def test_interim_reply_goes_to_the_citizen_by_their_channel_and_the_case_stays(api, tokens,
                                                                                flow):
    n = flow("accepted")
    words = "您反映的工程款问题已约谈区住建局，正在核对合同，预计下周给出付款计划。"
    r = go(api, tokens.handler, n, "interim-reply", {"text": words})
    assert r.status_code == 200
    assert (r.get_json()["status"], r.get_json()["department"]) == ("accepted", "gz-hrss")
    messages = api.get(f"/outbox?case={n}", tokens.handler).get_json()["items"]
    [interim] = [m for m in messages if "阶段性答复" in m["text"]]
    assert (interim["channel"], interim["purpose"]) == ("sms", "notify")
    assert interim["recipient"] == "+8613985012345" and words in interim["text"]
    steps = [s["label"] for s in api.get(
        f"/public/cases/{n}?phone_tail=2345").get_json()["steps"]]
    assert any(s.startswith("承办单位阶段性答复：") for s in steps)
    assert go(api, tokens.handler, n, "interim-reply", {"text": "字" * 501}).status_code == 400


# --- 领导批示 and its feedback -------------------------------------------------------------------

def test_instruction_with_leader_and_feedback_deadline_is_closed_by_the_departments_feedback(
        api, tokens, flow):
    n = flow("accepted")
    r = go(api, tokens.supervisor, n, "instruct",
           {"text": "请人社厅会同贵阳市妥善解决", "leader": "王副省长", "feedback_days": 3})
    assert r.status_code == 200, r.get_json()
    case = r.get_json()
    assert case["supervised"] and case["instruction_due_date"]
    assert case["instruction_overdue"] is False
    assert case["events"][-1]["data"]["leader"] == "王副省长"
    assert [c["number"] for c in api.get("/cases?instruction=open",
                                         tokens.supervisor).get_json()["items"]] == [n]
    assert api.get("/cases?instruction=overdue", tokens.supervisor).get_json()["total"] == 0

    assert go(api, tokens.operator, n, "instruction-feedback", {"text": "x"}).status_code == 403
    r = go(api, tokens.handler, n, "instruction-feedback",
           {"text": "已会同贵阳市制定付款计划，首期款本周支付"})
    assert r.status_code == 200
    assert r.get_json()["instruction_due_date"] is None
    assert r.get_json()["events"][-1]["data"]["late"] is False
    assert api.get("/cases?instruction=open", tokens.supervisor).get_json()["total"] == 0
    again = go(api, tokens.handler, n, "instruction-feedback", {"text": "再次反馈"})
    assert again.status_code == 409


def test_an_instruction_past_its_feedback_day_is_overdue(api, tokens, flow):
    import datetime as dt

    from hotline.models import Case

    n = flow("accepted")
    go(api, tokens.supervisor, n, "instruct", {"text": "限期反馈", "feedback_days": 1})
    case = db.session.scalar(select(Case).where(Case.number == n))
    case.instruction_due_date = dt.date(2026, 11, 2)  # as if given weeks ago
    db.session.commit()
    got = api.get(f"/cases/{n}", tokens.handler).get_json()
    assert got["instruction_overdue"] is True
    assert [c["number"] for c in api.get("/cases?instruction=overdue",
                                         tokens.supervisor).get_json()["items"]] == [n]


@pytest.mark.parametrize("body,field", [
    ({"text": "x", "feedback_days": 0}, "feedback_days"),
    ({"text": "x", "feedback_days": "3"}, "feedback_days"),
    ({"text": "x", "feedback_by": "2020-01-01"}, "feedback_by"),
    ({"text": "x", "feedback_by": "明天"}, "feedback_by"),
    ({"text": "x", "leader": "长" * 65}, "leader"),
])
def test_an_instruction_with_a_bad_deadline_or_leader_changes_nothing(api, tokens, flow, body,
                                                                      field):
    n = flow("accepted")
    count = events_count()
    r = go(api, tokens.supervisor, n, "instruct", body)
    assert r.status_code == 400 and field in r.get_json()["error"]["fields"], r.get_json()
    assert events_count() == count
