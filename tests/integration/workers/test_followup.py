"""The citizen hears of each step and is asked for a rating after closing: messages written in
the action's transaction, sent by real RQ workers through the real Twilio and WeChat clients
to local servers that check what they got."""

from __future__ import annotations

import datetime as dt
import re

from twilio.request_validator import RequestValidator

from hotline import surveys
from hotline.extensions import db
from hotline.models import CallbackTask, Survey

from .conftest import OPENID, PUBLIC, outbox, work

MOBILE = "+8613985012345"
LINE_NUMBER = "+8685186894627"  # 省长直通车


def sms_bodies(fake_twilio, to: str = MOBILE) -> list[str]:
    return [m["body"] for m in fake_twilio.messages if m["to"] == to]


def test_citizen_is_told_of_dispatch_reply_and_closure_and_asked_to_rate_by_sms(
        closed_case, app, fake_twilio):
    case = closed_case()
    work(app)

    bodies = sms_bodies(fake_twilio)
    assert len(bodies) == 4, bodies
    dispatched, replied, closed, survey = bodies
    assert case["number"] in dispatched and "贵州省人力资源和社会保障厅" in dispatched
    assert "办理时限至" in dispatched and dispatched.startswith("【服务民营企业省长直通车】")
    assert "作出答复" in replied
    assert "已办结" in closed and "工程款将于本月底前分两期支付完毕" in closed
    assert "回复1满意，2基本满意，3不满意" in survey
    assert re.search(re.escape(PUBLIC) + r"/survey/[\w.-]+", survey)
    assert {m["from"] for m in fake_twilio.messages} == {LINE_NUMBER}
    rows = outbox(case["number"])
    assert [(r.purpose, r.status) for r in rows] == [("notify", "sent")] * 3 + [("survey", "sent")]
    assert all(r.provider_id and r.provider_id.startswith("SM") for r in rows)


def test_survey_link_in_the_message_opens_the_survey_of_that_case(closed_case, app):
    case = closed_case()
    message = next(r for r in outbox(case["number"]) if r.purpose == "survey")
    token = message.text.rsplit("/survey/", 1)[1]
    survey = surveys.survey_from_token(token)
    assert survey is not None and survey.case.number == case["number"]
    assert message.payload["template"]["url"].endswith(token)


def test_wechat_citizen_gets_customer_service_messages_within_48_hours(
        new_case, step, app, fake_wechat):
    case = new_case(channel="wechat", citizen={"name": "李秀英", "openid": OPENID})
    step(case["number"], "dispatch", {"department": "gz-hrss"})
    work(app)

    sent = fake_wechat.sent_to(OPENID)
    assert [m["kind"] for m in sent] == ["custom"]
    assert case["number"] in sent[0]["text"]["content"]
    assert "已转交贵州省人力资源和社会保障厅办理" in sent[0]["text"]["content"]


def test_wechat_citizen_silent_for_three_days_gets_a_template_message(
        new_case, step, app, fake_wechat):
    three_days_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).isoformat()
    case = new_case(channel="wechat", citizen={"openid": OPENID}, received_at=three_days_ago)
    step(case["number"], "dispatch", {"department": "gz-hrss"})
    work(app)

    sent = fake_wechat.sent_to(OPENID)
    assert [m["kind"] for m in sent] == ["template"]
    assert sent[0]["template_id"] == "TM-case-progress"
    assert case["number"] in sent[0]["data"]["content"]["value"]
    assert outbox(case["number"])[0].provider_id == str(sent[0]["msgid"])


