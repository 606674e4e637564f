"""The lifecycle table (docs/lifecycle.md) as plain Python: every action from every status and role."""

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
from hotline.domain.lifecycle import (
    ACTIONS,
    Actor,
    Context,
    Status,
    allowed_actions,
    instruction_overdue,
    perform,
)

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
    "priority": {"priority": "urgent"},
    "assign": {"handler": "h"},
    "interim-reply": {"text": "已约谈区住建局，正在核对工程款"},
    "instruction-feedback": {"text": "已按批示督促区住建局制定付款计划"},
    "internal-note": {"text": "来电人情绪激动，回访时注意方式"},
}
OPEN = {s.value for s in Status} - {"closed", "merged"}

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
    "priority": (OPEN, None, OPERATOR),
    "assign": ({"dispatched", "accepted"}, None, HANDLER),
    "interim-reply": ({"accepted"}, None, HANDLER),
    "instruction-feedback": ({"dispatched", "accepted", "replied"}, None, HANDLER),
}


def make_case(status: str, **kw) -> SimpleNamespace:
    fields = {"status": status, "kind": "handle", "department_code": "gz-hrss", "supervised": False,
                  "pending_extension_days": None, "pending_extension_reason": None, "extension_days": 0,
                  "reply_text": None, "answer_text": None, "deadline_base_at": NOW, "accepted_at": None,
                  "replied_at": None, "closed_at": None, "accept_due_date": None, "due_date": None,
                  "due_at": None, "deadline_provisional": False, "cohandlers": [],
                  "priority": "normal", "assignee": None, "instruction_due_date": None}
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
    if action == "instruction-feedback":
        case.instruction_due_date = dt.date(2026, 11, 30)
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
              {"department_code": None}, {"instruction_due_date": dt.date(2026, 11, 30)}]
    for status in Status:
        for shape in shapes:
            offered = allowed_actions(actor, make_case(status.value, **shape))
            accepted = [action for action in ACTIONS
                        if _accepted_by_perform(action, actor, make_case(status.value, **shape))]
            assert offered == accepted, (status, shape)


def test_a_handler_is_offered_sign_for_and_return_on_a_dispatched_case_of_its_department():
    assert allowed_actions(HANDLER, make_case("dispatched")) == [
        "accept", "return", "assign", "internal-note"]
    assert allowed_actions(OTHER_HANDLER, make_case("dispatched")) == []


def test_extension_is_offered_until_a_request_waits_then_only_the_decision():
    assert "extension" in allowed_actions(HANDLER, make_case("accepted"))
    waiting = make_case("accepted", pending_extension_days=5, pending_extension_reason="核查")
    assert "extension" not in allowed_actions(HANDLER, waiting)
    assert "extension-decision" in allowed_actions(SUPERVISOR, waiting)
    assert "extension-decision" not in allowed_actions(SUPERVISOR, make_case("accepted"))


def test_the_operator_is_offered_dispatch_and_answer_on_a_new_case_but_no_answer_for_inform():
    assert allowed_actions(OPERATOR, make_case("received", department_code=None)) == [
        "dispatch", "answer", "merge", "priority", "internal-note"]
    assert allowed_actions(OPERATOR, make_case("received", kind="inform")) == [
        "dispatch", "merge", "priority", "internal-note"]


def test_a_closed_case_offers_only_reopen_to_a_supervisor_and_internal_notes():
    assert allowed_actions(SUPERVISOR, make_case("closed")) == ["reopen", "internal-note"]
    assert allowed_actions(OPERATOR, make_case("closed")) == ["internal-note"]
    assert allowed_actions(HANDLER, make_case("closed")) == ["internal-note"]


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


# --- 紧急件, assignment, notes, interim replies, 领导批示 and its feedback --------------------------

def test_priority_is_set_by_the_centre_and_a_change_to_the_same_is_refused():
    case = make_case("accepted")
    event = perform("priority", case, OPERATOR, {"priority": "urgent"}, ctx())
    assert case.priority == "urgent" and case.status == "accepted"
    assert event.data == {"priority": "urgent", "previous_priority": "normal"}
    for body in ({"priority": "urgent"}, {"priority": "very"}, {}):
        with pytest.raises(ValidationFailed):
            perform("priority", case, SUPERVISOR, body, ctx())
    assert case.priority == "urgent"
    with pytest.raises(Forbidden):
        perform("priority", case, HANDLER, {"priority": "normal"}, ctx())


def test_assignment_goes_only_to_a_handler_of_the_same_department():
    handlers = {("gz-hrss", "人社小张"), ("gov-520100", "贵阳小李")}
    c = Context(now=NOW, deadlines=lambda k: DUE,
                handler_of=lambda dep, name: (dep, name) in handlers)
    case = make_case("accepted")
    perform("assign", case, HANDLER, {"handler": "人社小张"}, c)
    assert case.assignee == "人社小张"
    with pytest.raises(UnknownReference):
        perform("assign", case, HANDLER, {"handler": "贵阳小李"}, c)
    assert case.assignee == "人社小张"
    with pytest.raises(NotFound):
        perform("assign", case, OTHER_HANDLER, {"handler": "贵阳小李"}, c)
    with pytest.raises(Forbidden):
        perform("assign", case, OPERATOR, {"handler": "人社小张"}, c)


