"""The staff API of calls: logging a call into a case (and answering on the spot), the call
list, the call figures of the reports, and the search over earlier answers (即时答复)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Call, CallbackTask, Case, CaseEvent, Line

from .conftest import CALLER, call_params, local

CALL = "CA" + "1" * 32
OPERATOR_LEG = "CA" + "9" * 32
ANSWER = ("低保申请由户籍所在地乡镇（街道）受理，县级民政部门审批，自受理之日起30个工作日内办结；"
          "逾期未办可向县民政局反映，电话0857-6221234。")


@pytest.fixture
def answered_call(twilio) -> str:
    """A call to 扶贫专线 that an operator has just taken off the queue."""
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/connect", call_params(CALL, QueueTime="6", DequeingCallSid=OPERATOR_LEG))
    return CALL


def test_operator_answers_on_the_spot_while_logging_the_call(answered_call, api, tokens):
    resp = api.post(f"/calls/{answered_call}/case", tokens.operator, {
        "category": "policy_consult",
        "content": "来电咨询：低保申请交上去以后多长时间能批下来？",
        "answer": ANSWER,
        "knowledge_case": "FP20261001-0001",
    })
    assert resp.status_code == 201, resp.get_json()
    case = resp.get_json()["case"]
    assert (case["status"], case["kind"], case["answer_text"]) == ("answered", "instant", ANSWER)
    actions = [e["action"] for e in case["events"]]
    assert actions[0] == "create" and actions[-2:] == ["call", "answer"]
    call_event = case["events"][-2]
    assert call_event["data"]["knowledge_case"] == "FP20261001-0001"
    assert resp.headers["Location"] == f"/api/v1/cases/{case['number']}"


def test_operator_joins_a_repeat_caller_to_the_case_already_open(answered_call, api, tokens,
                                                                new_case):
    earlier = new_case(line="fupin", category="hardship", channel="phone",
                       citizen={"name": "李秀英", "phone": CALLER},
                       content="反映危房改造补助一直未到位。")
    resp = api.post(f"/calls/{answered_call}/case", tokens.operator,
                    {"case": earlier["number"], "note": "来电人催问办理进度"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["case"]["number"] == earlier["number"]
    assert body["call"]["case"] == earlier["number"]
    event = body["case"]["events"][-1]
    assert (event["action"], event["note"]) == ("call", "来电人催问办理进度")
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_answering_a_case_that_cannot_be_answered_changes_nothing(answered_call, api, tokens,
                                                                 new_case):
    case = new_case()
    api.post(f"/cases/{case['number']}/dispatch", tokens.operator, {"department": "gz-hrss"})
    resp = api.post(f"/calls/{answered_call}/case", tokens.operator,
                    {"case": case["number"], "answer": ANSWER})
    assert resp.status_code == 409
    db.session.expire_all()
    call = db.session.scalar(select(Call))
    assert call.case_id is None
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.action == "call")) == 0


def test_retrying_with_the_same_idempotency_key_returns_the_case_it_made(answered_call, api,
                                                                        tokens):
    body = {"content": "咨询扶贫小额信贷贴息政策。", "category": "policy_consult"}
    headers = {"Idempotency-Key": "op1-call-77"}
    first = api.post(f"/calls/{answered_call}/case", tokens.operator, body, headers=headers)
    again = api.post(f"/calls/{answered_call}/case", tokens.operator, body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["case"]["number"] == again.get_json()["case"]["number"]


@pytest.mark.parametrize("body, field", [
    ({}, "content"),
    ({"content": "  "}, "content"),
    ({"case": "FP20261123-0001", "content": "又一件"}, "content"),
    ({"content": "咨询", "kind": "inform", "answer": "已答复"}, "answer"),
    ({"content": "咨询", "line": "fupin"}, "line"),
])
def test_bad_call_log_bodies_are_refused_with_the_field_named(answered_call, api, tokens, body,
                                                             field):
    resp = api.post(f"/calls/{answered_call}/case", tokens.operator, body)
    assert resp.status_code == 400
    assert field in resp.get_json()["error"]["fields"]
    assert db.session.scalar(select(Call.case_id)) is None


def test_who_may_log_and_list_calls(answered_call, api, tokens):
    body = {"content": "咨询"}
    assert api.post(f"/calls/{answered_call}/case", tokens.handler, body).status_code == 403
    assert api.get("/calls", tokens.handler).status_code == 403
    assert api.post(f"/calls/{answered_call}/case", None, body).status_code == 401
    assert api.post("/calls/CA404/case", tokens.operator, body).status_code == 404
    missing = api.post(f"/calls/{answered_call}/case", tokens.operator,
                       {"case": "FP20200101-0404"})
    assert missing.status_code == 404


def test_call_list_filters_by_outcome_line_and_whether_logged(twilio, api, tokens):
    twilio.twiml("/voice", call_params(CALL))
    twilio.twiml("/connect", call_params(CALL, QueueTime="20", DequeingCallSid=OPERATOR_LEG))
    twilio.twiml("/voice", call_params("CA" + "2" * 32, caller="+8613700001111"))
    twilio.twiml("/queue-result", call_params("CA" + "2" * 32, caller="+8613700001111",
                                              QueueResult="hangup", QueueTime="44"))

    everything = api.get("/calls", tokens.operator).get_json()
    assert everything["total"] == 2
    abandoned = api.get("/calls?outcome=abandoned", tokens.supervisor).get_json()["items"]
    assert [c["from"] for c in abandoned] == ["+8613700001111"]
    answered = api.get("/calls?outcome=answered&logged=false&line=fupin",
                       tokens.operator).get_json()["items"]
    assert [(c["call_sid"], c["queue_seconds"], c["answered_within_target"]) for c in answered] \
        == [(CALL, 20, False)]
    by_phone = api.get("/calls?phone=13985012345", tokens.operator).get_json()["items"]
    assert [c["call_sid"] for c in by_phone] == [CALL]
    one = api.get(f"/calls/{CALL}", tokens.operator).get_json()
    assert one["stage"] == "connected" and one["case"] is None
    assert api.get("/calls?outcome=lost", tokens.operator).status_code == 400


# --- figures -----------------------------------------------------------------------------------

def add_call(line: str, n: int, start: dt.datetime, outcome: str | None, queue: int | None = None,
             *, after_hours: bool = False, duration: int | None = None) -> None:
    row = db.session.scalar(select(Line).where(Line.code == line))
    db.session.add(Call(call_sid=f"CA{line[:2]}{n:030d}", direction="inbound", line=row,
                        from_number=f"+86139850100{n:02d}", to_number=row.phone_number,
                        started_at=start, after_hours=after_hours, stage="ended",
                        outcome=outcome, queue_seconds=queue, duration_seconds=duration,
                        answered_at=start + dt.timedelta(seconds=(queue or 0) + 5)
                        if outcome == "answered" else None))


def test_call_figures_count_offered_answered_within_15_seconds_abandoned_and_callbacks(api,
                                                                                      tokens):
    day = local(2026, 10, 12, 9)
    for n, (outcome, queue, duration) in enumerate([
            ("answered", 8, 300), ("answered", 15, 200), ("answered", 16, 100),
            ("answered", 40, 400), ("abandoned", 30, None), ("message", 90, None)]):
        add_call("fupin", n, day + dt.timedelta(minutes=n), outcome, queue, duration=duration)
    add_call("zhitongche", 1, local(2026, 10, 13, 20), "message", after_hours=True)
    add_call("zhitongche", 2, local(2026, 10, 14, 10), "answered", 5, duration=60)
    add_call("fupin", 99, local(2026, 11, 1, 0, 30), "answered", 3)  # next month
    for status in ("done", "done", "open", "cancelled"):
        db.session.add(CallbackTask(kind="missed_call", phone=CALLER, line_code="fupin",
                                    status=status, created_at=day))
    db.session.add(CallbackTask(kind="recording", phone=CALLER, line_code="fupin",
                                status="done", created_at=day))
    db.session.commit()

    october = api.get("/calls/figures?from=2026-10-01&to=2026-10-31",
                      tokens.supervisor).get_json()

    assert (october["offered"], october["to_operators"], october["after_hours"]) == (8, 7, 1)
    assert (october["answered"], october["answered_within_15s"]) == (5, 3)
    assert (october["abandoned"], october["messages"]) == (1, 2)
    assert october["within_15s_rate"] == 42.86  # 3 of the 7 calls offered to operators
    assert october["answer_rate"] == 71.43 and october["abandon_rate"] == 14.29
    assert october["missed_call_callbacks"] == {"total": 4, "done": 2, "open": 1,
                                                "cancelled": 1}
    assert october["avg_wait_seconds"] == 16.8  # (8+15+16+40+5)/5
    fupin = next(line for line in october["by_line"] if line["line"] == "fupin")
    assert (fupin["offered"], fupin["answered_within_15s"], fupin["longest_wait_seconds"]) == \
        (6, 2, 40)
    assert fupin["within_15s_rate"] == 33.33 and fupin["name"] == "扶贫专线"

    only = api.get("/calls/figures?from=2026-10-01&to=2026-10-31&line=zhitongche",
                   tokens.operator).get_json()
    assert (only["offered"], only["after_hours"], only["answered"], only["within_15s_rate"]) == \
        (2, 1, 1, 100.0)
    assert only["missed_call_callbacks"]["total"] == 0
    assert [line["line"] for line in only["by_line"]] == ["zhitongche"]


def test_call_figures_of_an_empty_period_and_bad_periods(api, tokens):
    empty = api.get("/calls/figures?from=2026-01-01&to=2026-01-31", tokens.operator).get_json()
    assert (empty["offered"], empty["answer_rate"], empty["by_line"]) == (0, None, [])
    assert api.get("/calls/figures?from=2026-02-01&to=2026-01-01",
                   tokens.operator).status_code == 400
    assert api.get("/calls/figures?line=nope", tokens.operator).status_code == 404
    assert api.get("/calls/figures?from=yesterday", tokens.operator).status_code == 400


# --- knowledge of earlier answers ---------------------------------------------------------------

def answered_case(new_case, api, tokens, content: str, answer: str, **kw) -> str:
    number = new_case(line="fupin", category="policy_consult", content=content,
                      citizen={"name": "张三", "phone": "13900000000"}, **kw)["number"]
    assert api.post(f"/cases/{number}/answer", tokens.operator, {"text": answer}).status_code \
        == 200
    return number


def test_earlier_answers_are_found_by_the_words_of_the_question(api, tokens, new_case):
    dibao = answered_case(new_case, api, tokens, "请问农村低保申请需要多长时间审批？", ANSWER)
    answered_case(new_case, api, tokens, "易地扶贫搬迁安置点的孩子怎么办理转学？",
                  "持安置证明到安置点所在地教育局办理，学位由县教育局统筹安排。")
    pending = new_case(line="fupin", category="policy_consult",
                       content="低保审批太慢，三个月了还没有消息。")["number"]
    api.post(f"/cases/{pending}/dispatch", tokens.operator, {"department": "gz-civil"})

    resp = api.get("/knowledge?q=低保申请要多久才能批下来", tokens.operator)

    assert resp.status_code == 200
    body = resp.get_json()
    assert "低保" in body["terms"]
    numbers = [item["number"] for item in body["items"]]
    assert numbers[0] == dibao
    assert pending not in numbers  # not answered yet: nothing to reuse
    top = body["items"][0]
    assert top["answer"] == ANSWER and "低保" in top["matched"]
    assert top["question"] == "请问农村低保申请需要多长时间审批？"


def test_knowledge_search_narrows_by_line_and_refuses_empty_questions(api, tokens, new_case):
    answered_case(new_case, api, tokens, "小额信贷贴息怎么申请？", "向户籍所在地乡镇农商行网点申请。")
    other_line = api.get("/knowledge?q=小额信贷&line=zhitongche", tokens.operator).get_json()
    assert other_line["items"] == []
    assert len(api.get("/knowledge?q=小额信贷", tokens.operator).get_json()["items"]) == 1
    assert api.get("/knowledge?q=", tokens.operator).status_code == 400
    assert api.get("/knowledge", tokens.operator).status_code == 400
    assert api.get("/knowledge?q=的了吗", tokens.operator).get_json()["items"] == []
    assert api.get("/knowledge?q=低保", tokens.handler).status_code == 403


def test_the_calls_api_is_in_the_openapi_document(api):
    paths = api.get("/openapi.json").get_json()["paths"]
    assert {"/calls", "/calls/{call_sid}", "/calls/{call_sid}/case", "/calls/figures",
            "/knowledge"} <= set(paths)
