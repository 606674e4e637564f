"""协办 (co-handling) and 并单 (merging) as plain Python: who sees a co-handled case and what each
department may do on it, when a co-handler's part is due, and the refusals of a merge."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.domain.errors import (
    Forbidden,
    IllegalTransition,
    NotFound,
    UnknownReference,
    ValidationFailed,
)
from hotline.domain.lifecycle import (
    Actor,
    allowed_actions,
    cohandler_due_date,
    follow_lead,
    may_see,
    perform,
)
from hotline.domain.workdays import WorkCalendar

from .test_lifecycle import NOW, OPERATOR, SUPERVISOR, cohandler, ctx, make_case, make_lead

LEAD = Actor("人社承办", "handler", "gz-hrss")
HELPER = Actor("住建承办", "handler", "gz-zjt")
STRANGER = Actor("贵阳承办", "handler", "gov-520100")


def cohandled(status: str = "accepted", **kw):
    return make_case(status, cohandlers=[cohandler("gz-zjt")], **kw)


def test_a_co_handling_department_sees_the_case_and_a_stranger_does_not():
    case = cohandled()
    assert may_see(LEAD, case) and may_see(HELPER, case)
    assert not may_see(STRANGER, case)
    with pytest.raises(NotFound):
        perform("cohandle-part", case, STRANGER, {"text": "x"}, ctx())


def test_a_co_handler_adds_its_part_and_takes_none_of_the_leads_steps():
    case = cohandled("accepted")
    assert allowed_actions(HELPER, case) == ["cohandle-part", "internal-note"]  # notes: anyone who sees it
    for action, body in (("reply", {"text": "已办结"}), ("extension",
                         {"working_days": 3, "reason": "x"})):
        with pytest.raises(Forbidden):
            perform(action, case, HELPER, body, ctx())
    dispatched = cohandled("dispatched")
    for action, body in (("accept", {}), ("return", {"reason": "不归我们管"})):
        with pytest.raises(Forbidden):
            perform(action, dispatched, HELPER, body, ctx())
    assert dispatched.status == "dispatched"
    event = perform("cohandle-part", case, HELPER, {"text": "项目工程款已拨付至总包单位"}, ctx())
    assert case.status == "accepted"
    assert event.data == {"department": "gz-zjt", "text": "项目工程款已拨付至总包单位"}
    part = case.cohandlers[0]
    assert part.part_text == "项目工程款已拨付至总包单位" and part.part_at == NOW
    assert part.part_by == "住建承办"


def test_the_lead_replies_and_gives_no_co_handlers_part():
    case = cohandled("accepted")
    assert "cohandle-part" not in allowed_actions(LEAD, case)
    assert "reply" in allowed_actions(LEAD, case)
    with pytest.raises(Forbidden):
        perform("cohandle-part", case, LEAD, {"text": "x"}, ctx())


def test_a_part_is_refused_once_the_lead_has_replied():
    case = cohandled("replied")
    with pytest.raises(IllegalTransition):
        perform("cohandle-part", case, HELPER, {"text": "补充意见"}, ctx())


def test_co_handlers_are_added_by_the_centre_with_their_part_due_before_the_leads():
    case = make_case("accepted", due_date=dt.date(2026, 12, 7))
    event = perform("cohandle", case, OPERATOR, {"departments": ["gz-zjt", "gov-520100"]}, ctx())
    assert [c.department_code for c in case.cohandlers] == ["gz-zjt", "gov-520100"]
    # Three working days before Monday 7 December: Wednesday 2 December.
    assert event.data == {"departments": ["gz-zjt", "gov-520100"], "deadline": "2026-12-02"}
    assert {c.due_date for c in case.cohandlers} == {dt.date(2026, 12, 2)}
    with pytest.raises(Forbidden):
        perform("cohandle", make_case("accepted"), LEAD, {"departments": ["gz-zjt"]}, ctx())


@pytest.mark.parametrize("departments, error", [
    (["gz-hrss"], ValidationFailed),  # the lead itself
    (["gz-zjt"], ValidationFailed),  # already co-handles
    (["nope"], UnknownReference),
    ([], ValidationFailed),
    ("gz-zjt", ValidationFailed),
])
def test_adding_co_handlers_refuses_bad_lists_and_adds_none_of_them(departments, error):
    case = cohandled("accepted")
    with pytest.raises(error):
        perform("cohandle", case, SUPERVISOR, {"departments": departments}, ctx())
    assert [c.department_code for c in case.cohandlers] == ["gz-zjt"]


def test_dispatch_may_name_co_handlers_at_once():
    case = make_case("received", department_code=None, due_date=dt.date(2026, 12, 7))
    event = perform("dispatch", case, OPERATOR,
                    {"department": "gz-hrss", "cohandlers": ["gz-zjt"]}, ctx())
    assert case.department_code == "gz-hrss" and event.data["cohandlers"] == ["gz-zjt"]
    assert may_see(HELPER, case)


def test_a_part_due_date_never_falls_before_tomorrow_nor_after_the_leads():
    calendar = WorkCalendar()
    today = dt.date(2026, 12, 3)  # Thursday
    assert cohandler_due_date(dt.date(2026, 12, 18), today, calendar) == dt.date(2026, 12, 15)
    # The lead is due Monday: three working days back is past; the next working day is Friday.
    assert cohandler_due_date(dt.date(2026, 12, 7), today, calendar) == dt.date(2026, 12, 4)
    # The lead is due tomorrow... or today: never after the lead's own deadline.
    assert cohandler_due_date(dt.date(2026, 12, 3), today, calendar) == dt.date(2026, 12, 3)
    # A weekend is not counted: from Monday 7 December back three working days is Wed 2nd.
    assert cohandler_due_date(dt.date(2026, 12, 7), dt.date(2026, 11, 23),
                              calendar) == dt.date(2026, 12, 2)
    assert cohandler_due_date(None, today, calendar) is None


# --- 并单 ---------------------------------------------------------------------------------

def test_a_merged_case_leaves_its_department_and_follows_the_lead():
    lead = make_lead("accepted")
    case = make_case("dispatched", number="FP20261120-0002")
    event = perform("merge", case, OPERATOR, {"into": lead.number}, ctx(lead))
    assert case.status == "merged" and case.merged_into is lead
    assert case.department_code is None
    assert event.data == {"into": lead.number, "department": "gz-hrss"}
    # nothing to do but wait for the lead (and note what staff should know)
    assert allowed_actions(OPERATOR, case) == ["internal-note"]
    assert allowed_actions(LEAD, case) == []


def test_a_merge_refuses_itself_a_closed_lead_and_a_case_nobody_showed():
    case = make_case("received", number="FP20261120-0002")
    with pytest.raises(ValidationFailed):
        perform("merge", case, OPERATOR, {"into": case.number}, ctx(case))
    with pytest.raises(IllegalTransition):
        perform("merge", case, OPERATOR, {"into": "FP20261120-0001"},
                ctx(make_lead("closed")))
    with pytest.raises(UnknownReference):  # not there, or not visible to the caller
        perform("merge", case, OPERATOR, {"into": "FP20261120-0009"}, ctx())
    with pytest.raises(ValidationFailed):
        perform("merge", case, OPERATOR, {}, ctx())
    assert case.status == "received" and not hasattr(case, "merged_into")


def test_merging_into_a_merged_case_merges_into_its_lead():
    lead = make_lead("accepted")
    middle = make_case("merged", number="FP20261120-0002", merged_into=lead)
    case = make_case("received", number="FP20261120-0003")
    event = perform("merge", case, OPERATOR, {"into": middle.number}, ctx(lead, middle))
    assert case.merged_into is lead
    assert event.data["into"] == lead.number and event.data["asked"] == middle.number


def test_handlers_do_not_merge_and_a_merged_or_answered_case_is_not_merged_again():
    with pytest.raises(Forbidden):
        perform("merge", make_case("accepted"), LEAD, {"into": "FP20261120-0001"}, ctx())
    for status in ("merged", "replied", "closed", "answered"):
        with pytest.raises(IllegalTransition):
            perform("merge", make_case(status), OPERATOR, {"into": "FP20261120-0001"}, ctx())


def test_a_merged_case_is_closed_with_its_leads_answer():
    lead = make_lead("closed", reply_text="欠薪已于12月5日全部发放", replied_at=NOW)
    case = make_case("merged", merged_into=lead, department_code=None)
    later = NOW + dt.timedelta(days=1)
    event = follow_lead(case, lead, later)
    assert case.status == "closed" and case.closed_at == later
    assert case.reply_text == "欠薪已于12月5日全部发放"
    assert (event.action, event.from_status, event.to_status) == ("close", "merged", "closed")
    with pytest.raises(IllegalTransition):
        follow_lead(make_case("accepted"), lead, later)