def test_return_and_recall_take_the_case_from_its_assignee():
    for action, body in (("return", {"reason": "非本单位职责"}),
                         ("recall", {"department": "gov-520100", "reason": "错派"})):
        case = make_case("dispatched", assignee="人社小张")
        perform(action, case, ADMIN, body, ctx())
        assert case.assignee is None


@pytest.mark.parametrize("actor", [OPERATOR, SUPERVISOR, HANDLER, ADMIN], ids=lambda a: a.name)
def test_any_staff_who_sees_the_case_may_add_an_internal_note_in_any_status(actor: Actor):
    for status in Status:
        case = make_case(status.value)
        event = perform("internal-note", case, actor, {"text": "来电人要求只回复手机"}, ctx())
        assert case.status == status.value and event.data == {"text": "来电人要求只回复手机"}
    with pytest.raises(NotFound):
        perform("internal-note", make_case("accepted"), OTHER_HANDLER, {"text": "x"}, ctx())
    with pytest.raises(ValidationFailed):
        perform("internal-note", make_case("accepted"), actor, {"text": " "}, ctx())


def test_instruction_carries_its_leader_and_a_feedback_deadline_in_working_days():
    case = make_case("accepted")  # NOW is Monday 2026-11-23
    event = perform("instruct", case, SUPERVISOR,
                    {"text": "请尽快协调解决", "leader": "王副省长", "feedback_days": 3}, ctx())
    assert case.supervised and case.instruction_due_date == dt.date(2026, 11, 26)
    assert event.data == {"text": "请尽快协调解决", "leader": "王副省长",
                          "feedback_due_date": "2026-11-26"}
    # By default five working days; a second instruction keeps the earlier deadline.
    perform("instruct", case, SUPERVISOR, {"text": "再次督促"}, ctx())
    assert case.instruction_due_date == dt.date(2026, 11, 26)
    later = make_case("accepted")
    perform("instruct", later, SUPERVISOR, {"text": "x", "feedback_by": dt.date(2026, 12, 1)},
            ctx())
    assert later.instruction_due_date == dt.date(2026, 12, 1)
    default = make_case("accepted")
    perform("instruct", default, SUPERVISOR, {"text": "x"}, ctx())
    assert default.instruction_due_date == dt.date(2026, 11, 30)


@pytest.mark.parametrize("body", [
    {"text": "x", "feedback_by": dt.date(2026, 11, 22)},  # yesterday
    {"text": "x", "feedback_days": 0},
    {"text": "x", "feedback_days": 31},
    {"text": "x", "feedback_days": 2, "feedback_by": dt.date(2026, 12, 1)},
])
def test_an_instruction_with_an_impossible_feedback_deadline_changes_nothing(body):
    case = make_case("accepted")
    before = dict(vars(case))
    with pytest.raises(ValidationFailed):
        perform("instruct", case, SUPERVISOR, body, ctx())
    assert vars(case) == before


def test_the_departments_feedback_closes_the_instructions_and_says_if_it_was_late():
    case = make_case("accepted", instruction_due_date=dt.date(2026, 11, 20))
    assert instruction_overdue(case, NOW)
    event = perform("instruction-feedback", case, HANDLER, {"text": "已制定付款计划"}, ctx())
    assert case.instruction_due_date is None and not instruction_overdue(case, NOW)
    assert event.data == {"text": "已制定付款计划", "feedback_due_date": "2026-11-20",
                          "late": True}
    with pytest.raises(IllegalTransition):  # nothing waits any more
        perform("instruction-feedback", case, HANDLER, {"text": "再反馈"}, ctx())


def test_an_instruction_is_overdue_only_after_its_day_and_while_the_case_is_open():
    due_today = make_case("accepted", instruction_due_date=dt.date(2026, 11, 23))
    assert not instruction_overdue(due_today, NOW)
    assert instruction_overdue(due_today, NOW + dt.timedelta(days=1))
    closed = make_case("closed", instruction_due_date=dt.date(2026, 11, 2))
    assert not instruction_overdue(closed, NOW)


def test_interim_reply_keeps_the_case_with_the_department():
    case = make_case("accepted")
    event = perform("interim-reply", case, HANDLER, {"text": "正在核实，预计下周给出结果"}, ctx())
    assert case.status == "accepted" and event.data == {"text": "正在核实，预计下周给出结果"}
    with pytest.raises(IllegalTransition):
        perform("interim-reply", make_case("dispatched"), HANDLER, {"text": "x"}, ctx())