def test_citizen_with_only_a_landline_is_rung_and_then_put_on_the_operators_call_back_list(
        closed_case, app, api, tokens, fake_twilio):
    app.config["SURVEY_CALL_HOURS"] = (0, 24)  # ring now, whatever the hour the test runs
    case = closed_case(citizen={"name": "张大伯", "phone": "0851-86812345"})
    work(app)

    assert fake_twilio.messages == []  # a landline takes no SMS: an automated survey call
    [call] = fake_twilio.calls
    assert (call["to"], call["from"]) == ("+8685186812345", LINE_NUMBER)
    assert call["_url"].startswith(f"{PUBLIC}/channels/twilio/survey-call?s=")
    assert api.get("/callbacks", tokens.operator).get_json()["items"] == []

    # Nobody picks up: Twilio says so on the status callback, and an operator takes over.
    status_url = call["_status_callback"]
    params = {"CallSid": call["sid"], "CallStatus": "no-answer", "AccountSid": call["account_sid"]}
    signature = RequestValidator(fake_twilio.auth_token).compute_signature(status_url, params)
    path = status_url.removeprefix(PUBLIC)
    for _ in range(2):  # Twilio retrying the callback: still one task
        resp = app.test_client().post(path, data=params,
                                      headers={"X-Twilio-Signature": signature})
        assert resp.status_code == 200
    tasks = api.get("/callbacks", tokens.operator).get_json()["items"]
    assert "无人接听" in tasks[0]["reason"]
    # The call is not left on the dead-letter list for someone to ring again.
    dead = api.get("/supervision/dead-letters", tokens.operator).get_json()["items"]
    assert dead == []
    [row] = [r for r in outbox(case["number"]) if r.channel == "voice"]
    assert row.status == "cancelled" and "已转人工回访" in row.note
    assert [(t["case"], t["kind"], t["phone"]) for t in tasks] == \
        [(case["number"], "survey", "+8685186812345")]

    done = api.post(f"/callbacks/{tasks[0]['id']}/done", tokens.operator,
                    {"rating": "basically_satisfied", "comment": "钱到了一半", "note": "本人接听"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "done"
    answers = api.get(f"/cases/{case['number']}/surveys", tokens.operator).get_json()["items"]
    assert [(a["rating"], a["label"], a["answer_channel"], a["comment"]) for a in answers] == \
        [("basically_satisfied", "基本满意", "phone", "钱到了一半")]
    assert api.get("/callbacks", tokens.operator).get_json()["items"] == []


def test_survey_call_back_done_without_a_rating_is_refused(closed_case, app, api, tokens):
    app.config["TWILIO_ACCOUNT_SID"] = None  # no automated calls: operators ring landlines
    closed_case(citizen={"phone": "0851-86812345"})
    task = api.get("/callbacks", tokens.operator).get_json()["items"][0]
    assert task["kind"] == "survey" and task["phone"] == "+8685186812345"
    resp = api.post(f"/callbacks/{task['id']}/done", tokens.operator, {"note": "已回访"})
    assert resp.status_code == 400
    assert "rating" in resp.get_json()["error"]["fields"]
    unreached = api.post(f"/callbacks/{task['id']}/done", tokens.operator,
                         {"reached": False, "note": "三次无人接听"})
    assert unreached.status_code == 200
    assert unreached.get_json()["note"] == "未接通：三次无人接听"
    again = api.post(f"/callbacks/{task['id']}/done", tokens.operator, {"reached": False})
    assert again.status_code == 409


def test_unsatisfied_answer_goes_to_the_supervisor_who_reopens_and_the_case_is_surveyed_again(
        closed_case, step, app, api, tokens, fake_twilio):
    case = closed_case()
    survey = surveys.open_survey_for(phone="13985012345")
    surveys.record_answer(survey, *surveys.parse_rating("3 工程款到现在还没付"), channel="sms")
    db.session.commit()

    waiting = api.get("/supervision/unsatisfied", tokens.supervisor).get_json()
    assert [(s["case"], s["label"], s["comment"]) for s in waiting["items"]] == \
        [(case["number"], "不满意", "工程款到现在还没付")]
    assert api.get("/supervision/unsatisfied", tokens.operator).status_code == 403

    step(case["number"], "reopen", {"reason": "群众不满意，工程款未付"}, as_="supervisor")
    assert api.get("/supervision/unsatisfied", tokens.supervisor).get_json()["items"] == []
    step(case["number"], "dispatch", {"department": "gz-hrss"})
    step(case["number"], "accept", as_="handler")
    step(case["number"], "reply", {"text": "工程款已全部支付到位。"}, as_="handler")
    step(case["number"], "review", {"approve": True}, as_="supervisor")
    step(case["number"], "close")
    work(app)

    rounds = api.get(f"/cases/{case['number']}/surveys", tokens.supervisor).get_json()["items"]
    assert [(r["round"], r["rating"]) for r in rounds] == [(1, "unsatisfied"), (2, None)]
    bodies = sms_bodies(fake_twilio)
    assert sum("回复1满意" in b for b in bodies) == 2
    assert any("已重新交办" in b for b in bodies)


def test_unsatisfied_answer_explained_to_the_citizen_leaves_the_list_with_a_note(
        closed_case, api, tokens):
    case = closed_case()
    survey = surveys.open_survey_for(phone="13985012345")
    surveys.record_answer(survey, "unsatisfied", None, "sms")
    db.session.commit()

    resp = api.post(f"/surveys/{survey.id}/handled", tokens.supervisor,
                    {"note": "已电话解释：工程款支付属合同纠纷，已告知司法途径"})
    assert resp.status_code == 200
    assert api.get("/supervision/unsatisfied", tokens.supervisor).get_json()["items"] == []
    handled = api.get("/supervision/unsatisfied?handled=true", tokens.supervisor).get_json()
    assert [s["case"] for s in handled["items"]] == [case["number"]]
    events = api.get(f"/cases/{case['number']}", tokens.supervisor).get_json()["events"]
    assert events[-1]["action"] == "survey_handled"
    assert api.post(f"/surveys/{survey.id}/handled", tokens.supervisor,
                    {"note": "再次"}).status_code == 409


def test_information_only_case_is_announced_once_and_not_surveyed(new_case, step, app,
                                                                   fake_twilio):
    case = new_case(category="suggestion", content="建议省里多组织民营企业政策宣讲会。")
    step(case["number"], "dispatch", {"department": "gz-industry", "kind": "inform"})
    step(case["number"], "accept", as_="admin")
    work(app)

    bodies = sms_bodies(fake_twilio)
    assert len(bodies) == 1 and "参阅" in bodies[0]
    assert db.session.query(Survey).count() == 0


def test_citizen_without_any_contact_is_not_surveyed(closed_case, app):
    case = closed_case(citizen={"name": "匿名"})
    assert outbox(case["number"]) == []
    assert db.session.query(Survey).count() == 0
    assert db.session.query(CallbackTask).count() == 0


def test_second_reply_after_a_review_rejection_tells_the_citizen_nothing_new(
        new_case, step, app, fake_twilio):
    case = new_case()
    number = case["number"]
    step(number, "dispatch", {"department": "gz-hrss"})
    step(number, "accept", as_="handler")
    step(number, "reply", {"text": "已转区住建局核实。"}, as_="handler")
    step(number, "review", {"approve": False, "note": "答复过于简单，请写明付款时间"},
         as_="supervisor")
    step(number, "reply", {"text": "区住建局已制定付款计划，工程款将于本月底前付清。"},
         as_="handler")
    step(number, "review", {"approve": True}, as_="supervisor")
    step(number, "close")
    work(app)

    bodies = sms_bodies(fake_twilio)
    assert sum("作出答复，正在审核" in b for b in bodies) == 1, bodies
    assert len(bodies) == 4 and "本月底前付清" in bodies[2]

    # A new round (重办) is news: its reply is told again.
    step(number, "reopen", {"reason": "群众反映工程款仍未支付"}, as_="supervisor")
    step(number, "dispatch", {"department": "gz-hrss"})
    step(number, "accept", as_="handler")
    step(number, "reply", {"text": "工程款已全部付清。"}, as_="handler")
    work(app)
    bodies = sms_bodies(fake_twilio)
    assert sum("作出答复，正在审核" in b for b in bodies) == 2, bodies


def test_case_returned_and_dispatched_again_to_the_same_department_is_announced_once(
        new_case, step, app, fake_twilio):
    number = new_case()["number"]
    step(number, "dispatch", {"department": "gz-hrss"})
    step(number, "return", {"reason": "请核实企业所在地"}, as_="handler")
    step(number, "dispatch", {"department": "gz-hrss"})
    work(app)
    assert sum("已转交" in b for b in sms_bodies(fake_twilio)) == 1

    step(number, "return", {"reason": "属地管理，应由贵阳市办理"}, as_="handler")
    step(number, "dispatch", {"department": "gov-520100"})
    work(app)
    told = [b for b in sms_bodies(fake_twilio) if "已转交" in b]
    assert len(told) == 2 and "贵阳市人民政府" in told[1]


def test_reopening_before_the_citizen_answered_withdraws_the_survey_and_its_reminder(
        closed_case, step, app, fake_twilio):
    from workers.sweeps import remind_surveys

    case = closed_case()
    step(case["number"], "reopen", {"reason": "督查发现工程款仍未支付"}, as_="supervisor")
    work(app)
    rows = outbox(case["number"])
    [survey_row] = [r for r in rows if r.purpose == "survey"]
    assert survey_row.status == "cancelled"
    assert not any("回复1满意" in b for b in sms_bodies(fake_twilio))

    # Closed again: the new round is surveyed; the old round is never reminded.
    step(case["number"], "dispatch", {"department": "gz-hrss"})
    step(case["number"], "accept", as_="handler")
    step(case["number"], "reply", {"text": "工程款已全部付清。"}, as_="handler")
    step(case["number"], "review", {"approve": True}, as_="supervisor")
    step(case["number"], "close")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    assert remind_surveys(later) == 1
    reminders = [r for r in outbox(case["number"]) if r.purpose == "remind"]
    old, new = db.session.query(Survey).order_by(Survey.round).all()
    assert [r.dedupe_key for r in reminders] == [f"survey-remind:{new.id}"]
    assert old.superseded_at is not None and new.superseded_at is None
