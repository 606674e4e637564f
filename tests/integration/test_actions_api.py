"""Every row of the action table (docs/lifecycle.md, "Actions") through the staff API, with its refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import CaseEvent


def events_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent))


def go(api, token, number, action, body=None):
    return api.post(f"/cases/{number}/{action}", token, body or {})


@pytest.fixture
def flow(api, tokens, new_case):
    """Bring a new case to a given status through the API."""

    def to(status: str, **case_kw) -> str:
        n = new_case(**case_kw)["number"]
        path = {
            "received": [],
            "dispatched": [("operator", "dispatch", {"department": "gz-hrss"})],
            "accepted": [("operator", "dispatch", {"department": "gz-hrss"}),
                         ("handler", "accept", {})],
            "replied": [("operator", "dispatch", {"department": "gz-hrss"}),
                        ("handler", "accept", {}), ("handler", "reply", {"text": "已处理"})],
            "reviewed": [("operator", "dispatch", {"department": "gz-hrss"}),
                         ("handler", "accept", {}), ("handler", "reply", {"text": "已处理"}),
                         ("supervisor", "review", {"approve": True})],
            "closed": [("operator", "dispatch", {"department": "gz-hrss"}),
                       ("handler", "accept", {}), ("handler", "reply", {"text": "已处理"}),
                       ("supervisor", "review", {"approve": True}), ("operator", "close", {})],
            "returned": [("operator", "dispatch", {"department": "gz-hrss"}),
                         ("handler", "return", {"reason": "非本单位职责"})],
            "answered": [("operator", "answer", {"text": "已当场答复"})],
        }[status]
        for who, action, body in path:
            r = go(api, getattr(tokens, who), n, action, body)
            assert r.status_code == 200, (action, r.get_json())
        return n

    return to


def test_dispatch_by_operator_sends_the_case_to_the_department(api, tokens, flow):
    n = flow("received")
    r = go(api, tokens.operator, n, "dispatch", {"department": "gz-hrss", "kind": "handle"})
    assert r.status_code == 200
    assert r.get_json()["department"] == "gz-hrss" and r.get_json()["status"] == "dispatched"


def test_returned_case_goes_back_to_dispatch_queue(api, tokens, flow):
    n = flow("returned")
    case = api.get(f"/cases/{n}", tokens.operator).get_json()
    assert case["status"] == "returned" and case["department"] is None
    assert case["events"][-1]["data"]["reason"] == "非本单位职责"
    queue = api.get("/cases?status=returned", tokens.operator).get_json()
    assert [c["number"] for c in queue["items"]] == [n]
    assert go(api, tokens.operator, n, "dispatch", {"department": "gov-520100"}).status_code == 200


def test_handler_signs_for_and_answers_its_case(api, tokens, flow):
    n = flow("dispatched")
    assert go(api, tokens.handler, n, "accept").get_json()["status"] == "accepted"
    r = go(api, tokens.handler, n, "reply", {"text": "经核实，已督促企业补发工资。"})
    assert r.get_json()["status"] == "replied"


def test_inform_case_is_closed_when_signed_for(api, tokens, flow):
    n = flow("received")
    go(api, tokens.operator, n, "dispatch", {"department": "gz-hrss", "kind": "inform"})
    assert go(api, tokens.handler, n, "accept").get_json()["status"] == "closed"


def test_extension_request_and_approval_move_the_due_date(api, tokens, flow):
    n = flow("accepted")
    due = api.get(f"/cases/{n}", tokens.operator).get_json()["due_date"]
    r = go(api, tokens.handler, n, "extension", {"working_days": 5, "reason": "需赴现场核查"})
    assert r.status_code == 200 and r.get_json()["pending_extension"]["working_days"] == 5
    assert r.get_json()["due_date"] == due
    r = go(api, tokens.supervisor, n, "extension-decision", {"approve": True, "note": "同意"})
    body = r.get_json()
    assert body["pending_extension"] is None and body["extension_days"] == 5
    assert body["due_date"] > due


def test_review_rejection_returns_the_answer_to_the_department(api, tokens, flow):
    n = flow("replied")
    r = go(api, tokens.operator, n, "review", {"approve": False, "note": "答复过于笼统"})
    assert r.get_json()["status"] == "accepted"
    assert go(api, tokens.handler, n, "reply", {"text": "补充答复"}).status_code == 200


def test_instant_answer_then_close(api, tokens, flow):
    n = flow("answered")
    case = api.get(f"/cases/{n}", tokens.operator).get_json()
    assert case["kind"] == "instant" and case["answer_text"] == "已当场答复"
    assert go(api, tokens.operator, n, "close").get_json()["status"] == "closed"


def test_leadership_instruction_marks_case_supervised(api, tokens, flow):
    n = flow("accepted")
    r = go(api, tokens.supervisor, n, "instruct", {"text": "请人社厅从速办理，三日内报结果。"})
    assert r.get_json()["supervised"] is True and r.get_json()["status"] == "accepted"
    listed = api.get("/cases?supervised=true", tokens.supervisor).get_json()
    assert [c["number"] for c in listed["items"]] == [n]


def test_reopened_case_gets_a_fresh_deadline_and_is_dispatched_again(api, tokens, flow):
    n = flow("closed")
    r = go(api, tokens.supervisor, n, "reopen", {"reason": "回访不满意，工资仍未发放"})
    body = r.get_json()
    assert body["status"] == "reopened" and body["closed_at"] is None
    assert body["events"][-1]["data"]["due_date"] == body["due_date"]
    assert go(api, tokens.operator, n, "dispatch", {"department": "gz-hrss"}).status_code == 200


# --- refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize("status,action,who,body", [
    ("accepted", "accept", "handler", {}),
    ("dispatched", "dispatch", "operator", {"department": "gz-hrss"}),
    ("dispatched", "reply", "handler", {"text": "x"}),
    ("accepted", "return", "handler", {"reason": "x"}),
    ("accepted", "close", "operator", {}),
    ("replied", "extension", "handler", {"working_days": 2, "reason": "x"}),
    ("reviewed", "review", "supervisor", {"approve": True}),
    ("dispatched", "answer", "operator", {"text": "x"}),
    ("closed", "instruct", "supervisor", {"text": "x"}),
    ("accepted", "reopen", "supervisor", {"reason": "x"}),
    ("accepted", "extension-decision", "supervisor", {"approve": True}),
])
def test_action_in_the_wrong_status_is_refused_with_409_and_changes_nothing(
        api, tokens, flow, status, action, who, body):
    n = flow(status)
    before = api.get(f"/cases/{n}", tokens.operator).get_json()
    count = events_count()
    r = go(api, getattr(tokens, who), n, action, body)
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "illegal_transition"
    after = api.get(f"/cases/{n}", tokens.operator).get_json()
    assert after == before and events_count() == count


@pytest.mark.parametrize("status,action,who,body", [
    ("dispatched", "dispatch", "handler", {"department": "gz-hrss"}),
    ("dispatched", "accept", "operator", {}),
    ("dispatched", "return", "supervisor", {"reason": "x"}),
    ("accepted", "extension", "operator", {"working_days": 2, "reason": "x"}),
    ("accepted", "reply", "supervisor", {"text": "x"}),
    ("replied", "review", "handler", {"approve": True}),
    ("received", "answer", "supervisor", {"text": "x"}),
    ("accepted", "instruct", "operator", {"text": "x"}),
    ("reviewed", "close", "handler", {}),
    ("closed", "reopen", "operator", {"reason": "x"}),
])
def test_action_by_the_wrong_role_is_refused_with_403(api, tokens, flow, status, action, who,
                                                       body):
    n = flow(status)
    count = events_count()
    r = go(api, getattr(tokens, who), n, action, body)
    assert r.status_code == 403, r.get_json()
    assert r.get_json()["error"]["code"] == "forbidden"
    assert events_count() == count


def test_extension_decision_is_for_supervisors(api, tokens, flow):
    n = flow("accepted")
    go(api, tokens.handler, n, "extension", {"working_days": 3, "reason": "需协调多部门"})
    assert go(api, tokens.handler, n, "extension-decision", {"approve": True}).status_code == 403
    assert go(api, tokens.operator, n, "extension-decision", {"approve": True}).status_code == 403


def test_handler_of_another_department_gets_404_for_the_case_and_its_actions(api, tokens, flow):
    n = flow("dispatched")
    assert api.get(f"/cases/{n}", tokens.other_handler).status_code == 404
    r = go(api, tokens.other_handler, n, "accept")
    assert r.status_code == 404
    missing = api.get("/cases/ZT20990101-9999", tokens.other_handler).get_json()["error"]
    # Same answer as for a number that does not exist: nothing to learn from probing.
    assert r.get_json()["error"]["code"] == missing["code"] == "not_found"
    assert r.get_json()["error"]["message"] == missing["message"].replace("ZT20990101-9999", n)
    assert api.get("/cases", tokens.other_handler).get_json()["total"] == 0
    assert api.get(f"/cases/{n}", tokens.operator).get_json()["status"] == "dispatched"


def test_stale_version_is_refused_with_409(api, tokens, flow):
    n = flow("dispatched")
    seen = api.get(f"/cases/{n}", tokens.handler).get_json()["version"]
    go(api, tokens.supervisor, n, "instruct", {"text": "加快办理", "version": seen})
    r = go(api, tokens.handler, n, "accept", {"version": seen})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "stale_version"
    assert api.get(f"/cases/{n}", tokens.handler).get_json()["status"] == "dispatched"
    assert go(api, tokens.handler, n, "accept", {"version": seen + 1}).status_code == 200


def test_admin_may_do_anything(api, tokens, flow):
    n = flow("dispatched")
    for action, body in (("accept", {}), ("reply", {"text": "管理员代为答复"}),
                         ("review", {"approve": True}), ("close", {})):
        assert go(api, tokens.admin, n, action, body).status_code == 200


def test_unknown_action_is_404(api, tokens, flow):
    n = flow("received")
    r = go(api, tokens.operator, n, "approve")
    assert r.status_code == 404 and "dispatch" in r.get_json()["error"]["message"]
