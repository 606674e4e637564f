"""The centre's workflow steps beyond SPEC's table, through the staff API: 改派 (recall) of a case
from one department to another, with who may, from which statuses, the clock and the timeline."""

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
