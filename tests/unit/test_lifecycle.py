"""The lifecycle table of SPEC §4 as plain Python: every action from every status and role."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from hotline.domain.deadlines import PROVINCE_TZ, Deadlines
from hotline.domain.errors import (
    Forbidden,
    IllegalTransition,
    NotFound,
    UnknownReference,
    ValidationFailed,
)
from hotline.domain.lifecycle import ACTIONS, Actor, Context, Status, allowed_actions, perform

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=PROVINCE_TZ)
DUE = Deadlines(dt.date(2026, 11, 24), dt.date(2026, 12, 7),
                dt.datetime(2026, 12, 7, 23, 59, 59, tzinfo=PROVINCE_TZ), False)

OPERATOR = Actor("op", "operator")
SUPERVISOR = Actor("sup", "supervisor")
ADMIN = Actor("root", "admin")
HANDLER = Actor("h", "handler", "gz-hrss")
OTHER_HANDLER = Actor("h2", "handler", "gov-520100")

BODIES = {
    "dispatch": {"department": "gz-hrss"},
    "recall": {"department": "gov-520100", "reason": "应由贵阳市办理"},
    "accept": {},
    "return": {"reason": "不属于本单位职责"},
    "extension": {"working_days": 5, "reason": "需现场核查"},
    "extension-decision": {"approve": True},
    "reply": {"text": "已办结"},
    "review": {"approve": True},
    "answer": {"text": "已当场解答"},
    "instruct": {"text": "请从速办理"},
    "close": {},
    "reopen": {"reason": "群众不满意"},
    "cohandle": {"departments": ["gz-zjt"]},
    "cohandle-part": {"text": "经核实，该项目欠薪已列入清欠台账", "department": "gz-hrss"},
    "merge": {"into": "FP20261120-0001"},
}

# action: (statuses it starts from, status it ends in or None for "unchanged", actor allowed)
TABLE = {
    "dispatch": ({"received", "returned", "reopened"}, "dispatched", OPERATOR),
    "recall": ({"dispatched", "accepted"}, "dispatched", SUPERVISOR),
    "accept": ({"dispatched"}, "accepted", HANDLER),
    "return": ({"dispatched"}, "returned", HANDLER),
    "extension": ({"accepted"}, None, HANDLER),
    "extension-decision": ({"accepted", "replied"}, None, SUPERVISOR),
    "reply": ({"accepted"}, "replied", HANDLER),
    "review": ({"replied"}, "reviewed", SUPERVISOR),
    "answer": ({"received", "returned"}, "answered", OPERATOR),
    "instruct": ({s.value for s in Status} - {"closed"}, None, SUPERVISOR),
    "close": ({"reviewed", "answered"}, "closed", OPERATOR),
    "reopen": ({"closed"}, "reopened", SUPERVISOR),
    "cohandle": ({"dispatched", "accepted"}, None, OPERATOR),
    "cohandle-part": ({"dispatched", "accepted"}, None, HANDLER),
    "merge": ({"received", "returned", "dispatched", "accepted", "reopened"}, "merged",
              OPERATOR),
}


def make_case(status: str, **kw) -> SimpleNamespace:
    fields = {"status": status, "kind": "handle", "department_code": "gz-hrss", "supervised": False,
                  "pending_extension_days": None, "pending_extension_reason": None, "extension_days": 0,
                  "reply_text": None, "answer_text": None, "deadline_base_at": NOW, "accepted_at": None,
                  "replied_at": None, "closed_at": None, "accept_due_date": None, "due_date": None,
                  "due_at": None, "deadline_provisional": False, "cohandlers": []}
    if status == "extension-pending":
        fields["status"] = "accepted"
    fields.update(kw)
    return SimpleNamespace(**fields)


def make_lead(status: str = "accepted", number: str = "FP20261120-0001",
              **kw) -> SimpleNamespace:
    return make_case(status, number=number, merged_into=None, **kw)


def ctx(*cases: SimpleNamespace) -> Context:
    """The context of an action; `cases` are the other cases it may name (by number), by
    default one lead case a case may be merged into."""
    known = {c.number: c for c in (cases or (make_lead(),))}
    return Context(now=NOW, deadlines=lambda c: DUE, department_exists=lambda code: code != "nope",
                   find_case=known.get)


def cohandler(code: str, **kw) -> SimpleNamespace:
    return SimpleNamespace(department_code=code, due_date=None, part_text=None, part_at=None,
                           part_by=None, **kw)


def prepared(action: str, status: str) -> SimpleNamespace:
    case = make_case(status)
    if action == "extension-decision":
        case.pending_extension_days = 5
    if action == "cohandle-part":
        # The handler's department (gz-hrss) co-handles; the lead is another department.
        case.department_code = "gov-520100"
        case.cohandlers = [cohandler("gz-hrss")]
    return case


@pytest.mark.parametrize("action", list(TABLE))
def test_every_action_moves_only_from_its_statuses(action: str):
    sources, target, actor = TABLE[action]
    assert set(ACTIONS[action].sources) == sources
    for status in Status:
        case = prepared(action, status.value)
        if status.value in sources:
            event = perform(action, case, actor, dict(BODIES[action]), ctx())
            assert case.status == (target or status.value)
            assert event.action == action and event.from_status == status.value
        else:
            before = dict(vars(case))
            with pytest.raises(IllegalTransition):
                perform(action, case, actor, dict(BODIES[action]), ctx())
            assert vars(case) == before


@pytest.mark.parametrize("action", list(TABLE))
def test_only_the_roles_in_the_table_may_act(action: str):
    sources, _, _allowed = TABLE[action]
    status = min(sources)
    for actor in (OPERATOR, SUPERVISOR, HANDLER):
        case = prepared(action, status)
        may = actor.role in ACTIONS[action].roles
        if may:
            perform(action, case, actor, dict(BODIES[action]), ctx())
        else:
            with pytest.raises(Forbidden):
                perform(action, case, actor, dict(BODIES[action]), ctx())
            assert case.status == status
    # admins may do anything
    perform(action, prepared(action, status), ADMIN, dict(BODIES[action]), ctx())


def test_handler_of_another_department_does_not_see_the_case():
    case = make_case("dispatched")
    with pytest.raises(NotFound):
        perform("accept", case, OTHER_HANDLER, {}, ctx())
    assert case.status == "dispatched"


def test_accepting_an_inform_case_closes_it():
    case = make_case("dispatched", kind="inform")
    perform("accept", case, HANDLER, {}, ctx())
    assert case.status == "closed" and case.closed_at == NOW


def test_return_sends_the_case_back_to_dispatch_without_a_department():
    case = make_case("dispatched")
    event = perform("return", case, HANDLER, {"reason": "应由贵阳市办理"}, ctx())
    assert case.status == "returned" and case.department_code is None
    assert event.data["department"] == "gz-hrss"


def test_rejected_review_goes_back_to_the_department_and_needs_a_note():
    case = make_case("replied")
    with pytest.raises(ValidationFailed):
        perform("review", case, SUPERVISOR, {"approve": False}, ctx())
    assert case.status == "replied"
    perform("review", case, SUPERVISOR, {"approve": False, "note": "答复未说明付款时间"}, ctx())
    assert case.status == "accepted"


def test_extension_waits_for_a_decision_and_only_one_at_a_time():
    case = make_case("accepted")
    perform("extension", case, HANDLER, {"working_days": 5, "reason": "需现场核查"}, ctx())
    assert case.pending_extension_days == 5 and case.status == "accepted"
    with pytest.raises(IllegalTransition):
        perform("extension", case, HANDLER, {"working_days": 2, "reason": "再延"}, ctx())
    perform("extension-decision", case, SUPERVISOR, {"approve": True}, ctx())
    assert case.extension_days == 5 and case.pending_extension_days is None


def test_refused_extension_adds_no_days():
    case = make_case("accepted", pending_extension_days=3, pending_extension_reason="x")
    perform("extension-decision", case, SUPERVISOR, {"approve": False}, ctx())
    assert case.extension_days == 0 and case.pending_extension_days is None


def test_decision_without_a_request_is_refused():
    with pytest.raises(IllegalTransition):
        perform("extension-decision", make_case("accepted"), SUPERVISOR, {"approve": True}, ctx())


@pytest.mark.parametrize("days", [0, -1, 31, "5", True, None])
def test_extension_needs_a_sensible_number_of_days(days):
    case = make_case("accepted")
    with pytest.raises(ValidationFailed):
        perform("extension", case, HANDLER, {"working_days": days, "reason": "x"}, ctx())
    assert case.pending_extension_days is None


def test_reopen_starts_a_fresh_deadline_from_now():
    case = make_case("closed", extension_days=4, closed_at=NOW)
    later = dt.datetime(2026, 12, 1, 9, tzinfo=PROVINCE_TZ)
    c = Context(now=later, deadlines=lambda k: DUE)
    perform("reopen", case, SUPERVISOR, {"reason": "回访不满意"}, c)
    assert case.status == "reopened" and case.deadline_base_at == later
    assert case.extension_days == 0 and case.closed_at is None and case.due_date == DUE.due_date


def test_dispatch_to_an_unknown_department_is_refused_and_changes_nothing():
    case = make_case("received", department_code=None)
    with pytest.raises(UnknownReference):
        perform("dispatch", case, OPERATOR, {"department": "nope"}, ctx())
    assert case.status == "received" and case.department_code is None


def test_instruct_marks_the_case_supervised_without_moving_it():
    case = make_case("accepted")
    perform("instruct", case, SUPERVISOR, {"text": "请务必十日内办结"}, ctx())
    assert case.supervised and case.status == "accepted"


def test_an_inform_case_is_not_answered_on_the_spot():
    with pytest.raises(IllegalTransition):
        perform("answer", make_case("received", kind="inform"), OPERATOR, {"text": "x"}, ctx())


def test_unknown_action_is_not_found():
    with pytest.raises(NotFound):
        perform("approve-all", make_case("received"), ADMIN, {}, ctx())


# --- what the console offers: allowed_actions is exactly what perform accepts ---------------

def _accepted_by_perform(action: str, actor: Actor, case: SimpleNamespace) -> bool:
    try:
        perform(action, case, actor, dict(BODIES[action]), ctx())
    except (Forbidden, IllegalTransition, NotFound):
        return False
    return True


@pytest.mark.parametrize("actor", [OPERATOR, SUPERVISOR, ADMIN, HANDLER, OTHER_HANDLER],
                         ids=lambda a: a.name)
def test_allowed_actions_are_exactly_the_ones_perform_accepts(actor: Actor):
    shapes = [{"kind": "handle"}, {"kind": "inform"}, {"pending_extension_days": 3},
              {"department_code": None}]
    for status in Status:
        for shape in shapes:
            offered = allowed_actions(actor, make_case(status.value, **shape))
            accepted = [action for action in ACTIONS
                        if _accepted_by_perform(action, actor, make_case(status.value, **shape))]
            assert offered == accepted, (status, shape)


def test_a_handler_is_offered_sign_for_and_return_on_a_dispatched_case_of_its_department():
    assert allowed_actions(HANDLER, make_case("dispatched")) == ["accept", "return"]
    assert allowed_actions(OTHER_HANDLER, make_case("dispatched")) == []


def test_extension_is_offered_until_a_request_waits_then_only_the_decision():
    assert "extension" in allowed_actions(HANDLER, make_case("accepted"))
    waiting = make_case("accepted", pending_extension_days=5, pending_extension_reason="核查")
    assert "extension" not in allowed_actions(HANDLER, waiting)
    assert "extension-decision" in allowed_actions(SUPERVISOR, waiting)
    assert "extension-decision" not in allowed_actions(SUPERVISOR, make_case("accepted"))


def test_the_operator_is_offered_dispatch_and_answer_on_a_new_case_but_no_answer_for_inform():
    assert allowed_actions(OPERATOR, make_case("received", department_code=None)) == [
        "dispatch", "answer", "merge"]
    assert allowed_actions(OPERATOR, make_case("received", kind="inform")) == [
        "dispatch", "merge"]


def test_a_closed_case_offers_only_reopen_and_only_to_a_supervisor():
    assert allowed_actions(SUPERVISOR, make_case("closed")) == ["reopen"]
    assert allowed_actions(OPERATOR, make_case("closed")) == []
    assert allowed_actions(HANDLER, make_case("closed")) == []


# --- 改派 (recall) -----------------------------------------------------------------------------

def test_recall_sends_a_signed_for_case_straight_to_another_department():
    case = make_case("accepted", accepted_at=NOW, pending_extension_days=3,
                     pending_extension_reason="需现场核查", reply_text="审核退回的旧答复")
    event = perform("recall", case, OPERATOR,
                    {"department": "gov-520100", "reason": "属贵阳市职责"}, ctx())
    assert case.status == "dispatched" and case.department_code == "gov-520100"
    assert event.data == {"department": "gov-520100", "from_department": "gz-hrss",
                          "reason": "属贵阳市职责"}
    # The new department starts by signing for it; the old one's request and answer are gone.
    assert case.accepted_at is None and case.pending_extension_days is None
    assert case.reply_text is None


def test_recall_keeps_the_deadlines_counted_from_receipt():
    received = dt.datetime(2026, 11, 2, 9, tzinfo=PROVINCE_TZ)
    case = make_case("accepted", deadline_base_at=received, extension_days=2,
                     due_date=dt.date(2026, 11, 18), accept_due_date=dt.date(2026, 11, 3))
    later = Context(now=NOW, deadlines=lambda c: pytest.fail("recall recounts no deadline"),
                    department_exists=lambda code: True)
    perform("recall", case, SUPERVISOR, {"department": "gov-520100", "reason": "错派"}, later)
    assert case.deadline_base_at == received and case.extension_days == 2
    assert case.due_date == dt.date(2026, 11, 18)
    assert case.accept_due_date == dt.date(2026, 11, 3)


@pytest.mark.parametrize("body,error", [
    ({"department": "gz-hrss", "reason": "x"}, ValidationFailed),  # where it is already
    ({"department": "nope", "reason": "x"}, UnknownReference),
    ({"department": "gov-520100"}, ValidationFailed),  # no reason
    ({"reason": "x"}, ValidationFailed),
])
def test_recall_needs_another_existing_department_and_a_reason(body, error):
    case = make_case("accepted", accepted_at=NOW)
    before = dict(vars(case))
    with pytest.raises(error):
        perform("recall", case, OPERATOR, body, ctx())
    assert vars(case) == before


def test_recall_is_offered_to_the_centre_not_to_departments():
    assert "recall" in allowed_actions(OPERATOR, make_case("dispatched"))
    assert "recall" in allowed_actions(SUPERVISOR, make_case("accepted"))
    assert "recall" not in allowed_actions(HANDLER, make_case("accepted"))
    assert "recall" not in allowed_actions(SUPERVISOR, make_case("replied"))
    assert "recall" not in allowed_actions(OPERATOR, make_case("received", department_code=None))
