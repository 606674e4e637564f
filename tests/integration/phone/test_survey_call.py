"""The automated survey call for citizens without WeChat: placed through Twilio's REST API (real
client, local fake server), the question in Mandarin with <Gather numDigits=1>, the key pressed
recorded on the case — and Twilio's delivery callbacks for what the workers sent."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from channels.phone.survey_call import (
    SURVEY_CALL_HOURS,
    calling_time,
    enqueue_survey_call,
    place_survey_call,
    survey_call_url,
)
from channels.senders import TwilioCallSender
from hotline.domain.deadlines import PROVINCE_TZ
from hotline.extensions import db
from hotline.models import CallbackTask, Case, CaseEvent, OutboxMessage, Survey
from hotline.models.types import utcnow
from tests.fakeservers import FakeTwilio

from .conftest import ACCOUNT_SID, AUTH_TOKEN, CALLER, PUBLIC_BASE, ZHITONGCHE, spoken

CALLBACK = "CA" + "5" * 32


@pytest.fixture
def survey(phone_app, new_case, api, tokens) -> Survey:
    phone_app.config["SURVEY_CALL_PHONE_CALLERS"] = True
    case = new_case(citizen={"name": "王建国", "phone": CALLER})
    api.post(f"/cases/{case['number']}/answer", tokens.operator,
             {"text": "已协调区住建局，拖欠工程款将于本月底前结清。"})
    api.post(f"/cases/{case['number']}/close", tokens.operator, {})
    # The caller rang the line, and this centre surveys callers by a call.
    row = db.session.scalar(select(Case).where(Case.number == case["number"]))
    survey = db.session.scalar(select(Survey).where(Survey.case_id == row.id))
    assert (survey.channel, survey.recipient) == ("voice", CALLER)
    return survey


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def survey_events() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.action == "survey"))


def test_survey_call_is_placed_asks_in_mandarin_and_records_the_key_pressed(survey, twilio):
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        sender = TwilioCallSender(ACCOUNT_SID, AUTH_TOKEN, base_url=fake.url)
        result = place_survey_call(survey, sender, key="outbox-41")
        placed = fake.calls[0]
    assert result.provider_id == placed["sid"]
    assert (placed["to"], placed["from"]) == (CALLER, ZHITONGCHE)
    assert placed["_url"] == survey_call_url(survey)
    assert placed["_url"].startswith(f"{PUBLIC_BASE}/channels/twilio/survey-call?s=")

    # Twilio fetches the TwiML when the citizen picks up.
    params = {"AccountSid": ACCOUNT_SID, "CallSid": CALLBACK, "From": ZHITONGCHE, "To": CALLER,
              "CallStatus": "in-progress", "Direction": "outbound-api"}
    root = twilio.twiml(path_of(placed["_url"]), params)
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    question = gather.find("Say")
    assert question.get("voice") == "Polly.Zhiyu" and question.get("language") == "cmn-CN"
    assert "满意请按1" in question.text and "基本满意请按2" in question.text
    assert "不满意请按3" in question.text and "服务民营企业省长直通车" in question.text

    answered = twilio.twiml(path_of(gather.get("action")), {**params, "Digits": "2"})
    assert "基本满意" in spoken(answered) and answered[-1].tag == "Hangup"
    db.session.expire_all()
    assert (survey.rating, survey.answer_channel) == ("basically_satisfied", "voice")
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.action == "survey"))
    assert event.data["rating"] == "basically_satisfied" and event.actor == "citizen:voice"

    # Twilio repeating the key press: the same thanks, nothing recorded twice.
    again = twilio.twiml(path_of(gather.get("action")), {**params, "Digits": "2"})
    assert spoken(again) == spoken(answered)
    assert survey_events() == 1


def test_wrong_key_asks_again_and_silence_ends_politely(survey, twilio):
    url = path_of(survey_call_url(survey))
    params = {"CallSid": CALLBACK, "From": ZHITONGCHE, "To": CALLER}
    first = twilio.twiml(url, params)
    assert first.find("Redirect") is not None  # no key: asked once more

    wrong = twilio.twiml(path_of(first.find("Gather").get("action")), {**params, "Digits": "7"})
    assert "按键无效" in spoken(wrong)
    second = twilio.twiml(path_of(wrong.find("Redirect").text), params)
    assert second.find("Redirect") is None and second[-1].tag == "Hangup"
    assert survey_events() == 0


def test_survey_answered_meanwhile_by_sms_is_not_asked_again(survey, twilio):
    from hotline.surveys import record_answer

    record_answer(survey, "satisfied", None, "sms")
    db.session.commit()
    root = twilio.twiml(path_of(survey_call_url(survey)), {"CallSid": CALLBACK})
    assert root.find("Gather") is None and "已完成本次评价" in spoken(root)


def test_forged_survey_token_is_answered_without_recording_anything(survey, twilio):
    root = twilio.twiml("/channels/twilio/survey-call/answer?s=forged", {"CallSid": CALLBACK,
                                                                         "Digits": "3"})
    assert "有误" in spoken(root) and survey_events() == 0


def test_survey_call_goes_into_the_outbox_once_with_its_twiml_url(survey):
    first = enqueue_survey_call(survey)
    db.session.commit()
    second = enqueue_survey_call(survey)
    db.session.commit()
    assert first.id == second.id
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "voice")).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.purpose, row.recipient, row.case_id) == ("survey", CALLER, survey.case_id)
    assert row.payload["twiml_url"] == survey_call_url(survey)
    assert row.payload["from_number"] == ZHITONGCHE


# --- delivery callbacks of what the workers sent ------------------------------------------------

def outbox_row(status: str) -> OutboxMessage:
    row = OutboxMessage(channel="sms", purpose="ack", recipient=CALLER, text="【扶贫专线】您好",
                        status=status, attempts=1, next_attempt_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row


def test_delivery_callback_settles_a_row_left_in_sending(twilio):
    row = outbox_row("sending")
    resp = twilio.post(f"/channels/twilio/outbox-status?outbox_key={row.id}",
                       {"MessageSid": "SM" + "7" * 32, "MessageStatus": "sent",
                        "AccountSid": ACCOUNT_SID})
    assert resp.status_code == 200
    db.session.expire_all()
    assert (row.status, row.provider_id) == ("sent", "SM" + "7" * 32)
    twilio.post(f"/channels/twilio/outbox-status?outbox_key={row.id}",
                {"MessageSid": "SM" + "7" * 32, "MessageStatus": "delivered"})
    db.session.expire_all()
    assert row.status == "sent" and row.payload["delivery"]["status"] == "delivered"


def test_undelivered_sms_is_shown_to_staff_with_twilios_reason(twilio):
    row = outbox_row("sent")
    twilio.post(f"/channels/twilio/outbox-status?outbox_key={row.id}",
                {"MessageSid": "SM" + "8" * 32, "MessageStatus": "undelivered",
                 "ErrorCode": "30003"})
    db.session.expire_all()
    assert row.status == "dead" and "30003" in row.last_error and "未送达" in row.last_error


def test_forged_delivery_callback_changes_nothing(twilio):
    row = outbox_row("sending")
    params = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}
    path = f"/channels/twilio/outbox-status?outbox_key={row.id}"
    forged = twilio.sign(path, params, token="nope")
    assert twilio.post(path, params, signature=forged).status_code == 403
    db.session.expire_all()
    assert (row.status, row.provider_id) == ("sending", None)


def test_delivery_callback_answers_the_question_a_cut_off_attempt_left(twilio):
    row = outbox_row("unknown")
    row.maybe_sent = True
    db.session.commit()
    twilio.post(f"/channels/twilio/outbox-status?outbox_key={row.id}",
                {"MessageSid": "SM" + "6" * 32, "MessageStatus": "delivered"})
    db.session.expire_all()
    assert (row.status, row.maybe_sent, row.provider_id) == ("sent", False, "SM" + "6" * 32)


# --- who is asked by a call, and when -----------------------------------------------------------

LANDLINE = "0851-85551234"


def close(api, tokens, number: str) -> None:
    api.post(f"/cases/{number}/answer", tokens.operator,
             {"text": "已核实，相关补贴已于本周发放到位。"})
    resp = api.post(f"/cases/{number}/close", tokens.operator, {})
    assert resp.status_code == 200, resp.get_json()


def survey_rows(number: str) -> list[OutboxMessage]:
    case = db.session.scalar(select(Case).where(Case.number == number))
    return db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.case_id == case.id, OutboxMessage.purpose == "survey")).all()


def test_landline_caller_is_surveyed_by_a_call_rung_in_daytime(phone_app, new_case, api, tokens):
    case = new_case(citizen={"name": "杨秀英", "phone": LANDLINE})
    close(api, tokens, case["number"])
    [row] = survey_rows(case["number"])
    assert (row.channel, row.recipient) == ("voice", "+868518555" + "1234")
    assert row.payload["twiml_url"].startswith(f"{PUBLIC_BASE}/channels/twilio/survey-call?s=")
    local = row.next_attempt_at.astimezone(PROVINCE_TZ)
    assert SURVEY_CALL_HOURS[0] <= local.hour + local.minute / 60 < SURVEY_CALL_HOURS[1]
    survey = db.session.scalar(select(Survey).where(Survey.case_id == row.case_id))
    assert survey.channel == "voice" and survey.sent_at == row.next_attempt_at


def test_survey_call_closed_outside_calling_hours_waits_for_them(phone_app, new_case, api,
                                                                  tokens):
    # Calling hours that begin two hours from now: the call must wait, whatever the time of day.
    start = (utcnow().astimezone(PROVINCE_TZ).hour + 2) % 24
    phone_app.config["SURVEY_CALL_HOURS"] = (start, start + 1)
    case = new_case(citizen={"name": "杨秀英", "phone": LANDLINE})
    close(api, tokens, case["number"])
    [row] = survey_rows(case["number"])
    local = row.next_attempt_at.astimezone(PROVINCE_TZ)
    assert (local.hour, local.minute) == (start, 0)
    assert row.next_attempt_at > utcnow() + dt.timedelta(minutes=60)


def test_mobile_caller_gets_the_sms_survey_unless_the_centre_surveys_callers_by_call(
        phone_app, new_case, api, tokens):
    first = new_case()
    close(api, tokens, first["number"])
    assert [r.channel for r in survey_rows(first["number"])] == ["sms"]

    phone_app.config["SURVEY_CALL_PHONE_CALLERS"] = True
    second = new_case(content="村里的产业扶贫项目资金至今未到位，合作社无法开工，请帮忙督促。")
    close(api, tokens, second["number"])
    assert [r.channel for r in survey_rows(second["number"])] == ["voice"]
    web = new_case(channel="web", content="网上留言：小区门口道路破损半年无人修补。")
    close(api, tokens, web["number"])
    assert [r.channel for r in survey_rows(web["number"])] == ["sms"]


@pytest.mark.parametrize(("at", "rung"), [
    ("2026-12-01T23:40:00+08:00", "2026-12-02T08:30:00+08:00"),
    ("2026-12-02T06:10:00+08:00", "2026-12-02T08:30:00+08:00"),
    ("2026-12-02T14:05:00+08:00", "2026-12-02T14:05:00+08:00"),
    ("2026-12-02T20:00:00+08:00", "2026-12-03T08:30:00+08:00"),
])
def test_survey_calls_wait_for_calling_hours(at, rung):
    assert calling_time(dt.datetime.fromisoformat(at)) == dt.datetime.fromisoformat(rung)


def test_survey_call_nobody_answered_becomes_an_operators_callback_task(
        phone_app, new_case, api, tokens):
    from workers.sweeps import remind_surveys

    case = new_case(citizen={"name": "杨秀英", "phone": LANDLINE})
    close(api, tokens, case["number"])
    later = utcnow() + dt.timedelta(days=4)
    assert remind_surveys(later) == 1
    assert remind_surveys(later + dt.timedelta(days=1)) == 0
    tasks = db.session.scalars(select(CallbackTask).where(CallbackTask.kind == "survey")).all()
    assert len(tasks) == 1 and tasks[0].case.number == case["number"]
    assert "自动回访电话未获评价" in tasks[0].reason
    # No second call and no SMS to a landline.
    assert [r.channel for r in survey_rows(case["number"])] == ["voice"]
    resp = api.get("/callbacks?kind=survey", tokens.operator)
    assert resp.status_code == 200
    assert case["number"] in resp.get_data(as_text=True)
